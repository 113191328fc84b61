// The M4 benchmarks without parameters: Naive1, seasonal naive and Naive2 (naive on the series
// deseasonalised by classical multiplicative decomposition when M4's 90 % test finds seasonality).

import { classicalSeasonalIndex, seasonalFactorAt } from "./decomposition.js";
import { m4SeasonalityTest } from "./seasonality.js";

export function naiveForecast(y: readonly number[], horizon: number): number[] {
  return new Array<number>(horizon).fill(y[y.length - 1] ?? 0);
}

/** Repeats the last full cycle; falls back to Naive1 when the series is shorter than a cycle. */
export function seasonalNaiveForecast(y: readonly number[], horizon: number, period: number): number[] {
  if (period <= 1 || y.length < period) return naiveForecast(y, horizon);
  const start = y.length - period;
  return Array.from({ length: horizon }, (_, h) => y[start + (h % period)] ?? 0);
}

export interface Deseasonalised {
  /** The series divided by its seasonal factors (the series itself when not seasonal). */
  adjusted: number[];
  /** Seasonal factors for the forecast horizon, 1 when not seasonal. */
  futureFactors: (horizon: number) => number[];
  seasonal: boolean;
}

/** M4's deseasonalisation: multiplicative classical decomposition, only when the 90 % test passes. */
export function deseasonaliseM4(y: readonly number[], period: number): Deseasonalised {
  const seasonal = period > 1 && m4SeasonalityTest(y, period) && y.every((v) => v > 0);
  if (!seasonal) {
    return { adjusted: [...y], futureFactors: (h) => new Array<number>(h).fill(1), seasonal: false };
  }
  const index = classicalSeasonalIndex(y, period, "multiplicative");
  const n = y.length;
  return {
    adjusted: y.map((v, t) => v / seasonalFactorAt(index, t)),
    futureFactors: (h) => Array.from({ length: h }, (_, i) => seasonalFactorAt(index, n + i)),
    seasonal: true,
  };
}

export function naive2Forecast(y: readonly number[], horizon: number, period: number): number[] {
  const d = deseasonaliseM4(y, period);
  const last = d.adjusted[d.adjusted.length - 1] ?? 0;
  return d.futureFactors(horizon).map((f) => last * f);
}
