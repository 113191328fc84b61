// Aggregation operators (sum, avg, topk, quantile, …) with Prometheus 2.42's grouping and arithmetic.

import { METRIC_NAME, labelsKey, setLabel, type Labels } from "../labels.js";
import type { AggregateOp } from "./ast.js";
import { executionError } from "./errors.js";
import { formatFloat } from "./format.js";
import { quantileOf } from "./range-functions.js";
import type { Sample } from "./values.js";

interface Group {
  labels: Labels;
  value: number;
  mean: number;
  count: number;
  members: Sample[];
}

function groupLabels(metric: Labels, grouping: readonly string[], without: boolean): Labels {
  if (without) return metric.filter(([n]) => n !== METRIC_NAME && !grouping.includes(n));
  return metric.filter(([n]) => grouping.includes(n));
}

/** Memoises group label sets per input label set, for one aggregation node across the steps of a query. */
export type GroupCache = WeakMap<Labels, { labels: Labels; key: string }>;

export function aggregate(
  op: AggregateOp,
  grouping: readonly string[],
  without: boolean,
  param: number | string | undefined,
  input: readonly Sample[],
  cache: GroupCache = new WeakMap(),
): Sample[] {
  if (op === "count_values") return countValues(String(param), grouping, without, input);
  let k = 0;
  if (op === "topk" || op === "bottomk") {
    const f = param as number;
    if (!(Math.abs(f) < 2 ** 63)) throw executionError(`Scalar value ${formatFloat(f)} overflows int64`);
    k = Math.trunc(f);
    if (k < 1) return [];
  }
  const groups = new Map<string, Group>();
  const order: Group[] = [];
  for (const s of input) {
    let cached = cache.get(s.metric);
    if (!cached) {
      const labels = groupLabels(s.metric, grouping, without);
      cached = { labels, key: labelsKey(labels) };
      cache.set(s.metric, cached);
    }
    const { labels: gl, key } = cached;
    let g = groups.get(key);
    if (!g) {
      g = { labels: gl, value: s.value, mean: s.value, count: 1, members: [s] };
      if (op === "stddev" || op === "stdvar") g.value = 0;
      if (op === "count" || op === "group") g.value = 1;
      groups.set(key, g);
      order.push(g);
      continue;
    }
    g.members.push(s);
    const x = s.value;
    switch (op) {
      case "sum":
        g.value += x;
        break;
      case "avg":
        g.count++;
        if (!Number.isFinite(g.mean) && !Number.isNaN(g.mean)) {
          if (!Number.isFinite(x) && !Number.isNaN(x) && g.mean > 0 === x > 0) break;
          if (Number.isFinite(x)) break;
        }
        // Divide each side of the subtraction by the count to avoid overflow, as Prometheus does.
        g.mean += x / g.count - g.mean / g.count;
        break;
      case "count":
        g.value++;
        break;
      case "group":
        break;
      case "max":
        if (g.value < x || Number.isNaN(g.value)) g.value = x;
        break;
      case "min":
        if (g.value > x || Number.isNaN(g.value)) g.value = x;
        break;
      case "stddev":
      case "stdvar": {
        g.count++;
        const delta = x - g.mean;
        g.mean += delta / g.count;
        g.value += delta * (x - g.mean);
        break;
      }
      default:
        break;
    }
  }
  const out: Sample[] = [];
  for (const g of order) {
    switch (op) {
      case "avg":
        out.push({ metric: g.labels, value: g.mean });
        break;
      case "stddev":
        out.push({ metric: g.labels, value: Math.sqrt(g.value / g.count) });
        break;
      case "stdvar":
        out.push({ metric: g.labels, value: g.value / g.count });
        break;
      case "topk":
      case "bottomk": {
        const top = op === "topk";
        const sorted = [...g.members].sort((a, b) => compareForK(a.value, b.value, top));
        for (const s of sorted.slice(0, k)) out.push(s);
        break;
      }
      case "quantile":
        out.push({
          metric: g.labels,
          value: quantileOf(
            param as number,
            g.members.map((s) => s.value),
          ),
        });
        break;
      default:
        out.push({ metric: g.labels, value: g.value });
    }
  }
  return out;
}

/** Best first; NaN always ranks last, as in Prometheus' heaps. */
function compareForK(a: number, b: number, top: boolean): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return top ? b - a : a - b;
}

function countValues(
  label: string,
  grouping: readonly string[],
  without: boolean,
  input: readonly Sample[],
): Sample[] {
  if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(label)) throw executionError(`invalid label name "${label}"`);
  const groups = new Map<string, Sample>();
  for (const s of input) {
    const withValue = setLabel(s.metric, label, formatFloat(s.value));
    const gl = groupLabels(
      withValue,
      without ? grouping.filter((g) => g !== label) : [...grouping, label],
      without,
    );
    const key = labelsKey(gl);
    const g = groups.get(key);
    if (g) g.value++;
    else groups.set(key, { metric: gl, value: 1 });
  }
  return [...groups.values()];
}
