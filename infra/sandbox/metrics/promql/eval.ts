// Evaluates a parsed query at one or many steps. Each step is evaluated as an instant query at that step's
// timestamp — the semantics Prometheus' range evaluation has — with selector look-ups cached per query.

import { METRIC_NAME, compareLabels, dropMetricName, labelsKey, type Label, type Labels } from "../labels.js";
import type { StoredSeries, TimeSeriesStore } from "../tsdb.js";
import type { Aggregate, Binary, Call, Expr, MatrixSelector, VectorSelector } from "./ast.js";
import { valueTypeOf } from "./ast.js";
import { aggregate, type GroupCache } from "./aggregate.js";
import { scalarBinop, vectorBinop, vectorScalarBinop, vectorSetOp } from "./binary.js";
import { executionError, PromQLError } from "./errors.js";
import {
  MATH_FUNCTIONS,
  applyMath,
  clamp,
  histogramQuantile,
  labelJoin,
  labelReplace,
  round,
  sortByValue,
} from "./instant-functions.js";
import { RANGE_FUNCTIONS } from "./range-functions.js";
import { KEEPS_METRIC_NAME } from "./signatures.js";
import { assertUniqueLabelsets, type RangeSeries, type Sample, type Value } from "./values.js";

export const DEFAULT_LOOKBACK_MS = 5 * 60_000;
/** Prometheus refuses range queries with more points than this per series. */
export const MAX_POINTS_PER_SERIES = 11_000;

export interface EvalOptions {
  lookbackMs?: number;
}

export interface SeriesPoints {
  metric: Labels;
  points: [t: number, v: number][];
}

export type QueryResult =
  | { resultType: "vector"; result: Sample[]; ts: number }
  | { resultType: "scalar"; result: number; ts: number }
  | { resultType: "string"; result: string; ts: number }
  | { resultType: "matrix"; result: SeriesPoints[] };

/**
 * Group label sets per grouping clause, memoised per input label-set object across queries: stored series
 * keep their label objects, so repeated aggregations skip re-deriving group keys. Weakly held.
 */
const groupCaches = new Map<string, GroupCache>();

export class Evaluator {
  private readonly selections = new Map<VectorSelector, StoredSeries[]>();
  private readonly lookbackMs: number;

  constructor(
    private readonly store: TimeSeriesStore,
    private readonly startMs: number,
    private readonly endMs: number,
    opts: EvalOptions = {},
  ) {
    this.lookbackMs = opts.lookbackMs ?? DEFAULT_LOOKBACK_MS;
  }

  private seriesOf(sel: VectorSelector): StoredSeries[] {
    let s = this.selections.get(sel);
    if (!s) {
      s = this.store.select(sel.matchers);
      this.selections.set(sel, s);
    }
    return s;
  }

  private refTime(sel: VectorSelector, ts: number): number {
    const base = !sel.at
      ? ts
      : sel.at.kind === "time"
        ? sel.at.ms
        : sel.at.kind === "start"
          ? this.startMs
          : this.endMs;
    return base - sel.offsetMs;
  }

  private vectorSelector(sel: VectorSelector, ts: number): Sample[] {
    const ref = this.refTime(sel, ts);
    const minT = ref - this.lookbackMs;
    const out: Sample[] = [];
    for (const s of this.seriesOf(sel)) {
      const i = s.upperBound(ref) - 1;
      if (i < s.start || s.t[i]! < minT || s.isStale(i)) continue;
      out.push({ metric: s.labels, value: s.v[i]! });
    }
    return out;
  }

