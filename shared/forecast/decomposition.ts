// Classical decomposition as R's `decompose` does it: a centred moving average of order m as the
// trend, the seasonal figure as the mean detrended value at each position of the cycle, normalised
// to mean 1 (multiplicative) or 0 (additive). M4's Naive2 and Theta benchmarks deseasonalise with it.

export type SeasonalKind = "multiplicative" | "additive";

/** Seasonal figure indexed by position in the cycle, t mod m, counting from the series' first point. */
export function classicalSeasonalIndex(x: readonly number[], m: number, kind: SeasonalKind): number[] {
  const n = x.length;
  const trend = centredMovingAverage(x, m);
  const sums = new Array<number>(m).fill(0);
  const counts = new Array<number>(m).fill(0);
  for (let t = 0; t < n; t++) {
    const tr = trend[t];
    if (tr === undefined || Number.isNaN(tr)) continue;
    const v = x[t] ?? 0;
    const detrended = kind === "multiplicative" ? v / tr : v - tr;
    if (!Number.isFinite(detrended)) continue;
    sums[t % m] = (sums[t % m] ?? 0) + detrended;
    counts[t % m] = (counts[t % m] ?? 0) + 1;
  }
  const figure = sums.map((s, i) =>
    (counts[i] ?? 0) > 0 ? s / (counts[i] ?? 1) : kind === "multiplicative" ? 1 : 0,
  );
  const avg = figure.reduce((a, b) => a + b, 0) / m;
  return kind === "multiplicative"
    ? figure.map((f) => (avg === 0 ? 1 : f / avg))
    : figure.map((f) => f - avg);
}

/** Centred moving average of order m (a 2 x m MA when m is even); NaN where it is undefined. O(n). */
export function centredMovingAverage(x: readonly number[], m: number): number[] {
  const n = x.length;
  const out = new Array<number>(n).fill(NaN);
  const even = m % 2 === 0;
  const half = even ? m / 2 : (m - 1) / 2;
  if (n < 2 * half + 1) return out;
  // Running sum of the m (odd) or m - 1 (even) full-weight points around t.
  const inner = even ? half - 1 : half;
  let sum = 0;
  for (let j = 0; j <= 2 * inner; j++) sum += x[half - inner + j] ?? 0;
  for (let t = half; t < n - half; t++) {
    if (t > half) sum += (x[t + inner] ?? 0) - (x[t - inner - 1] ?? 0);
    out[t] = even ? (sum + 0.5 * ((x[t - half] ?? 0) + (x[t + half] ?? 0))) / m : sum / m;
  }
  return out;
}

/** Seasonal factor for the point `offset` steps after the series' first point. */
export function seasonalFactorAt(index: readonly number[], offset: number): number {
  const m = index.length;
  return index[((offset % m) + m) % m] ?? 1;
}

/**
 * Takes out a classical seasonal figure unconditionally (multiplicative for positive series,
 * additive otherwise); `restore` puts it back on forecasts h = 0.. steps after the end.
 */
export function removeSeasonalFigure(
  y: readonly number[],
  period: number,
): { adjusted: number[]; restore: (forecast: readonly number[]) => number[]; kind: SeasonalKind } {
  const kind: SeasonalKind = y.every((v) => v > 0) ? "multiplicative" : "additive";
  const index = classicalSeasonalIndex(y, period, kind);
  const n = y.length;
  const apply = (v: number, t: number, sign: 1 | -1): number => {
    const f = seasonalFactorAt(index, t);
    if (kind === "multiplicative") return sign > 0 ? v * f : v / f;
    return v + sign * f;
  };
  return {
    adjusted: y.map((v, t) => apply(v, t, -1)),
    restore: (fc) => fc.map((v, h) => apply(v, n + h, 1)),
    kind,
  };
}
