// The PromQL evaluator against hand-computed answers: selection, lookback and staleness, extrapolated rates,
// counter resets, regressions, histogram quantiles, aggregation, vector matching, and clear refusals.

import { describe, expect, it } from "vitest";
import { labelsToObject } from "../../infra/sandbox/metrics/labels.js";
import {
  PromQLError,
  query,
  queryRange,
  type QueryResult,
} from "../../infra/sandbox/metrics/promql/index.js";
import { TimeSeriesStore } from "../../infra/sandbox/metrics/tsdb.js";

const S = 1000;

function storeWith(series: { labels: Record<string, string>; points: [sec: number, value: number][] }[]) {
  const store = new TimeSeriesStore();
  for (const s of series) for (const [t, v] of s.points) store.append(s.labels, t * S, v);
  return store;
}

/** The vector result as {labels → value}. */
function vec(r: QueryResult): Record<string, number> {
  if (r.resultType !== "vector") throw new Error(`expected vector, got ${r.resultType}`);
  const out: Record<string, number> = {};
  for (const s of r.result) out[JSON.stringify(labelsToObject(s.metric))] = s.value;
  return out;
}

function only(r: QueryResult): number {
  const values = Object.values(vec(r));
  expect(values).toHaveLength(1);
  return values[0]!;
}

function errorOf(fn: () => unknown): PromQLError {
  try {
    fn();
  } catch (err) {
    if (err instanceof PromQLError) return err;
    throw err;
  }
  throw new Error("expected a PromQLError");
}

const every = (from: number, to: number, step: number, f: (t: number) => number): [number, number][] => {
  const out: [number, number][] = [];
  for (let t = from; t <= to; t += step) out.push([t, f(t)]);
  return out;
};

describe("instant vector selection", () => {
  const store = storeWith([
    { labels: { __name__: "up", job: "api", instance: "a" }, points: [[0, 1]] },
    { labels: { __name__: "up", job: "api-canary", instance: "b" }, points: [[100, 0]] },
    { labels: { __name__: "up", job: "db" }, points: [[50, 1]] },
  ]);

  it("takes the latest sample within the 5 minute lookback, boundary included (Prometheus 2.x)", () => {
    expect(vec(query(store, 'up{instance="a"}', 300 * S))).toEqual({
      '{"__name__":"up","instance":"a","job":"api"}': 1,
    });
    expect(vec(query(store, 'up{instance="a"}', 300 * S + 1))).toEqual({});
    expect(vec(query(store, 'up{instance="a"}', -1))).toEqual({});
  });

  it("anchors regular expressions and treats a missing label as empty", () => {
    expect(Object.keys(vec(query(store, 'up{job=~"api"}', 120 * S)))).toHaveLength(1);
    expect(Object.keys(vec(query(store, 'up{job=~"api.*"}', 120 * S)))).toHaveLength(2);
    expect(Object.keys(vec(query(store, 'up{job!~"api.*"}', 120 * S)))).toEqual([
      '{"__name__":"up","job":"db"}',
    ]);
    expect(Object.keys(vec(query(store, 'up{instance=""}', 120 * S)))).toEqual([
      '{"__name__":"up","job":"db"}',
    ]);
    expect(Object.keys(vec(query(store, 'up{instance!=""}', 120 * S)))).toHaveLength(2);
    expect(Object.keys(vec(query(store, 'up{job=~"(?i)DB"}', 120 * S)))).toHaveLength(1);
    expect(Object.keys(vec(query(store, '{__name__=~"u.", job="db"}', 120 * S)))).toHaveLength(1);
  });

  it("applies offset", () => {
    expect(vec(query(store, 'up{instance="b"} offset 1m', 130 * S))).toEqual({});
    expect(only(query(store, 'up{instance="b"} offset 1m', 160 * S))).toBe(0);
  });

  it("hides a series from its staleness marker on", () => {
    const s = storeWith([{ labels: { __name__: "g" }, points: [[0, 5]] }]);
    s.markStale({ __name__: "g" }, 60 * S);
    expect(only(query(s, "g", 59 * S))).toBe(5);
    expect(vec(query(s, "g", 60 * S))).toEqual({});
    expect(vec(query(s, "g", 120 * S))).toEqual({});
    // Range selections skip the marker itself.
    expect(only(query(s, "count_over_time(g[5m])", 120 * S))).toBe(1);
  });
});

