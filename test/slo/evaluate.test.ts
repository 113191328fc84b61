// Evaluation semantics on the sandbox's PromQL engine (the same answers as Prometheus 2.42, see
// test/sandbox/promql-prometheus.test.ts): tiers, NaN and missing data, the low-traffic guard,
// per-period factors, the change-aware page window, and batching with a broken spec isolated.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TimeSeriesStore } from "../../infra/sandbox/metrics/index.js";
import { startMetricsServer, type RunningMetricsServer } from "../../infra/sandbox/metrics/server.js";
import { prometheusMetrics } from "../../shared/metrics/prometheus.js";
import type { MetricsPort } from "../../shared/ports/metrics.js";
import { evaluateSlos, type SloEvaluation } from "../../shared/slo/evaluate.js";
import { burnFactor, burnTiers, type SloSpec } from "../../shared/slo/model.js";
import { parseSloDocuments } from "../../shared/slo/spec/index.js";

const T0 = Date.UTC(2026, 10, 1);
const END = T0 + 4 * 86_400_000;
const STEP = 30_000;

/** Counters of `service`: rps and error ratio as functions of the time before END (ms). */
function writeService(
  store: TimeSeriesStore,
  service: string,
  rps: (ago: number) => number,
  errorRatio: (ago: number) => number,
) {
  let ok = 0;
  let bad = 0;
  for (let t = T0; t <= END; t += STEP) {
    const n = rps(END - t) * (STEP / 1000);
    bad += n * errorRatio(END - t);
    ok += n * (1 - errorRatio(END - t));
    store.append({ __name__: "http_requests_total", service, code: "200" }, t, ok);
    store.append({ __name__: "http_requests_total", service, code: "500" }, t, bad);
  }
}

function slo(service: string, objective = 99.9, extra = ""): string {
  return `version: prometheus/v1
service: ${service}
slos:
  - name: availability
    objective: ${objective}
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="${service}",code="500"}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="${service}"}[{{.window}}]))
    alerting:
      name: ${service}Burn
${extra}`;
}

function specs(text: string): SloSpec[] {
  const r = parseSloDocuments(text, "test.yaml");
  expect(r.errors).toEqual([]);
  return r.slos;
}

const H = 3_600_000;

