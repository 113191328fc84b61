// Functions over instant vectors: math, clamping, histogram_quantile over classic buckets, label rewriting.

import { METRIC_NAME, dropMetricName, getLabel, labelsKey, setLabel, type Labels } from "../labels.js";
import { compileAnchoredRegex } from "../matchers.js";
import { executionError } from "./errors.js";
import type { Sample } from "./values.js";

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function mapValues(v: readonly Sample[], f: (x: number) => number): Sample[] {
  return v.map((s) => ({ metric: dropMetricName(s.metric), value: f(s.value) }));
}

export const MATH_FUNCTIONS: Record<string, (x: number) => number> = {
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  exp: Math.exp,
  ln: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  sqrt: Math.sqrt,
  sgn: (x) => (x > 0 ? 1 : x < 0 ? -1 : x),
};

export function applyMath(name: string, v: readonly Sample[]): Sample[] {
  return mapValues(v, MATH_FUNCTIONS[name]!);
}

export function round(v: readonly Sample[], toNearest = 1): Sample[] {
  // Dividing by the inverse keeps Prometheus' rounding for fractional targets (e.g. 0.1).
  const inverse = 1 / toNearest;
  return mapValues(v, (x) => Math.floor(x * inverse + 0.5) / inverse);
}

export function clamp(v: readonly Sample[], min: number, max: number): Sample[] {
  if (max < min) return [];
  return mapValues(v, (x) => goMax(min, goMin(max, x)));
}

/** Go's math.Max/Min: NaN wins. */
export function goMax(a: number, b: number): number {
  return Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b);
}
export function goMin(a: number, b: number): number {
  return Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b);
}

interface Bucket {
  upperBound: number;
  count: number;
}

/** Prometheus' bucketQuantile: linear interpolation inside the bucket holding the rank. */
export function bucketQuantile(q: number, buckets: Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  buckets.sort((a, b) => a.upperBound - b.upperBound);
  if (buckets[buckets.length - 1]!.upperBound !== Infinity) return NaN;
  buckets = coalesce(buckets);
  let max = -Infinity;
  for (const b of buckets) {
    if (b.count > max) max = b.count;
    else if (b.count < max) b.count = max;
  }
  if (buckets.length < 2) return NaN;
  const observations = buckets[buckets.length - 1]!.count;
  if (observations === 0) return NaN;
  let rank = q * observations;
  let b = 0;
  {
    let lo = 0;
    let hi = buckets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (buckets[mid]!.count >= rank) hi = mid;
      else lo = mid + 1;
    }
    b = lo;
  }
  if (b === buckets.length - 1) return buckets[buckets.length - 2]!.upperBound;
  if (b === 0 && buckets[0]!.upperBound <= 0) return buckets[0]!.upperBound;
  let bucketStart = 0;
  const bucketEnd = buckets[b]!.upperBound;
  let count = buckets[b]!.count;
  if (b > 0) {
    bucketStart = buckets[b - 1]!.upperBound;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}

function coalesce(buckets: Bucket[]): Bucket[] {
  const out: Bucket[] = [];
  let last = { ...buckets[0]! };
  for (const b of buckets.slice(1)) {
    if (b.upperBound === last.upperBound) last.count += b.count;
    else {
      out.push(last);
      last = { ...b };
    }
  }
  out.push(last);
  return out;
}

/** Go's strconv.ParseFloat for `le` values (accepts +Inf, Inf, NaN, exponents). */
function parseBound(s: string): number | undefined {
  const t = s.trim().toLowerCase();
  if (t === "+inf" || t === "inf" || t === "infinity" || t === "+infinity") return Infinity;
  if (t === "-inf" || t === "-infinity") return -Infinity;
  if (t === "nan") return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t) && !/^[+-]?0x[0-9a-f]+(p[+-]?\d+)?$/.test(t))
    return undefined;
  return Number(t);
}

export function histogramQuantile(q: number, v: readonly Sample[]): Sample[] {
  const byGroup = new Map<string, { metric: Labels; buckets: Bucket[] }>();
  for (const s of v) {
    const upperBound = parseBound(getLabel(s.metric, "le"));
    if (upperBound === undefined) continue;
    const key = labelsKey(s.metric.filter(([n]) => n !== "le"));
    let g = byGroup.get(key);
    if (!g) {
      g = { metric: s.metric.filter(([n]) => n !== "le" && n !== METRIC_NAME), buckets: [] };
      byGroup.set(key, g);
    }
    g.buckets.push({ upperBound, count: s.value });
  }
  const out: Sample[] = [];
  for (const g of byGroup.values()) out.push({ metric: g.metric, value: bucketQuantile(q, g.buckets) });
  return out;
}

/** Go's regexp.Expand template syntax: $1, ${1}, $name, ${name}, $$. */
function expandTemplate(tpl: string, m: RegExpExecArray): string {
  let out = "";
  for (let i = 0; i < tpl.length; i++) {
    const c = tpl[i]!;
    if (c !== "$") {
      out += c;
      continue;
    }
    if (tpl[i + 1] === "$") {
      out += "$";
      i++;
      continue;
    }
    let name: string;
    if (tpl[i + 1] === "{") {
      const end = tpl.indexOf("}", i + 2);
      if (end < 0) {
        out += c;
        continue;
      }
      name = tpl.slice(i + 2, end);
      i = end;
    } else {
      const mm = /^[A-Za-z0-9_]+/.exec(tpl.slice(i + 1));
      if (!mm) {
        out += c;
        continue;
      }
      name = mm[0];
      i += name.length;
    }
    if (/^\d+$/.test(name)) out += m[Number(name)] ?? "";
    else out += m.groups?.[name] ?? "";
  }
  return out;
}

export function labelReplace(
  v: readonly Sample[],
  dst: string,
  replacement: string,
  src: string,
  regex: string,
): Sample[] {
  let re: RegExp;
  try {
    re = compileAnchoredRegex(regex);
  } catch {
    throw executionError(`invalid regular expression in label_replace(): ${regex}`);
  }
  if (!LABEL_NAME_RE.test(dst))
    throw executionError(`invalid destination label name in label_replace(): ${dst}`);
  return v.map((s) => {
    const m = re.exec(getLabel(s.metric, src));
    if (!m) return s;
    return { metric: setLabel(s.metric, dst, expandTemplate(replacement, m)), value: s.value };
  });
}

export function labelJoin(v: readonly Sample[], dst: string, sep: string, srcs: readonly string[]): Sample[] {
  if (!LABEL_NAME_RE.test(dst))
    throw executionError(`invalid destination label name in label_join(): ${dst}`);
  return v.map((s) => ({
    metric: setLabel(s.metric, dst, srcs.map((n) => getLabel(s.metric, n)).join(sep)),
    value: s.value,
  }));
}

export function sortByValue(v: readonly Sample[], desc: boolean): Sample[] {
  return [...v].sort((a, b) => {
    if (Number.isNaN(a.value)) return Number.isNaN(b.value) ? 0 : 1;
    if (Number.isNaN(b.value)) return -1;
    return desc ? b.value - a.value : a.value - b.value;
  });
}