describe("rate, increase and irate", () => {
  it("extrapolates to the range start no further than the counter's zero point", () => {
    // Samples every 15 s from t=100 to t=295, value 2·(t−100)+3. Range [0, 300].
    // Zero point 1.5 s before the first sample; end gap 5 s: increase = 390 · (195+1.5+5)/195 = 403.
    const store = storeWith([
      { labels: { __name__: "c_total" }, points: every(100, 295, 15, (t) => 2 * (t - 100) + 3) },
    ]);
    expect(only(query(store, "increase(c_total[5m])", 300 * S))).toBeCloseTo(403, 10);
    expect(only(query(store, "rate(c_total[5m])", 300 * S))).toBeCloseTo(403 / 300, 12);
  });

  it("extrapolates only half an interval when the series starts well inside the range (gauges)", () => {
    // delta: no zero-point rule. Start gap 100 s ≥ 1.1·15 → add 7.5 s; end gap 5 s → add 5 s.
    const store = storeWith([
      { labels: { __name__: "g" }, points: every(100, 295, 15, (t) => 2 * (t - 100) + 3) },
    ]);
    expect(only(query(store, "delta(g[5m])", 300 * S))).toBeCloseTo((390 * (195 + 7.5 + 5)) / 195, 10);
  });

  it("adds the value before each counter reset, with both range ends inclusive", () => {
    const store = storeWith([
      {
        labels: { __name__: "c_total", pod: "a" },
        points: [
          [0, 10],
          [15, 20],
          [30, 30],
          [45, 5],
          [60, 15],
        ],
      },
    ]);
    expect(only(query(store, "increase(c_total[1m])", 60 * S))).toBe(35);
    expect(only(query(store, "resets(c_total[1m])", 60 * S))).toBe(1);
    expect(only(query(store, "irate(c_total[1m])", 60 * S))).toBeCloseTo(10 / 15, 12);
    expect(only(query(store, "irate(c_total[1m])", 45 * S))).toBeCloseTo(5 / 15, 12);
    expect(only(query(store, "idelta(c_total[1m])", 45 * S))).toBe(-25);
    // Fewer than two samples in the window: no result.
    expect(vec(query(store, "rate(c_total[10s])", 60 * S))).toEqual({});
  });

  it("drops the metric name and keeps the other labels", () => {
    const store = storeWith([
      { labels: { __name__: "c_total", pod: "a" }, points: every(0, 300, 15, (t) => t) },
    ]);
    expect(vec(query(store, "rate(c_total[5m])", 300 * S))).toEqual({ '{"pod":"a"}': 1 });
  });
});