describe("evaluateSlos", () => {
  let server: RunningMetricsServer;
  let metrics: MetricsPort;
  let queries = 0;

  beforeAll(async () => {
    const store = new TimeSeriesStore({ retentionMs: 10 * 86_400_000 });
    // 20× burn for the last two hours over a quiet 0.02 %.
    writeService(
      store,
      "hot",
      () => 10,
      (ago) => (ago < 2 * H ? 0.02 : 0.0002),
    );
    // Traffic stopped four days ago: the counter is flat (rate 0, ratio 0/0).
    writeService(
      store,
      "idle",
      (ago) => (ago > 3.9 * 86_400_000 ? 5 : 0),
      () => 0.5,
    );
    // A trickle with half the requests failing: 0.002 rps = 0.6 requests in 5 minutes, 14 in 2 h.
    writeService(
      store,
      "trickle",
      () => 0.002,
      () => 0.5,
    );
    // 10 % errors for the last 30 minutes (slices of a minute are bad when < 95 % good).
    writeService(
      store,
      "flaky",
      () => 10,
      (ago) => (ago < 30 * 60_000 ? 0.1 : 0.001),
    );
    // A latency gauge at 0.2 s, 0.9 s for the last 30 minutes.
    for (let t = T0; t <= END; t += STEP)
      store.append({ __name__: "latency_seconds", service: "flaky" }, t, END - t < 30 * 60_000 ? 0.9 : 0.2);
    server = await startMetricsServer({ store, now: () => END });
    const port = prometheusMetrics({ url: server.url });
    metrics = {
      name: port.name,
      instant: (q, at) => {
        queries++;
        return port.instant(q, at);
      },
      range: (q, s, e, st) => {
        queries++;
        return port.range(q, s, e, st);
      },
    };
  });
  afterAll(() => server.close());

  const one = async (text: string, sinceChange?: number): Promise<SloEvaluation> => {
    const list = specs(text);
    const r = await evaluateSlos(metrics, list, new Date(END), {
      ...(sinceChange ? { sinceChange: new Map([[list[0]!.id, sinceChange]]) } : {}),
    });
    return r.results.get(list[0]!.id)!;
  };

  it("a 20× burn over two hours fires both page tiers and no ticket tier", async () => {
    const ev = await one(slo("hot"));
    const firing = ev.tiers.filter((t) => t.firing).map((t) => t.name);
    expect(firing).toEqual(["page-fast", "page-slow"]);
    expect(ev.firing).toBe("page");
    expect(ev.windows[0]!.burnRate).toBeCloseTo(20, 0); // 5m
    expect(ev.tiers[0]!.factor).toBeCloseTo(14.4, 10);
    // Budget: 4 days of data = the whole period so far; 2 h at 2 % + 94 h at 0.02 %.
    const expected = 1 - (2 * 0.02 + 94 * 0.0002) / 96 / 0.001;
    expect(ev.budgetRemaining!).toBeCloseTo(expected, 2);
    expect(ev.problems).toEqual([]);
  });

  it("the factors scale with the period: 28 days pages at 13.44×", async () => {
    const thirty = await one(slo("hot"));
    expect(thirty.tiers.map((t) => t.factor.toFixed(2))).toEqual(["14.40", "6.00", "3.00", "1.00"]);
    const s28 = { ...specs(slo("hot"))[0]!, periodSeconds: 28 * 86_400 };
    const ev = (await evaluateSlos(metrics, [s28], new Date(END))).results.get(s28.id)!;
    expect(ev.tiers.map((t) => t.factor.toFixed(2))).toEqual(["13.44", "5.60", "2.80", "0.93"]);
    expect(ev.period.window).toBe("28d");
    expect(burnTiers.map((t) => burnFactor(t, 28 * 86_400).toFixed(3))).toEqual([
      "13.440",
      "5.600",
      "2.800",
      "0.933",
    ]);
  });

  it("no traffic is no data, never a burn or a full budget (0/0 is NaN)", async () => {
    const ev = await one(slo("idle"));
    expect(ev.windows.every((w) => w.errorRatio === null && w.burnRate === null)).toBe(true);
    expect(ev.tiers.some((t) => t.firing)).toBe(false);
    expect(ev.currentBurnRate).toBeNull();
    // The period still holds the traffic of four days ago.
    expect(ev.period.errorRatio).toBeCloseTo(0.5, 6);
  });

  it("a series that does not exist is no data", async () => {
    const ev = await one(slo("nonexistent"));
    expect(ev.budgetRemaining).toBeNull();
    expect(ev.firing).toBeNull();
  });

  it("low traffic: a 500× burn on a few requests does not page; the reason is given", async () => {
    const ev = await one(slo("trickle"));
    const [fast, slow, ticket] = ev.tiers;
    expect(fast!.long.errorRatio!).toBeGreaterThan(0.4);
    expect(fast!.firing).toBe(false);
    expect(fast!.suppressed).toMatch(/low traffic: 7 events in 1h, 1 events in 5m \(< 10\)/);
    expect(slow!.firing).toBe(false);
    // 14 requests in 2 h and 172 in a day are enough for a ticket.
    expect(ticket!.firing).toBe(true);
    expect(ev.firing).toBe("ticket");
  });

  it("after a rollout the page tier measures the window since it (not the diluted hour)", async () => {
    // 10 minutes of a 20× burn: the hour is at ~3.5×, the 10 minutes at 20×.
    const store = new TimeSeriesStore();
    writeService(
      store,
      "fresh",
      () => 10,
      (ago) => (ago < 10 * 60_000 ? 0.02 : 0.0002),
    );
    const srv = await startMetricsServer({ store, now: () => END });
    try {
      const port = prometheusMetrics({ url: srv.url });
      const [s] = specs(slo("fresh"));
      const plain = (await evaluateSlos(port, [s!], new Date(END))).results.get(s!.id)!;
      expect(plain.tiers[0]!.firing).toBe(false);
      const aware = (
        await evaluateSlos(port, [s!], new Date(END), { sinceChange: new Map([[s!.id, 600]]) })
      ).results.get(s!.id)!;
      expect(aware.tiers[0]!.long.window).toBe("10m");
      expect(aware.tiers[0]!.firing).toBe(true);
      // A spike shorter than the short window still cannot page: both windows must burn.
      const store2 = new TimeSeriesStore();
      writeService(
        store2,
        "fresh",
        () => 10,
        (ago) => (ago > 6 * 60_000 && ago < 9 * 60_000 ? 0.05 : 0.0002),
      );
      const srv2 = await startMetricsServer({ store: store2, now: () => END });
      try {
        const spike = (
          await evaluateSlos(prometheusMetrics({ url: srv2.url }), [s!], new Date(END), {
            sinceChange: new Map([[s!.id, 600]]),
          })
        ).results.get(s!.id)!;
        expect(spike.tiers[0]!.firing).toBe(false);
      } finally {
        await srv2.close();
      }
    } finally {
      await srv.close();
    }
  });

  it("Timeslices: the share of bad one-minute slices, not of bad requests", async () => {
    const base = specs(slo("flaky"))[0]!;
    const sliced: SloSpec = {
      ...base,
      budgeting: { method: "Timeslices", sliceSeconds: 60, sliceTarget: 0.95 },
    };
    const ev = (await evaluateSlos(metrics, [sliced], new Date(END))).results.get(base.id)!;
    expect(ev.problems).toEqual([]);
    expect(ev.windows[0]!.errorRatio).toBe(1); // 5m: every slice had 10 % errors
    expect(ev.windows[2]!.errorRatio!).toBeCloseTo(0.5, 1); // 1h: half the slices
    // Occurrences on the same data: the request share.
    const plain = (await evaluateSlos(metrics, [base], new Date(END))).results.get(base.id)!;
    expect(plain.windows[2]!.errorRatio!).toBeCloseTo(0.0505, 3);
  });

  it("threshold SLIs: the share of data points where the objective's comparison fails", async () => {
    const base = specs(slo("flaky"))[0]!;
    const threshold: SloSpec = {
      ...base,
      sli: {
        type: "threshold",
        query: 'latency_seconds{service="flaky"}',
        op: "lt",
        value: 0.5,
        stepSeconds: 60,
      },
    };
    const ev = (await evaluateSlos(metrics, [threshold], new Date(END))).results.get(base.id)!;
    expect(ev.windows[0]!.errorRatio).toBe(1);
    expect(ev.windows[2]!.errorRatio!).toBeCloseTo(0.5, 1);
    expect(ev.windows[4]!.errorRatio!).toBeCloseTo(30 / 360, 2); // 6h
    expect(ev.tiers[0]!.firing).toBe(true); // no event counts: the low-traffic guard does not apply
  });

  it("batches many SLOs into few requests and isolates a spec the server refuses", async () => {
    const text = [
      slo("hot"),
      slo("idle"),
      slo("trickle"),
      slo("broken").replace(
        'sum(rate(http_requests_total{service="broken",code="500"}[{{.window}}]))',
        'sum(rate(http_requests_total{service="broken",code="500"}[{{.window}}])) +',
      ),
    ].join("---\n");
    const list = specs(text);
    queries = 0;
    const r = await evaluateSlos(metrics, list, new Date(END));
    // 4 SLOs × 8 windows × 2 queries in one request; refused, then split by SLO in halves
    // (2 + 2 requests) until the broken SLO is alone.
    expect(r.requests).toBe(queries);
    expect(r.requests).toBe(5);
    const broken = r.results.get("broken-availability")!;
    expect(broken.problems.length).toBeGreaterThan(0);
    expect(broken.firing).toBeNull();
    expect(r.results.get("hot-availability")!.firing).toBe("page");
    expect(r.results.get("hot-availability")!.problems).toEqual([]);
  });
});
