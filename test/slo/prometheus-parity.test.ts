// slo-check's numbers against Prometheus's own: 31 days of request counters backfilled into a
// real Prometheus 2.42 (promtool tsdb create-blocks-from openmetrics), the rules `prophet slo
// rules` generates loaded and evaluated by Prometheus every second, then for each recorded
// sample the function evaluates at that sample's exact timestamp and must agree within 1e-9
// relative: every window's error ratio, the period ratio, the current burn rate and the budget.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prometheusMetrics } from "../../shared/metrics/prometheus.js";
import { seededRandom } from "../../shared/random.js";
import { evaluateSlos } from "../../shared/slo/evaluate.js";
import { durationText, sliWindowsSeconds, type SloSpec } from "../../shared/slo/model.js";
import { generateRules } from "../../shared/slo/rules.js";
import { parseSloDocuments } from "../../shared/slo/spec/index.js";
import {
  PROMETHEUS_BIN,
  PROMTOOL_BIN,
  missingBinaries,
  startPrometheus,
  until,
  type RunningProcess,
} from "../integration/support-processes.js";

const run = promisify(execFile);
const missing = missingBinaries(PROMETHEUS_BIN, PROMTOOL_BIN);

const STEP_S = 60;
const DAYS = 31;

/** Counters of a service with a daily cycle, an error episode 10 days ago and a burn now. */
function openMetrics(endS: number): string {
  const rnd = seededRandom(7);
  const startS = endS - DAYS * 86_400;
  const counts = { "200": 0, "500": 0, "429": 0 };
  const lines: Record<string, string[]> = { "200": [], "500": [], "429": [] };
  for (let t = startS; t <= endS; t += STEP_S) {
    const hour = (t % 86_400) / 3600;
    const rps = 40 + 25 * Math.sin((2 * Math.PI * hour) / 24) + 5 * rnd();
    const n = rps * STEP_S;
    const ago = endS - t;
    const errRatio = ago < 2 * 3600 ? 0.02 : ago > 10 * 86_400 && ago < 11 * 86_400 ? 0.003 : 0.0004;
    const errors = n * errRatio * (0.5 + rnd());
    const throttled = n * 0.0002 * rnd();
    counts["500"] += Math.round(errors);
    counts["429"] += Math.round(throttled);
    counts["200"] += Math.round(n - errors - throttled);
    for (const code of ["200", "500", "429"] as const)
      lines[code]!.push(
        `http_request_duration_seconds_count{job="myservice",code="${code}"} ${counts[code]} ${t}`,
      );
  }
  return [
    "# TYPE http_request_duration_seconds_count counter",
    ...lines["200"]!,
    ...lines["500"]!,
    ...lines["429"]!,
    "# EOF",
    "",
  ].join("\n");
}

const openSloSpec = `apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
spec:
  service: checkout
  indicator:
    metadata:
      name: checkout-good-ratio
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_request_duration_seconds_count{job="myservice",code="200"}[{{.window}}]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: Good responses
      target: 0.995
`;

interface RawSample {
  t: number;
  v: number;
}

