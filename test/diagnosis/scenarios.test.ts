// Every case in test/fixtures/diagnosis-scenarios/ (the project's copy of ../shared/scenarios/
// diagnosis/) through the code path of `prophet diagnose --snapshot <file> --output json`, graded
// with the README's pass rule.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runDiagnose } from "../../infra/cli/commands/diagnose.js";
import { diagnosisReportSchema, findingSchema, toReport } from "../../shared/diagnosis/finding.js";
import { grade, loadScenarios, scenarioDir } from "./pass-rule.js";

const scenarios = loadScenarios();
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

describe("diagnosis scenarios (test/fixtures/diagnosis-scenarios)", () => {
  it("finds all 32 cases", () => {
    expect(scenarios.map((s) => s.id)).toHaveLength(32);
  });

  for (const s of scenarios) {
    it(`${s.id} ${s.title}`, async () => {
      const file = fileURLToPath(new URL(`${s.id}.json`, scenarioDir));
      const findings = await runDiagnose({ snapshot: file, output: "json" });
      for (const f of findings) findingSchema.parse(f);
      const report = diagnosisReportSchema.parse(toReport(findings));
      expect(grade(s, report)).toEqual([]);
    });
  }

  it("--alert keeps the findings about the objects an Alertmanager webhook names", async () => {
    const dir = mkdtempSync(join(tmpdir(), "prophet-diag-alert-"));
    try {
      const alert = join(dir, "webhook.json");
      const webhook = JSON.parse(
        readFileSync(
          new URL("../../events/alertmanager/webhook-v4-kube-pod-crashlooping.json", import.meta.url),
          "utf8",
        ),
      ) as {
        alerts: { labels: Record<string, string> }[];
      };
      webhook.alerts = webhook.alerts.slice(0, 1).map((a) => ({
        ...a,
        labels: {
          alertname: "KubeDeploymentReplicasMismatch",
          namespace: "render",
          deployment: "frame-renderer",
        },
      }));
      writeFileSync(alert, JSON.stringify(webhook));
      const file = fileURLToPath(new URL("S09.json", scenarioDir));
      const findings = await runDiagnose({ snapshot: file, alert, output: "json" });
      expect(new Set(findings.map((f) => f.parent ?? `${f.kind}/${f.namespace}/${f.name}`))).toEqual(
        new Set(["Deployment/render/frame-renderer"]),
      );
      expect(findings).toHaveLength(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the CLI prints the JSON report on stdout", () => {
    const file = fileURLToPath(new URL("S01.json", scenarioDir));
    const out = execFileSync(
      process.execPath,
      ["bin/prophet.js", "diagnose", "--snapshot", file, "--output", "json"],
      {
        cwd: repoRoot,
        encoding: "utf8",
      },
    );
    const report = diagnosisReportSchema.parse(JSON.parse(out));
    expect(report.status).toBe("ProblemDetected");
    expect(
      grade(
        scenarios.find((s) => s.id === "S01")!,
        report,
      ),
    ).toEqual([]);
  });
});
