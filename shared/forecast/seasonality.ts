// Seasonality: the autocorrelation function, M4's 90 % seasonality test, and detection of the
// periods metric data usually has (a day, a week) at the series' step.

/** Sample autocorrelation at one lag, with R's `acf` normalisation (full-length denominator). */
export function autocorrelation(x: readonly number[], lag: number, xMean?: number): number {
  const n = x.length;
  if (lag >= n) return NaN;
  const mu = xMean ?? meanOf(x);
  let num = 0;
  let den = 0;
  for (let t = 0; t < n; t++) {
    const d = (x[t] ?? 0) - mu;
    den += d * d;
    if (t + lag < n) num += d * ((x[t + lag] ?? 0) - mu);
  }
  return den === 0 ? 0 : num / den;
}

/** ACF at lags 1..maxLag. */
export function acf(x: readonly number[], maxLag: number): number[] {
  const mu = meanOf(x);
  const out: number[] = [];
  for (let k = 1; k <= maxLag; k++) out.push(autocorrelation(x, k, mu));
  return out;
}

/**
 * M4's `SeasonalityTest`: seasonal when |r_m| exceeds 1.645/sqrt(n) * sqrt(1 + 2 * sum_{k<m} r_k^2)
 * (a 90 % one-sided test). Needs at least three seasons, and R's default `acf` lag.max of
 * floor(10 * log10(n)) must reach m, as in the organisers' code.
 */
export function m4SeasonalityTest(x: readonly number[], m: number): boolean {
  const n = x.length;
  if (m <= 1 || n < 3 * m) return false;
  const lagMax = Math.min(Math.floor(10 * Math.log10(n)), n - 1);
  if (lagMax < m) return false;
  const r = acf(x, m);
  let cum = 1;
  for (let k = 1; k < m; k++) cum += 2 * (r[k - 1] ?? 0) ** 2;
  const limit = (1.645 / Math.sqrt(n)) * Math.sqrt(cum);
  return Math.abs(r[m - 1] ?? 0) > limit;
}

export const SECONDS_PER_DAY = 86_400;
export const SECONDS_PER_WEEK = 604_800;

/**
 * Seasonal periods (in samples) that metric data at `stepSeconds` shows: a day and a week, kept when
 * the series holds at least two full cycles and the autocorrelation at that lag is clearly positive.
 * Returned longest first, so a weekly pattern wins over the daily one it contains.
 */
export function detectSeasonalPeriods(
  x: readonly number[],
  stepSeconds: number,
  options: { minAutocorrelation?: number } = {},
): number[] {
  const minR = options.minAutocorrelation ?? 0.3;
  const candidates = [SECONDS_PER_WEEK, SECONDS_PER_DAY]
    .map((s) => s / stepSeconds)
    .filter((p) => Number.isInteger(p) && p >= 2 && x.length >= 2 * p);
  const mu = meanOf(x);
  return candidates.filter((p) => autocorrelation(x, p, mu) >= minR);
}

/**
 * When the step is unknown (M4 has no timestamps), look for the strongest autocorrelation peak among
 * the usual calendar lags, falling back to none.
 */
export function detectPeriodWithoutStep(x: readonly number[], candidates = [168, 24, 12, 7, 4]): number {
  const mu = meanOf(x);
  let best = 1;
  let bestR = 0.3;
  for (const p of candidates) {
    if (x.length < 2 * p) continue;
    const r = autocorrelation(x, p, mu);
    if (r > bestR) {
      best = p;
      bestR = r;
    }
  }
  return best;
}

function meanOf(x: readonly number[]): number {
  let s = 0;
  for (const v of x) s += v;
  return x.length === 0 ? 0 : s / x.length;
}