  /** Calls `visit` with each selected series' samples in [maxt − range, maxt], both ends included (2.x). */
  private forEachWindow(ms: MatrixSelector, ts: number, visit: (w: RangeSeries) => void): void {
    const maxt = this.refTime(ms.selector, ts);
    const mint = maxt - ms.rangeMs;
    for (const s of this.seriesOf(ms.selector)) {
      const from = s.lowerBound(mint);
      const to = s.upperBound(maxt);
      if (to <= from) continue;
      if (s.stale) {
        // Staleness markers are not samples: copy the window without them.
        let hasStale = false;
        for (let i = from; i < to && !hasStale; i++) hasStale = s.isStale(i);
        if (hasStale) {
          const t: number[] = [];
          const v: number[] = [];
          for (let i = from; i < to; i++) {
            if (s.isStale(i)) continue;
            t.push(s.t[i]!);
            v.push(s.v[i]!);
          }
          if (t.length)
            visit({
              metric: s.labels,
              t: Float64Array.from(t),
              v: Float64Array.from(v),
              from: 0,
              to: t.length,
            });
          continue;
        }
      }
      visit({
        metric: s.labels,
        nameless: (s.labelsWithoutName ??= dropMetricName(s.labels)),
        t: s.t,
        v: s.v,
        from,
        to,
      });
    }
  }

  private matrixSelector(ms: MatrixSelector, ts: number): RangeSeries[] {
    const out: RangeSeries[] = [];
    this.forEachWindow(ms, ts, (w) => out.push(w));
    return out;
  }

  eval(e: Expr, ts: number): Value {
    switch (e.type) {
      case "number":
        return { kind: "scalar", value: e.value };
      case "string":
        return { kind: "string", value: e.value };
      case "vectorSelector":
        return { kind: "vector", samples: this.vectorSelector(e, ts) };
      case "matrixSelector":
        return { kind: "matrix", series: this.matrixSelector(e, ts) };
      case "unary": {
        const v = this.eval(e.expr, ts);
        if (e.op === "+") return v;
        if (v.kind === "scalar") return { kind: "scalar", value: -v.value };
        if (v.kind !== "vector") throw executionError("unary minus on a non-numeric value");
        const samples = v.samples.map((s) => ({ metric: dropMetricName(s.metric), value: -s.value }));
        assertUniqueLabelsets(samples);
        return { kind: "vector", samples };
      }
      case "binary":
        return this.binary(e, ts);
      case "aggregate":
        return this.aggregate(e, ts);
      case "call":
        return this.call(e, ts);
    }
  }

  private scalarArg(e: Expr, ts: number): number {
    const v = this.eval(e, ts);
    if (v.kind !== "scalar") throw executionError("expected a scalar argument");
    return v.value;
  }

  private vectorArg(e: Expr, ts: number): Sample[] {
    const v = this.eval(e, ts);
    if (v.kind !== "vector") throw executionError("expected an instant vector argument");
    return v.samples;
  }

  private stringArg(e: Expr, ts: number): string {
    const v = this.eval(e, ts);
    if (v.kind !== "string") throw executionError("expected a string argument");
    return v.value;
  }

  private binary(e: Binary, ts: number): Value {
    const l = this.eval(e.lhs, ts);
    const r = this.eval(e.rhs, ts);
    if (l.kind === "scalar" && r.kind === "scalar") {
      return { kind: "scalar", value: scalarBinop(e.op, l.value, r.value, e.returnBool) };
    }
    let samples: Sample[];
    if (l.kind === "vector" && r.kind === "vector") {
      const m = e.matching!;
      samples =
        e.op === "and" || e.op === "or" || e.op === "unless"
          ? vectorSetOp(e.op, l.samples, r.samples, m)
          : vectorBinop(e.op, l.samples, r.samples, m, e.returnBool);
    } else if (l.kind === "vector" && r.kind === "scalar") {
      samples = vectorScalarBinop(e.op, l.samples, r.value, false, e.returnBool);
      assertUniqueLabelsets(samples);
    } else if (l.kind === "scalar" && r.kind === "vector") {
      samples = vectorScalarBinop(e.op, r.samples, l.value, true, e.returnBool);
      assertUniqueLabelsets(samples);
    } else {
      throw executionError("binary expression must contain only scalar and instant vector types");
    }
    return { kind: "vector", samples };
  }

