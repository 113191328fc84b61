// The M4 competition's accuracy measures (Makridakis, Spiliotis & Assimakopoulos 2020), written to match
// the organisers' R code: sMAPE in percent, MASE scaled by the in-sample seasonal-naive MAE,
// MSIS with the same scale, and OWA from the averaged sMAPE and MASE relative to Naive2.

/** Symmetric MAPE in percent, averaged over the horizon. */
export function smape(actual: readonly number[], forecast: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] ?? 0;
    const f = forecast[i] ?? 0;
    const denom = Math.abs(a) + Math.abs(f);
    sum += denom === 0 ? 0 : (200 * Math.abs(a - f)) / denom;
  }
  return sum / actual.length;
}

/** Mean absolute error of the in-sample seasonal naive forecast at lag m: the MASE/MSIS scale. */
export function seasonalNaiveScale(insample: readonly number[], m: number): number {
  const lag = insample.length > m ? m : 1;
  let sum = 0;
  let count = 0;
  for (let t = lag; t < insample.length; t++) {
    sum += Math.abs((insample[t] ?? 0) - (insample[t - lag] ?? 0));
    count++;
  }
  return count === 0 ? 0 : sum / count;
}

export function mase(
  insample: readonly number[],
  actual: readonly number[],
  forecast: readonly number[],
  m: number,
) {
  const scale = seasonalNaiveScale(insample, m);
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += Math.abs((actual[i] ?? 0) - (forecast[i] ?? 0));
  return sum / actual.length / scale;
}

/** Mean scaled interval score of a (1 - alpha) interval; alpha = 0.05 for the 95 % interval. */
export function msis(
  insample: readonly number[],
  actual: readonly number[],
  lower: readonly number[],
  upper: readonly number[],
  m: number,
  alpha = 0.05,
): number {
  const scale = seasonalNaiveScale(insample, m);
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const y = actual[i] ?? 0;
    const lo = lower[i] ?? 0;
    const hi = upper[i] ?? 0;
    sum += hi - lo;
    if (y < lo) sum += (2 / alpha) * (lo - y);
    if (y > hi) sum += (2 / alpha) * (y - hi);
  }
  return sum / actual.length / scale;
}

/** Share of actual values inside [lower, upper]. */
export function coverage(
  actual: readonly number[],
  lower: readonly number[],
  upper: readonly number[],
): number {
  let inside = 0;
  for (let i = 0; i < actual.length; i++) {
    const y = actual[i] ?? 0;
    if (y >= (lower[i] ?? 0) && y <= (upper[i] ?? 0)) inside++;
  }
  return actual.length === 0 ? 0 : inside / actual.length;
}

/** Overall weighted average as M4 computed it: from the averaged sMAPE and MASE, not per series. */
export function owa(
  method: { smape: number; mase: number },
  naive2: { smape: number; mase: number },
): number {
  return 0.5 * (method.smape / naive2.smape + method.mase / naive2.mase);
}

export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return values.length === 0 ? NaN : sum / values.length;
}