describe("functions over time", () => {
  const store = storeWith([
    {
      labels: { __name__: "g", pod: "a" },
      points: [
        [0, 1],
        [60, 2],
        [120, 4],
        [180, 3],
      ],
    },
    { labels: { __name__: "lin", pod: "a" }, points: every(0, 600, 60, (t) => 2 * t + 10) },
  ]);
  const at = 180 * S;

  it("computes avg, sum, min, max, count, last, quantile, stddev and stdvar", () => {
    expect(only(query(store, "avg_over_time(g[5m])", at))).toBe(2.5);
    expect(only(query(store, "sum_over_time(g[5m])", at))).toBe(10);
    expect(only(query(store, "min_over_time(g[5m])", at))).toBe(1);
    expect(only(query(store, "max_over_time(g[5m])", at))).toBe(4);
    expect(only(query(store, "count_over_time(g[5m])", at))).toBe(4);
    expect(only(query(store, "quantile_over_time(0.5, g[5m])", at))).toBe(2.5);
    expect(only(query(store, "quantile_over_time(0.9, g[5m])", at))).toBeCloseTo(3.7, 12);
    expect(only(query(store, "stdvar_over_time(g[5m])", at))).toBeCloseTo(1.25, 12);
    expect(only(query(store, "stddev_over_time(g[5m])", at))).toBeCloseTo(Math.sqrt(1.25), 12);
    expect(only(query(store, "changes(g[5m])", at))).toBe(3);
    // last_over_time keeps the metric name in Prometheus 2.x.
    expect(vec(query(store, "last_over_time(g[5m])", at))).toEqual({ '{"__name__":"g","pod":"a"}': 3 });
  });

  it("fits lines for deriv and predict_linear", () => {
    expect(only(query(store, "deriv(lin[10m])", 600 * S))).toBeCloseTo(2, 12);
    // 2·(600+100)+10
    expect(only(query(store, "predict_linear(lin[10m], 100)", 600 * S))).toBeCloseTo(1410, 9);
  });

  it("smooths with holt_winters", () => {
    // s=1, b=1 → s=2 → b=0.5·1+0.5·1=1, s=0.5·4+0.5·(2+1)=3.5 → b=0.5·1.5+0.5·1=1.25, s=0.5·3+0.5·(3.5+1.25)=3.875
    expect(only(query(store, "holt_winters(g[5m], 0.5, 0.5)", at))).toBeCloseTo(3.875, 12);
    expect(errorOf(() => query(store, "holt_winters(g[5m], 1, 0.5)", at)).errorType).toBe("execution");
  });
});

describe("histogram_quantile over classic buckets", () => {
  const bucket = (le: string, v: number, pod = "a") => ({
    labels: { __name__: "lat_bucket", le, pod },
    points: [[0, v]] as [number, number][],
  });
  const store = storeWith([
    bucket("0.1", 10),
    bucket("0.5", 30),
    bucket("1", 40),
    bucket("+Inf", 40),
    bucket("0.1", 5, "b"),
    bucket("1", 5, "b"),
  ]);

  it("interpolates linearly inside the bucket that holds the rank", () => {
    expect(vec(query(store, 'histogram_quantile(0.5, lat_bucket{pod="a"})', 0))).toEqual({
      '{"pod":"a"}': 0.1 + 0.4 * 0.5,
    });
    expect(only(query(store, 'histogram_quantile(0.99, lat_bucket{pod="a"})', 0))).toBeCloseTo(0.98, 12);
    expect(only(query(store, 'histogram_quantile(1, lat_bucket{pod="a"})', 0))).toBe(1);
    expect(only(query(store, 'histogram_quantile(2, lat_bucket{pod="a"})', 0))).toBe(Infinity);
  });

  it("answers NaN without a +Inf bucket", () => {
    expect(Number.isNaN(only(query(store, 'histogram_quantile(0.5, lat_bucket{pod="b"})', 0)))).toBe(true);
  });
});

describe("aggregation", () => {
  const store = storeWith([
    { labels: { __name__: "m", ns: "a", pod: "1" }, points: [[0, 1]] },
    { labels: { __name__: "m", ns: "a", pod: "2" }, points: [[0, 5]] },
    { labels: { __name__: "m", ns: "b", pod: "3" }, points: [[0, 3]] },
    { labels: { __name__: "m", ns: "b", pod: "4" }, points: [[0, 3]] },
  ]);

  it("groups by and without", () => {
    expect(vec(query(store, "sum by (ns) (m)", 0))).toEqual({ '{"ns":"a"}': 6, '{"ns":"b"}': 6 });
    expect(vec(query(store, "sum without (pod) (m)", 0))).toEqual({ '{"ns":"a"}': 6, '{"ns":"b"}': 6 });
    expect(vec(query(store, "avg(m)", 0))).toEqual({ "{}": 3 });
    expect(vec(query(store, "max by (ns) (m)", 0))).toEqual({ '{"ns":"a"}': 5, '{"ns":"b"}': 3 });
    expect(vec(query(store, "min(m) by (ns)", 0))).toEqual({ '{"ns":"a"}': 1, '{"ns":"b"}': 3 });
    expect(vec(query(store, "count by (ns) (m > 2)", 0))).toEqual({ '{"ns":"a"}': 1, '{"ns":"b"}': 2 });
    expect(vec(query(store, "stddev(m)", 0))).toEqual({ "{}": Math.sqrt(2) });
    expect(vec(query(store, "quantile(0.5, m)", 0))).toEqual({ "{}": 3 });
    expect(vec(query(store, 'count_values("v", m)', 0))).toEqual({
      '{"v":"1"}': 1,
      '{"v":"5"}': 1,
      '{"v":"3"}': 2,
    });
  });

  it("keeps the full label sets of the top and bottom k", () => {
    expect(vec(query(store, "topk(1, m)", 0))).toEqual({ '{"__name__":"m","ns":"a","pod":"2"}': 5 });
    expect(vec(query(store, "bottomk by (ns) (1, m)", 0))).toMatchObject({
      '{"__name__":"m","ns":"a","pod":"1"}': 1,
    });
    expect(vec(query(store, "topk(0, m)", 0))).toEqual({});
  });
});

