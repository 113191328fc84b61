// Decomposition with two nested seasonal periods (a day inside a week), after MSTL's idea of
// estimating each seasonal component on the series with the others taken out, in turn, with
// classical moving-average decomposition in place of loess. The daily figure comes from the most
// recent cycles only, because the daily shape drifts over a month (daylight, weather); the weekly
// figure keeps only what the week adds to the day (its fold onto the day is removed), so the two
// never compete for the same pattern.

import { classicalSeasonalIndex } from "./decomposition.js";

export interface MultiSeasonalDecomposition {
  /** The series with both seasonal components taken out. */
  adjusted: number[];
  /** The sum of the seasonal components at `t` steps after the series' first point (any t ≥ 0). */
  seasonalAt: (t: number) => number;
}

export interface MultiSeasonalOptions {
  /** Main (daily) period in samples. */
  period: number;
  /** Long (weekly) period, a multiple of `period`; 0 for the daily component only. */
  longPeriod: number;
  /** How many of the latest daily cycles estimate the daily figure. */
  recentCycles: number;
  /** Passes of the back-and-forth estimation; two are enough for classical decomposition. */
  passes?: number;
}

/** Additive decomposition; call it on log values for a multiplicative pattern. */
export function decomposeMultiSeasonal(
  x: readonly number[],
  options: MultiSeasonalOptions,
): MultiSeasonalDecomposition {
  const { period, longPeriod, recentCycles } = options;
  const n = x.length;
  const useLong = longPeriod > period && longPeriod % period === 0 && n >= 2 * longPeriod;
  let daily = new Array<number>(period).fill(0);
  let weekly = new Array<number>(useLong ? longPeriod : 1).fill(0);
  const passes = useLong ? (options.passes ?? 2) : 1;
  // The daily window starts on a cycle boundary, so the figure is indexed like the whole series.
  const start = Math.max(0, n - recentCycles * period);
  const windowStart = start - (start % period);
  for (let pass = 0; pass < passes; pass++) {
    const withoutWeek = x.slice(windowStart).map((v, i) => v - weeklyAt(weekly, windowStart + i));
    daily = classicalSeasonalIndex(withoutWeek, period, "additive");
    if (useLong) {
      const withoutDay = x.map((v, t) => v - (daily[t % period] ?? 0));
      weekly = withoutDailyFold(classicalSeasonalIndex(withoutDay, longPeriod, "additive"), period);
    }
  }
  const seasonalAt = (t: number): number => (daily[t % period] ?? 0) + weeklyAt(weekly, t);
  return { adjusted: x.map((v, t) => v - seasonalAt(t)), seasonalAt };
}

function weeklyAt(weekly: readonly number[], t: number): number {
  return weekly.length > 1 ? (weekly[t % weekly.length] ?? 0) : 0;
}

/** Removes from a long-period figure the part that repeats every `period` (its average day). */
function withoutDailyFold(figure: readonly number[], period: number): number[] {
  const cycles = figure.length / period;
  const fold = new Array<number>(period).fill(0);
  figure.forEach((v, i) => (fold[i % period]! += v / cycles));
  return figure.map((v, i) => v - (fold[i % period] ?? 0));
}