  private aggregate(e: Aggregate, ts: number): Value {
    let param: number | string | undefined;
    if (e.param) param = e.op === "count_values" ? this.stringArg(e.param, ts) : this.scalarArg(e.param, ts);
    const input = this.vectorArg(e.expr, ts);
    const spec = `${e.without ? "without" : "by"}(${e.grouping.join(",")})`;
    let cache = groupCaches.get(spec);
    if (!cache) groupCaches.set(spec, (cache = new WeakMap()));
    return { kind: "vector", samples: aggregate(e.op, e.grouping, e.without, param, input, cache) };
  }

  private call(e: Call, ts: number): Value {
    const rangeFn = RANGE_FUNCTIONS[e.func];
    if (rangeFn || e.func === "absent_over_time") return this.rangeCall(e, ts);
    const a = e.args;
    switch (e.func) {
      case "time":
        return { kind: "scalar", value: ts / 1000 };
      case "vector":
        return { kind: "vector", samples: [{ metric: [], value: this.scalarArg(a[0]!, ts) }] };
      case "scalar": {
        const v = this.vectorArg(a[0]!, ts);
        return { kind: "scalar", value: v.length === 1 ? v[0]!.value : NaN };
      }
      case "histogram_quantile": {
        const q = this.scalarArg(a[0]!, ts);
        return this.checked(histogramQuantile(q, this.vectorArg(a[1]!, ts)));
      }
      case "clamp":
        return this.checked(
          clamp(this.vectorArg(a[0]!, ts), this.scalarArg(a[1]!, ts), this.scalarArg(a[2]!, ts)),
        );
      case "clamp_min":
        return this.checked(clamp(this.vectorArg(a[0]!, ts), this.scalarArg(a[1]!, ts), Infinity));
      case "clamp_max":
        return this.checked(clamp(this.vectorArg(a[0]!, ts), -Infinity, this.scalarArg(a[1]!, ts)));
      case "round":
        return this.checked(round(this.vectorArg(a[0]!, ts), a[1] ? this.scalarArg(a[1], ts) : 1));
      case "absent": {
        const v = this.vectorArg(a[0]!, ts);
        if (v.length > 0) return { kind: "vector", samples: [] };
        return { kind: "vector", samples: [{ metric: absentLabels(a[0]!), value: 1 }] };
      }
      case "sort":
      case "sort_desc":
        return { kind: "vector", samples: sortByValue(this.vectorArg(a[0]!, ts), e.func === "sort_desc") };
      case "label_replace":
        return this.checked(
          labelReplace(
            this.vectorArg(a[0]!, ts),
            this.stringArg(a[1]!, ts),
            this.stringArg(a[2]!, ts),
            this.stringArg(a[3]!, ts),
            this.stringArg(a[4]!, ts),
          ),
        );
      case "label_join":
        return this.checked(
          labelJoin(
            this.vectorArg(a[0]!, ts),
            this.stringArg(a[1]!, ts),
            this.stringArg(a[2]!, ts),
            a.slice(3).map((x) => this.stringArg(x, ts)),
          ),
        );
      default:
        if (MATH_FUNCTIONS[e.func]) return this.checked(applyMath(e.func, this.vectorArg(a[0]!, ts)));
        throw new PromQLError(
          "bad_data",
          `unsupported PromQL construct in the sandbox query engine: function "${e.func}"`,
        );
    }
  }

  private checked(samples: Sample[]): Value {
    assertUniqueLabelsets(samples);
    return { kind: "vector", samples };
  }

