// The forecast engine's entry point: clean the history, find its seasonality, then forecast it with
// a fixed average of up to eight methods (the median of the 7 best candidates on two holdouts when
// fewer than two of them can run) and intervals calibrated on the holdouts. A panel of series
// forecast together shares one global autoregression.

import { ensembleForecast, type IntervalForecast } from "./ensemble.js";
import { smoothingName } from "./exponential-smoothing.js";
import { fitForecaster, forecastFrom } from "./incremental.js";
import { fitGlobalModels, type GlobalModels } from "./global-autoregression.js";
import { RECENT_DAILY_CYCLES, type MethodContext } from "./methods.js";
import { fillGaps, isFlat, undoCounterResets } from "./preprocess.js";
import { autocorrelation, detectPeriodWithoutStep, detectSeasonalPeriods } from "./seasonality.js";

export interface ForecastOptions {
  horizon: number;
  /** Seasonal period in samples; detected when omitted. */
  period?: number;
  /** Spacing of the samples, used to look for daily and weekly periods when `period` is omitted. */
  stepSeconds?: number;
  /** The series is a Prometheus counter: undo resets before forecasting. */
  counter?: boolean;
  effort?: "fast" | "full";
}

export interface SeriesForecast extends IntervalForecast {
  period: number;
  longPeriod: number;
  members: string[];
}

export const FULL_CANDIDATES = [
  "naive",
  "snaive",
  "snaive-long",
  "naive2",
  "ses",
  "holt",
  "damped",
  "theta",
  "ets-seasonal",
  "ets-two-season",
  "seasonal-median",
  "theta-long",
  "ses-long",
  "damped-long",
  "ets-long",
  "mstl-ses",
  "mstl-ses-week",
  "mstl-ar",
  "mstl-ar-week",
  "global-ar",
  "global-ar-week",
] as const;

/**
 * The combination averaged when it can run: three families — seasonal naive, SES and a lag-1/2/day
 * autoregression after the multi-seasonal decomposition — each once with the daily period only and
 * once with the week as well. The weekly members drop out below three weeks of history. Chosen on
 * the M4 sample's training series only (seven 48-hour holdout blocks, never the test part); see
 * docs/decisions/0010-m4-hourly-ensemble.md. A fourth family joins them: an autoregression on a
 * dozen lags fitted on all the series of a panel (`forecastPanel`), or on the one series
 * (`forecastSeries`), daily-only and with the week (docs/decisions/0017-global-autoregression.md).
 */
export const FIXED_COMBINATION = [
  "snaive",
  "snaive-long",
  "mstl-ses",
  "mstl-ses-week",
  "mstl-ar",
  "mstl-ar-week",
  "global-ar",
  "global-ar-week",
] as const;

/** One series: a panel of one, whose "global" autoregression is fitted on the series alone. */
export function forecastSeries(values: readonly number[], options: ForecastOptions): SeriesForecast {
  return forecastPanel([values], options)[0]!;
}

/** Holdout origins of the ensemble (n - horizon, n - 2 horizon). */
const HOLDOUT_ORIGINS = 2;

/**
 * Forecasts a panel of series together. In full effort the panel fits the global autoregressions
 * (`global-autoregression.ts`) on every series' history, and each series' fixed combination has
 * the two global members; the rest is the same for each series as alone. Fast effort forecasts
 * each series alone.
 */
export function forecastPanel(
  panel: readonly (readonly number[])[],
  options: ForecastOptions,
): SeriesForecast[] {
  const prepared = panel.map((values) => prepare(values, options));
  if ((options.effort ?? "full") === "fast") return prepared.map((p) => forecastPrepared(p, options));
  const cuts = Array.from({ length: HOLDOUT_ORIGINS + 1 }, (_, k) => k * options.horizon);
  const global = fitGlobalModels(
    prepared.filter((p) => !p.flat),
    cuts,
    RECENT_DAILY_CYCLES,
  );
  return prepared.map((p) => forecastPrepared(p, options, global));
}

interface Prepared {
  y: number[];
  period: number;
  longPeriod: number;
  flat: boolean;
}

function prepare(values: readonly number[], options: ForecastOptions): Prepared {
  const raw = options.counter ? undoCounterResets(values) : values;
  const firstPass = fillGaps(raw);
  const { period, longPeriod } = resolvePeriods(firstPass, options);
  const y = period > 1 ? fillGaps(raw, period) : firstPass;
  return { y, period, longPeriod, flat: y.length === 0 || isFlat(y) };
}

function forecastPrepared(
  { y, period, longPeriod, flat }: Prepared,
  options: ForecastOptions,
  global?: GlobalModels,
): SeriesForecast {
  const horizon = options.horizon;
  if (flat) {
    const level = new Array<number>(horizon).fill(y[y.length - 1] ?? 0);
    return {
      mean: level,
      lower80: level,
      upper80: level,
      lower95: level,
      upper95: level,
      period,
      longPeriod,
      members: ["flat"],
    };
  }
  const effort = options.effort ?? "full";
  if (effort === "fast") {
    const forecaster = fitForecaster(y, period, horizon);
    if (forecaster) {
      const fc = forecastFrom(forecaster, horizon);
      return {
        ...fc,
        period,
        longPeriod,
        members: [forecaster.useSeasonalNaive ? "snaive" : smoothingName(forecaster.model.spec)],
      };
    }
  }
  const ctx: MethodContext = { horizon, period, longPeriod, effort, ...(global ? { global } : {}) };
  const result = ensembleForecast(y, ctx, {
    candidates: FULL_CANDIDATES,
    top: 7,
    origins: HOLDOUT_ORIGINS,
    fixed: FIXED_COMBINATION,
  });
  return { ...result, period, longPeriod };
}

function resolvePeriods(
  y: readonly number[],
  options: ForecastOptions,
): { period: number; longPeriod: number } {
  let period = options.period ?? 0;
  if (!period && options.stepSeconds) {
    const found = detectSeasonalPeriods(y, options.stepSeconds);
    period = found[found.length - 1] ?? 1;
  }
  if (!period) period = detectPeriodWithoutStep(y);
  // A week over a day: seven times the main period, kept when the history shows it.
  const long = period * 7;
  const longPeriod = period > 1 && y.length >= 2 * long && autocorrelation(y, long) > 0.3 ? long : 0;
  return { period, longPeriod };
}
