// Detection quality on the sandbox (a shorter `npm run bench:flows`): per seed, six simulated hours
// of normal traffic of a few dozen workloads while the analyzer learns (3 h) and then enforces, then
// a compromised payments/checkout pod scans, calls 185.220.101.47:4444 and tunnels through DNS, one
// after another. Each intrusion is named by its own detector; normal traffic raises at most one
// quarantine-level detection per simulated day.
import { beforeAll, describe, expect, it } from "vitest";
import {
  ATTACKER,
  EXPECTED_DETECTOR,
  formatQuality,
  INTRUSION_KINDS,
  proposalsPerDay,
  quality,
  runSandbox,
  windowOf,
  type QualityReport,
  type RunResult,
} from "../support/intrusion-runs.js";

const SEEDS = [11, 12];

describe("intrusions in sandbox traffic", () => {
  const runs: RunResult[] = [];
  let q: QualityReport;

  beforeAll(async () => {
    for (const seed of SEEDS)
      runs.push(
        await runSandbox({
          seed,
          normalHours: 6,
          learnHours: 3,
          intrusions: INTRUSION_KINDS,
          intrusionMinutes: 10,
          gapMinutes: 30,
        }),
      );
    q = quality(runs);
  }, 90_000);

  it("reads every sandbox flow", () => {
    for (const r of runs) {
      expect(r.flows).toBeGreaterThan(50_000);
      expect(r.rejected).toBe(0);
    }
  });

  it("names the attacker with each intrusion's own detector, every time (recall 100 %)", () => {
    for (const p of q.perIntrusion) {
      expect(p.runs, p.kind).toBe(SEEDS.length);
      expect(p.caughtByExpected, `${p.kind}: ${formatQuality(q).join("\n")}`).toBe(p.runs);
    }
    const egress = runs.flatMap((r) =>
      r.detections.filter(
        (d) => d.detector === EXPECTED_DETECTOR.egress && windowOf(d, r)?.kind === "egress",
      ),
    );
    expect(egress[0]).toMatchObject({ identity: ATTACKER, reason: "new_external_destination" });
    expect(egress[0]?.message).toContain("185.220.101.47:4444");
  });

  it("proposes at most one false quarantine per simulated day", () => {
    expect(proposalsPerDay(q), formatQuality(q).join("\n")).toBeLessThanOrEqual(1);
  });

  it("has no detection outside the intrusions from the scan, new-egress and dns-exfil detectors", () => {
    for (const r of runs)
      for (const d of r.detections)
        if (["scan", "new-egress", "dns-exfil"].includes(d.detector))
          expect(windowOf(d, r), d.message).toBeDefined();
  });
});
