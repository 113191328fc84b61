// The capacity dashboard (manifests/grafana/capacity-forecast.json) reads only what Prophet's host
// exports: every query parses as PromQL once Grafana's variables are substituted and names only
// metrics the /metrics registry serves, and those gauges carry forecast-scaling's saved state.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePromQL } from "../../infra/sandbox/metrics/promql/index.js";
import { createHostMetrics } from "../../infra/local/metrics.js";
import { initialForecastState, saveForecastState } from "../../shared/capacity/state.js";
import type { Store } from "../../shared/ports/store.js";
import { openStore } from "../../shared/store/open.js";

type Obj = Record<string, unknown>;
const rec = (v: unknown): Obj => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(rec) : []);
const dashboard = rec(
  JSON.parse(
    readFileSync(new URL("../../manifests/grafana/capacity-forecast.json", import.meta.url), "utf8"),
  ),
);

function substitute(expr: string): string {
  const values: Record<string, string> = { cluster: "test", namespace: "shop", predictivescale: "web" };
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, a?: string, b?: string) => {
    const v = values[a ?? b ?? ""];
    if (v === undefined) throw new Error(`unknown template variable ${whole} in ${expr}`);
    return v;
  });
}

function metricNames(node: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const n of node) metricNames(n, out);
  else if (typeof node === "object" && node !== null) {
    const o = node as Obj;
    if (o.type === "vectorSelector" && typeof o.name === "string") out.add(o.name);
    for (const v of Object.values(o)) metricNames(v, out);
  }
  return out;
}

const exprs = [
  ...arr(dashboard.panels).flatMap((p) => arr(p.targets).map((t) => String(t.expr))),
  ...arr(rec(dashboard.templating).list)
    .filter((v) => v.type === "query")
    .map((v) => /^label_values\((.+),\s*\w+\)$/.exec(String(v.query))![1]!),
];

describe("capacity forecast dashboard", () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore({ dataDir: "memory" });
  });
  afterAll(async () => {
    await store.close();
  });

  it("queries parse and name only metrics Prophet's /metrics serves", async () => {
    const { registry } = createHostMetrics(store);
    const served = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
    const used = new Set<string>();
    for (const e of exprs) metricNames(parsePromQL(substitute(e)), used);
    expect(used.size).toBeGreaterThan(8);
    expect([...used].filter((n) => !served.has(n))).toEqual([]);
    for (const p of arr(dashboard.panels))
      expect(rec(p.datasource).uid, String(p.title)).toBe("${datasource}");
  });

  it("the gauges carry the last evaluation of each PredictiveScale", async () => {
    const state = initialForecastState();
    state.last = {
      current: 12,
      target: 17,
      bufferReplicas: 5,
      desiredReplicas: 5,
      newNodes: 2,
      leadTimeSeconds: 60,
      nodePool: "general",
      predictedPeak: { value: 40, at: "2026-01-07T07:30:00Z" },
      forNow: { mean: 11.5, lower95: 10, upper95: 13, provisioned: 16 },
      accuracy: { samples: 100, coverage: 0.97, mape: 0.04 },
    };
    await saveForecastState(store, "test", "shop/web", state, new Date("2026-01-07T07:00:00Z"));
    const text = await createHostMetrics(store).registry.metrics();
    const labels = 'cluster="test",namespace="shop",predictivescale="web",nodepool="general"';
    for (const [name, v] of [
      ["prophet_forecast_demand", 12],
      ["prophet_forecast_expected", 11.5],
      ["prophet_forecast_expected_upper95", 13],
      ["prophet_forecast_target", 17],
      ["prophet_forecast_predicted_peak", 40],
      ["prophet_capacity_buffer_replicas", 5],
      ["prophet_forecast_coverage_ratio", 0.97],
    ] as const)
      expect(text).toContain(`${name}{${labels}} ${v}`);
  });
});