describe("binary operators and vector matching", () => {
  const store = storeWith([
    { labels: { __name__: "used", pod: "p1", c: "app" }, points: [[0, 50]] },
    { labels: { __name__: "used", pod: "p1", c: "side" }, points: [[0, 10]] },
    { labels: { __name__: "used", pod: "p2", c: "app" }, points: [[0, 80]] },
    { labels: { __name__: "limit", pod: "p1", team: "x" }, points: [[0, 100]] },
    { labels: { __name__: "limit", pod: "p2", team: "y" }, points: [[0, 100]] },
  ]);

  it("divides many-to-one with group_left and copies listed labels from the one side", () => {
    expect(vec(query(store, "used / on(pod) group_left(team) limit", 0))).toEqual({
      '{"c":"app","pod":"p1","team":"x"}': 0.5,
      '{"c":"side","pod":"p1","team":"x"}': 0.1,
      '{"c":"app","pod":"p2","team":"y"}': 0.8,
    });
  });

  it("refuses implicit many-to-one matching as Prometheus does", () => {
    const err = errorOf(() => query(store, "used / on(pod) limit", 0));
    expect(err.errorType).toBe("execution");
    expect(err.message).toMatch(/many-to-one matching must be explicit/);
    expect(errorOf(() => query(store, "limit / on(pod) used", 0)).message).toMatch(/found duplicate series/);
  });

  it("filters with comparisons, or answers 0/1 with bool", () => {
    expect(vec(query(store, 'used{c="app"} > 60', 0))).toEqual({
      '{"__name__":"used","c":"app","pod":"p2"}': 80,
    });
    expect(vec(query(store, 'used{c="app"} > bool 60', 0))).toEqual({
      '{"c":"app","pod":"p1"}': 0,
      '{"c":"app","pod":"p2"}': 1,
    });
    expect(vec(query(store, '60 < used{c="app"}', 0))).toEqual({
      '{"__name__":"used","c":"app","pod":"p2"}': 80,
    });
    expect(query(store, "1 < bool 2", 0)).toMatchObject({ resultType: "scalar", result: 1 });
    // One-to-one matching drops the ignored labels from the result; a filter keeps the metric name.
    expect(vec(query(store, "limit == ignoring(team) limit", 0))).toEqual({
      '{"__name__":"limit","pod":"p1"}': 100,
      '{"__name__":"limit","pod":"p2"}': 100,
    });
  });

  it("combines with and, or and unless", () => {
    expect(Object.keys(vec(query(store, 'used and on(pod) limit{team="x"}', 0)))).toHaveLength(2);
    expect(Object.keys(vec(query(store, 'used unless on(pod) limit{team="x"}', 0)))).toEqual([
      '{"__name__":"used","c":"app","pod":"p2"}',
    ]);
    expect(Object.keys(vec(query(store, 'used{pod="p1"} or on(pod) used', 0)))).toHaveLength(2 + 1);
  });

  it("follows operator precedence and Go's float arithmetic", () => {
    expect(query(store, "2 ^ 3 ^ 2", 0)).toMatchObject({ result: 512 });
    expect(query(store, "-2 ^ 2", 0)).toMatchObject({ result: -4 });
    expect(query(store, "2 ^ -2", 0)).toMatchObject({ result: 0.25 });
    expect(query(store, "010 + 0x10 + .5", 0)).toMatchObject({ result: 24.5 });
    expect(query(store, "1 + 2 * 3 % 4", 0)).toMatchObject({ result: 3 });
    expect(query(store, "-7 % 3", 0)).toMatchObject({ result: -1 });
    expect(query(store, "1 ^ NaN", 0)).toMatchObject({ result: 1 });
  });

  it("evaluates scalar functions", () => {
    expect(query(store, "time()", 42_500)).toMatchObject({ resultType: "scalar", result: 42.5 });
    expect(vec(query(store, "vector(time())", 60 * S))).toEqual({ "{}": 60 });
    expect(query(store, 'scalar(limit{pod="p1"})', 0)).toMatchObject({ result: 100 });
    expect(Number.isNaN((query(store, "scalar(limit)", 0) as { result: number }).result)).toBe(true);
    expect(vec(query(store, "clamp_max(used, 20)", 0))).toMatchObject({ '{"c":"app","pod":"p2"}': 20 });
    expect(vec(query(store, 'clamp_min(used{c="side"}, 20)', 0))).toEqual({ '{"c":"side","pod":"p1"}': 20 });
    expect(vec(query(store, 'abs(-used{c="side"})', 0))).toEqual({ '{"c":"side","pod":"p1"}': 10 });
  });
});