  private rangeCall(e: Call, ts: number): Value {
    const matrixIndex = e.args.findIndex((x) => x.type === "matrixSelector");
    const ms = e.args[matrixIndex] as MatrixSelector;
    const scalars = e.args.filter((_, i) => i !== matrixIndex).map((x) => this.scalarArg(x, ts));
    if (e.func === "absent_over_time") {
      const present = this.matrixSelector(ms, ts).length > 0;
      return { kind: "vector", samples: present ? [] : [{ metric: absentLabels(ms), value: 1 }] };
    }
    const fn = RANGE_FUNCTIONS[e.func]!;
    const sel = ms.selector;
    const at = sel.at ? this.refTime(sel, ts) + sel.offsetMs : ts;
    const ctx = { ts: at, rangeMs: ms.rangeMs, offsetMs: sel.offsetMs, scalars };
    const keepName = KEEPS_METRIC_NAME.has(e.func);
    const out: Sample[] = [];
    this.forEachWindow(ms, ts, (w) => {
      const v = fn(w, ctx);
      if (v !== undefined)
        out.push({ metric: keepName ? w.metric : (w.nameless ?? dropMetricName(w.metric)), value: v });
    });
    // Series selected by one metric name stay distinct without it; otherwise they may collide.
    if (!keepName && sel.name === undefined) assertUniqueLabelsets(out);
    return { kind: "vector", samples: out };
  }
}

/** absent()'s output labels: the equality matchers of the selector, except the metric name. */
function absentLabels(e: Expr): Labels {
  const sel = e.type === "vectorSelector" ? e : e.type === "matrixSelector" ? e.selector : undefined;
  if (!sel) return [];
  const seen = new Map<string, string>();
  const dup = new Set<string>();
  for (const m of sel.matchers) {
    if (m.name === METRIC_NAME || m.type !== "=") continue;
    if (seen.has(m.name)) dup.add(m.name);
    seen.set(m.name, m.value);
  }
  const out: Label[] = [...seen.entries()].filter(([n, v]) => !dup.has(n) && v !== "");
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/** Evaluates at a single instant (Unix ms). */
export function instantQuery(
  store: TimeSeriesStore,
  expr: Expr,
  ts: number,
  opts: EvalOptions = {},
): QueryResult {
  const ev = new Evaluator(store, ts, ts, opts);
  const v = ev.eval(expr, ts);
  switch (v.kind) {
    case "vector":
      return { resultType: "vector", result: v.samples, ts };
    case "scalar":
      return { resultType: "scalar", result: v.value, ts };
    case "string":
      return { resultType: "string", result: v.value, ts };
    case "matrix":
      return {
        resultType: "matrix",
        result: v.series.map((s) => {
          const points: [number, number][] = [];
          for (let i = s.from; i < s.to; i++) points.push([s.t[i]!, s.v[i]!]);
          return { metric: s.metric, points };
        }),
      };
  }
}

/** Evaluates at start, start+step, … ≤ end (Unix ms), returning series sorted by labels like Prometheus. */
export function rangeQuery(
  store: TimeSeriesStore,
  expr: Expr,
  startMs: number,
  endMs: number,
  stepMs: number,
  opts: EvalOptions = {},
): QueryResult {
  const type = valueTypeOf(expr);
  if (type !== "scalar" && type !== "vector") {
    const name = type === "matrix" ? "range vector" : type;
    throw new PromQLError(
      "bad_data",
      `invalid expression type "${name}" for range query, must be Scalar or instant Vector`,
    );
  }
  const ev = new Evaluator(store, startMs, endMs, opts);
  const byKey = new Map<string, SeriesPoints>();
  for (let ts = startMs; ts <= endMs; ts += stepMs) {
    const v = ev.eval(expr, ts);
    if (v.kind === "scalar") {
      let s = byKey.get("");
      if (!s) byKey.set("", (s = { metric: [], points: [] }));
      s.points.push([ts, v.value]);
      continue;
    }
    if (v.kind !== "vector") throw executionError(`unexpected ${v.kind} result in range query`);
    for (const sample of v.samples) {
      const k = labelsKey(sample.metric);
      let s = byKey.get(k);
      if (!s) byKey.set(k, (s = { metric: sample.metric, points: [] }));
      else if (s.points[s.points.length - 1]![0] === ts) {
        throw executionError("vector cannot contain metrics with the same labelset");
      }
      s.points.push([ts, sample.value]);
    }
  }
  const result = [...byKey.values()].sort((a, b) => compareLabels(a.metric, b.metric));
  return { resultType: "matrix", result };
}
