// The scenario format and pass rule of test/fixtures/diagnosis-scenarios/README.md, shared by the
// scenario test and the benchmark.
import { readdirSync, readFileSync } from "node:fs";
import { z } from "zod";
import type { DiagnosisReport } from "../../shared/diagnosis/finding.js";

const ref = z.object({ kind: z.string(), namespace: z.string().optional(), name: z.string() });
export const scenarioSchema = z.object({
  id: z.string(),
  title: z.string(),
  origin: z.string().optional(),
  expect: z.array(ref.extend({ mentions: z.array(z.string()) })),
  expectNone: z.array(ref),
  snapshot: z.unknown(),
});
export type Scenario = z.infer<typeof scenarioSchema>;

/** The project's copy of the shared scenario set (../shared/scenarios/diagnosis/, JSON reformatted). */
export const scenarioDir = new URL("../fixtures/diagnosis-scenarios/", import.meta.url);

export function loadScenarios(dir: URL = scenarioDir): Scenario[] {
  return readdirSync(dir)
    .filter((f) => /^S\d+\.json$/.test(f))
    .sort()
    .map((f) => scenarioSchema.parse(JSON.parse(readFileSync(new URL(f, dir), "utf8"))));
}

type Ref = z.infer<typeof ref>;
const same = (r: DiagnosisReport["results"][number], e: Ref) =>
  r.kind.toLowerCase() === e.kind.toLowerCase() &&
  (r.namespace ?? "") === (e.namespace ?? "") &&
  r.name === e.name;

/** The reasons a report fails a scenario; empty when it passes. */
export function grade(s: Scenario, report: DiagnosisReport): string[] {
  const failures: string[] = [];
  for (const e of s.expect) {
    const ok = report.results.some((r) => {
      if (!same(r, e)) return false;
      const text = `${r.reason} ${r.message}`.toLowerCase();
      return e.mentions.every((m) => text.includes(m.toLowerCase()));
    });
    if (!ok)
      failures.push(
        `missing ${e.kind}/${e.namespace ?? ""}/${e.name} mentioning ${JSON.stringify(e.mentions)}`,
      );
  }
  for (const e of s.expectNone)
    for (const r of report.results)
      if (same(r, e))
        failures.push(`reported ${e.kind}/${e.namespace ?? ""}/${e.name}: ${r.reason}: ${r.message}`);
  return failures;
}