describe("range evaluation", () => {
  const store = storeWith([{ labels: { __name__: "g" }, points: every(0, 100, 10, (t) => t) }]);

  it("evaluates at start + k·step and keeps a series visible for the lookback after its last sample", () => {
    const r = queryRange(store, "g", 0, 500 * S, 130 * S);
    expect(r.resultType).toBe("matrix");
    if (r.resultType !== "matrix") return;
    expect(r.result).toHaveLength(1);
    // 0, 130, 260, 390 — at 390 the last sample (t=100) is within 5 m; at 520 > end.
    expect(r.result[0]!.points).toEqual([
      [0, 0],
      [130 * S, 100],
      [260 * S, 100],
      [390 * S, 100],
    ]);
  });

  it("turns scalars into one series without labels and refuses range vectors", () => {
    const r = queryRange(store, "time() * 2", 0, 20 * S, 10 * S);
    expect(r).toEqual({
      resultType: "matrix",
      result: [
        {
          metric: [],
          points: [
            [0, 0],
            [10 * S, 20],
            [20 * S, 40],
          ],
        },
      ],
    });
    const err = errorOf(() => queryRange(store, "g[1m]", 0, 1, 1));
    expect(err.message).toBe(
      'invalid expression type "range vector" for range query, must be Scalar or instant Vector',
    );
  });
});

describe("refusals name the construct", () => {
  const store = new TimeSeriesStore();
  it.each([
    ["rate(x[5m:1m])", /subquery "x\[5m:1m\]"/],
    ["rate(x[5m] smoothed)", /smoothed/],
    ["unknown_fn(x)", /unknown function with name "unknown_fn"/],
    ["histogram_count(x)", /function "histogram_count"/],
    ["limitk(2, x)", /aggregation "limitk"/],
    ["rate(x)", /expected type range vector in call to function "rate", got instant vector/],
    ["sum(x[5m])", /expected type instant vector in aggregation expression, got range vector/],
    ["1 > 2", /comparisons between scalars must use BOOL modifier/],
    ["x and 1", /set operator "and" not allowed in binary scalar expression/],
    ["sum(", /parse error/],
    ['{job=""}', /at least one non-empty matcher/],
    ['x{a=~"(?=y)"}', /invalid regular expression/],
    ["", /no expression found/],
  ])("%s", (q, message) => {
    const err = errorOf(() => query(store, q, 0));
    expect(err.errorType).toBe("bad_data");
    expect(err.message).toMatch(message);
  });
});