describe.skipIf(missing.length > 0)("SLO evaluation equals Prometheus's recording rules", () => {
  let dir = "";
  let prometheus: RunningProcess | undefined;
  let slos: SloSpec[] = [];

  /** The raw samples of one recorded series over the last minute (a range selector). */
  async function samples(selector: string): Promise<RawSample[]> {
    const url = `${prometheus!.url}/api/v1/query?query=${encodeURIComponent(`${selector}[2m]`)}`;
    const body = (await (await fetch(url)).json()) as {
      data: { result: { metric: Record<string, string>; values: [number, string][] }[] };
    };
    return (body.data.result[0]?.values ?? []).map(([t, v]) => ({ t, v: Number(v) }));
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "prophet-slo-parity-"));
    const endS = Math.floor(Date.now() / 1000 / STEP_S) * STEP_S - STEP_S;
    writeFileSync(join(dir, "history.om.txt"), openMetrics(endS));
    await run(
      PROMTOOL_BIN,
      ["tsdb", "create-blocks-from", "openmetrics", join(dir, "history.om.txt"), join(dir, "prometheus")],
      { maxBuffer: 1 << 24 },
    );
    const sloth = parseSloDocuments(
      readFileSync(join(__dirname, "../../../shared/samples/sloth-getting-started.spec.yml"), "utf8"),
      "sloth-getting-started.spec.yml",
    );
    const openslo = parseSloDocuments(openSloSpec, "checkout.yaml");
    expect([...sloth.errors, ...openslo.errors]).toEqual([]);
    slos = [...sloth.slos, ...openslo.slos];
    const rules = generateRules(slos, { optimizedPeriod: false });
    writeFileSync(join(dir, "slo-rules.yml"), rules);
    await run(PROMTOOL_BIN, ["check", "rules", join(dir, "slo-rules.yml")]);
    prometheus = await startPrometheus(dir, [], rules, undefined, ["--storage.tsdb.retention.time=90d"]);
    // Every SLO's SLI group and meta group has evaluated at least twice.
    for (const slo of slos)
      for (const rec of [
        "slo:sli_error:ratio_rate30d",
        "slo:sli_error:ratio_rate28d",
        "slo:period_error_budget_remaining:ratio",
      ]) {
        if (rec.includes("ratio_rate") && !rec.endsWith(durationText(slo.periodSeconds))) continue;
        await until(`${rec} of ${slo.id}`, async () =>
          (await samples(`${rec}{sloth_id="${slo.id}"}`)).length >= 2 ? true : undefined,
        );
      }
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const close = (actual: number | null, expected: number, what: string) => {
    expect(actual, what).not.toBeNull();
    const rel = Math.abs(actual! - expected) / Math.max(Math.abs(expected), 1e-300);
    expect(rel, `${what}: ${actual} vs Prometheus ${expected}`).toBeLessThanOrEqual(1e-9);
  };

  it("every window's error ratio and the period ratio, at the rule's own evaluation time", async () => {
    const metrics = prometheusMetrics({ url: prometheus!.url });
    for (const slo of slos) {
      const windows = [...sliWindowsSeconds, slo.periodSeconds];
      const recorded = new Map<number, RawSample>();
      for (const w of windows) {
        const s = await samples(`slo:sli_error:ratio_rate${durationText(w)}{sloth_id="${slo.id}"}`);
        recorded.set(w, s.at(-1)!);
      }
      // One group: every window was recorded at the same instant.
      const t = recorded.get(300)!.t;
      for (const w of windows) expect(recorded.get(w)!.t, durationText(w)).toBe(t);
      const { results } = await evaluateSlos(metrics, [slo], new Date(t * 1000));
      const ev = results.get(slo.id)!;
      expect(ev.problems).toEqual([]);
      sliWindowsSeconds.forEach((w, i) =>
        close(ev.windows[i]!.errorRatio, recorded.get(w)!.v, `${slo.id} ${durationText(w)}`),
      );
      close(ev.period.errorRatio, recorded.get(slo.periodSeconds)!.v, `${slo.id} period`);
      // The data has a burn in the last two hours: the numbers are not trivially zero.
      expect(ev.windows[2]!.errorRatio!).toBeGreaterThan(0.01);
    }
  });

  it("budget remaining and current burn rate equal the meta recordings", async () => {
    const metrics = prometheusMetrics({ url: prometheus!.url });
    for (const slo of slos) {
      const period = durationText(slo.periodSeconds);
      const budget = (await samples(`slo:period_error_budget_remaining:ratio{sloth_id="${slo.id}"}`)).at(-1)!;
      const burn = (await samples(`slo:current_burn_rate:ratio{sloth_id="${slo.id}"}`)).at(-1)!;
      // The meta group read the SLI group's latest sample at its own evaluation time; which one
      // that was depends on the two groups' schedules, so it is one of the last SLI samples
      // at or before it. The function, evaluated at that SLI sample's time, must match exactly.
      const sliTimes = (await samples(`slo:sli_error:ratio_rate${period}{sloth_id="${slo.id}"}`))
        .map((s) => s.t)
        .filter((t) => t <= budget.t)
        .slice(-3);
      const candidates = [];
      for (const t of sliTimes) {
        const ev = (await evaluateSlos(metrics, [slo], new Date(t * 1000))).results.get(slo.id)!;
        candidates.push(ev);
      }
      const rel = (a: number | null, b: number) =>
        Math.abs((a ?? Infinity) - b) / Math.max(Math.abs(b), 1e-300);
      const match = candidates.find(
        (ev) => rel(ev.budgetRemaining, budget.v) <= 1e-9 && rel(ev.currentBurnRate, burn.v) <= 1e-9,
      );
      expect(
        match,
        `${slo.id}: Prometheus budget ${budget.v}, burn ${burn.v}; function ${candidates.map((c) => `${c.budgetRemaining}/${c.currentBurnRate}`).join(", ")}`,
      ).toBeDefined();
      expect(match!.budgetRemaining!).toBeLessThan(1);
    }
  });
});
