// Functions over a range of samples, with Prometheus 2.42's arithmetic (extrapolation, counter resets,
// Kahan-compensated regression) so results agree with a real Prometheus to the last bits where possible.

import { executionError } from "./errors.js";

/** The samples of one series inside a range window: indices [from, to) of `t` (ms) and `v`. */
export interface RangePoints {
  t: Float64Array;
  v: Float64Array;
  from: number;
  to: number;
}

export interface RangeCallContext {
  /** Evaluation timestamp (ms) of the step, after the @ modifier. */
  ts: number;
  rangeMs: number;
  offsetMs: number;
  /** Evaluated scalar arguments other than the range, in order. */
  scalars: number[];
}

export type RangeFunction = (p: RangePoints, ctx: RangeCallContext) => number | undefined;

export function kahanSumInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
  else c += inc - t + sum;
  return [t, c];
}

function extrapolatedRate(
  p: RangePoints,
  ctx: RangeCallContext,
  isCounter: boolean,
  isRate: boolean,
): number | undefined {
  const { t, v, from, to } = p;
  const n = to - from;
  if (n < 2) return undefined;
  const rangeStart = ctx.ts - (ctx.rangeMs + ctx.offsetMs);
  const rangeEnd = ctx.ts - ctx.offsetMs;
  const first = v[from]!;
  const last = v[to - 1]!;
  let result = last - first;
  if (isCounter) {
    let prev = first;
    for (let i = from + 1; i < to; i++) {
      const cur = v[i]!;
      if (cur < prev) result += prev;
      prev = cur;
    }
  }
  let durationToStart = (t[from]! - rangeStart) / 1000;
  const durationToEnd = (rangeEnd - t[to - 1]!) / 1000;
  const sampledInterval = (t[to - 1]! - t[from]!) / 1000;
  const averageDurationBetweenSamples = sampledInterval / (n - 1);
  if (isCounter && result > 0 && first >= 0) {
    // Counters cannot be negative: do not extrapolate further back than the counter's zero point.
    const durationToZero = sampledInterval * (first / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const threshold = averageDurationBetweenSamples * 1.1;
  let extrapolateToInterval = sampledInterval;
  extrapolateToInterval += durationToStart < threshold ? durationToStart : averageDurationBetweenSamples / 2;
  extrapolateToInterval += durationToEnd < threshold ? durationToEnd : averageDurationBetweenSamples / 2;
  let factor = extrapolateToInterval / sampledInterval;
  if (isRate) factor /= ctx.rangeMs / 1000;
  return result * factor;
}

function instantValue(p: RangePoints, isRate: boolean): number | undefined {
  const { t, v, from, to } = p;
  if (to - from < 2) return undefined;
  const last = v[to - 1]!;
  const prev = v[to - 2]!;
  let result = isRate && last < prev ? last : last - prev;
  const interval = t[to - 1]! - t[to - 2]!;
  if (interval === 0) return undefined;
  if (isRate) result /= interval / 1000;
  return result;
}

/** Least-squares fit with x in seconds relative to `interceptTime` (ms), as Prometheus' linearRegression. */
export function linearRegression(p: RangePoints, interceptTime: number): [slope: number, intercept: number] {
  const { t, v, from, to } = p;
  let n = 0;
  let sumX = 0,
    cX = 0,
    sumY = 0,
    cY = 0,
    sumXY = 0,
    cXY = 0,
    sumX2 = 0,
    cX2 = 0;
  const initY = v[from]!;
  let constY = true;
  for (let i = from; i < to; i++) {
    const y = v[i]!;
    if (constY && i > from && y !== initY) constY = false;
    n += 1;
    const x = (t[i]! - interceptTime) / 1e3;
    [sumX, cX] = kahanSumInc(x, sumX, cX);
    [sumY, cY] = kahanSumInc(y, sumY, cY);
    [sumXY, cXY] = kahanSumInc(x * y, sumXY, cXY);
    [sumX2, cX2] = kahanSumInc(x * x, sumX2, cX2);
  }
  if (constY) {
    if (!Number.isFinite(initY) && !Number.isNaN(initY)) return [NaN, NaN];
    return [0, initY];
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  const intercept = sumY / n - (slope * sumX) / n;
  return [slope, intercept];
}

/** Prometheus' quantile over unsorted values (sorted in place). */
export function quantileOf(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  values.sort(byValueNaNFirst);
  const n = values.length;
  const rank = q * (n - 1);
  const lowerIndex = Math.max(0, Math.floor(rank));
  const upperIndex = Math.min(n - 1, lowerIndex + 1);
  const weight = rank - Math.floor(rank);
  return values[lowerIndex]! * (1 - weight) + values[upperIndex]! * weight;
}

/** Go's vectorByValueHeap Less: NaN sorts before everything. */
function byValueNaNFirst(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : -1;
  if (Number.isNaN(b)) return 1;
  return a - b;
}

function avgOverTime(p: RangePoints): number {
  let mean = 0,
    c = 0,
    count = 0;
  for (let i = p.from; i < p.to; i++) {
    const x = p.v[i]!;
    count++;
    if (!Number.isFinite(mean) && !Number.isNaN(mean)) {
      if (!Number.isFinite(x) && !Number.isNaN(x) && mean > 0 === x > 0) continue;
      if (Number.isFinite(x)) continue;
    }
    [mean, c] = kahanSumInc(x / count - mean / count, mean, c);
  }
  if (!Number.isFinite(mean) && !Number.isNaN(mean)) return mean;
  return mean + c;
}

function sumOverTime(p: RangePoints): number {
  let sum = 0,
    c = 0;
  for (let i = p.from; i < p.to; i++) [sum, c] = kahanSumInc(p.v[i]!, sum, c);
  if (!Number.isFinite(sum) && !Number.isNaN(sum)) return sum;
  return sum + c;
}

function varianceOverTime(p: RangePoints): number {
  let count = 0,
    mean = 0,
    cMean = 0,
    aux = 0,
    cAux = 0;
  for (let i = p.from; i < p.to; i++) {
    const x = p.v[i]!;
    count++;
    const delta = x - (mean + cMean);
    [mean, cMean] = kahanSumInc(delta / count, mean, cMean);
    [aux, cAux] = kahanSumInc(delta * (x - (mean + cMean)), aux, cAux);
  }
  return (aux + cAux) / count;
}

function holtWinters(p: RangePoints, ctx: RangeCallContext): number | undefined {
  const [sf, tf] = ctx.scalars as [number, number];
  if (!(sf > 0 && sf < 1))
    throw executionError(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${sf.toFixed(6)}`);
  if (!(tf > 0 && tf < 1))
    throw executionError(`invalid trend factor. Expected: 0 < tf < 1, got: ${tf.toFixed(6)}`);
  const { v, from, to } = p;
  if (to - from < 2) return undefined;
  let s0 = 0;
  let s1 = v[from]!;
  let b = v[from + 1]! - v[from]!;
  for (let i = 1; i < to - from; i++) {
    const x = sf * v[from + i]!;
    if (i - 1 !== 0) b = tf * (s1 - s0) + (1 - tf) * b;
    const y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return s1;
}

export const RANGE_FUNCTIONS: Record<string, RangeFunction> = {
  rate: (p, ctx) => extrapolatedRate(p, ctx, true, true),
  increase: (p, ctx) => extrapolatedRate(p, ctx, true, false),
  delta: (p, ctx) => extrapolatedRate(p, ctx, false, false),
  irate: (p) => instantValue(p, true),
  idelta: (p) => instantValue(p, false),
  deriv: (p) => (p.to - p.from < 2 ? undefined : linearRegression(p, p.t[p.from]!)[0]),
  predict_linear: (p, ctx) => {
    if (p.to - p.from < 2) return undefined;
    const [slope, intercept] = linearRegression(p, ctx.ts);
    return slope * ctx.scalars[0]! + intercept;
  },
  holt_winters: holtWinters,
  changes: (p) => {
    let changes = 0;
    for (let i = p.from + 1; i < p.to; i++) {
      const cur = p.v[i]!;
      const prev = p.v[i - 1]!;
      if (cur !== prev && !(Number.isNaN(cur) && Number.isNaN(prev))) changes++;
    }
    return changes;
  },
  resets: (p) => {
    let resets = 0;
    for (let i = p.from + 1; i < p.to; i++) if (p.v[i]! < p.v[i - 1]!) resets++;
    return resets;
  },
  avg_over_time: avgOverTime,
  sum_over_time: sumOverTime,
  count_over_time: (p) => p.to - p.from,
  last_over_time: (p) => p.v[p.to - 1]!,
  present_over_time: () => 1,
  min_over_time: (p) => {
    let min = p.v[p.from]!;
    for (let i = p.from; i < p.to; i++) {
      const x = p.v[i]!;
      if (x < min || Number.isNaN(min)) min = x;
    }
    return min;
  },
  max_over_time: (p) => {
    let max = p.v[p.from]!;
    for (let i = p.from; i < p.to; i++) {
      const x = p.v[i]!;
      if (x > max || Number.isNaN(max)) max = x;
    }
    return max;
  },
  stddev_over_time: (p) => Math.sqrt(varianceOverTime(p)),
  stdvar_over_time: varianceOverTime,
  quantile_over_time: (p, ctx) => quantileOf(ctx.scalars[0]!, Array.from(p.v.subarray(p.from, p.to))),
};
