// Diagnosis benchmark: `npx tsx test/bench/diagnosis.ts [--dir <scenarios>] [--repeat <n>] [--cli]`.
// Grades every scenario of test/fixtures/diagnosis-scenarios/ (or --dir) with its README's pass
// rule and prints the time per scenario (median of --repeat in-process runs of `diagnose --snapshot`'s code
// path; with --cli, one `prophet diagnose` process per scenario, as the README runs it) and
// `diagnosis: P/N passed`.
import { execFileSync } from "node:child_process";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { runDiagnose } from "../../infra/cli/commands/diagnose.js";
import { diagnosisReportSchema, toReport, type DiagnosisReport } from "../../shared/diagnosis/finding.js";
import { grade, loadScenarios, scenarioDir } from "../diagnosis/pass-rule.js";

const { values: args } = parseArgs({
  options: {
    dir: { type: "string", default: fileURLToPath(scenarioDir) },
    repeat: { type: "string", default: "5" },
    cli: { type: "boolean", default: false },
  },
});
const dir = pathToFileURL(args.dir.endsWith("/") ? args.dir : `${args.dir}/`);
const repeat = Math.max(1, Number(args.repeat));
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "prophet-bench-diag-"));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function reportFor(file: string): Promise<{ report: DiagnosisReport; ms: number }> {
  if (args.cli) {
    const t0 = performance.now();
    const out = execFileSync(
      process.execPath,
      ["bin/prophet.js", "diagnose", "--snapshot", file, "--output", "json"],
      {
        cwd: repoRoot,
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    return { report: diagnosisReportSchema.parse(JSON.parse(out)), ms: performance.now() - t0 };
  }
  const times: number[] = [];
  let report: DiagnosisReport | undefined;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    report = toReport(await runDiagnose({ snapshot: file, output: "json" }));
    times.push(performance.now() - t0);
  }
  return { report: report!, ms: median(times) };
}

try {
  const scenarios = loadScenarios(dir);
  let passed = 0;
  let total = 0;
  for (const s of scenarios) {
    const file = join(tmp, `${s.id}-snapshot.json`);
    writeFileSync(file, JSON.stringify(s.snapshot));
    const { report, ms } = await reportFor(file);
    total += ms;
    const failures = grade(s, report);
    if (failures.length === 0) passed++;
    process.stdout.write(
      `${s.id}  ${failures.length === 0 ? "pass" : "FAIL"}  ${ms.toFixed(2).padStart(8)} ms  ${report.problems} result(s)  ${s.title}\n`,
    );
    for (const f of failures) process.stdout.write(`      ${f}\n`);
  }
  process.stdout.write(
    `total ${total.toFixed(1)} ms (${args.cli ? "one CLI process per scenario" : `median of ${repeat} in-process runs each`})\n`,
  );
  process.stdout.write(`diagnosis: ${passed}/${scenarios.length} passed\n`);
  if (passed < scenarios.length) process.exitCode = 1;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
