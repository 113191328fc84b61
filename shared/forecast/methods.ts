// The registry of forecasting methods the ensemble chooses from. Each method is one small function
// from a clean history to point forecasts and model-based standard deviations by horizon; adding a
// method is one entry here.

import { autoregressionForecastSd, fitAutoregression, forecastAutoregression } from "./autoregression.js";
import { classicalSeasonalIndex, removeSeasonalFigure, seasonalFactorAt } from "./decomposition.js";
import {
  fitSmoothing,
  forecastSmoothing,
  smoothingForecastSd,
  type SmoothingModel,
  type SmoothingSpec,
} from "./exponential-smoothing.js";
import { forecastGlobal, globalInput, globalModelKey, type GlobalModels } from "./global-autoregression.js";
import { decomposeMultiSeasonal } from "./multi-seasonal.js";
import { deseasonaliseM4, naive2Forecast, naiveForecast, seasonalNaiveForecast } from "./naive.js";
import { thetaForecast } from "./theta.js";

export interface MethodContext {
  horizon: number;
  /** Main seasonal period in samples (1 = none). */
  period: number;
  /** A longer period containing the main one (a week over a day), 0 when none. */
  longPeriod: number;
  /** "fast" trades a little accuracy for speed: coarse parameter search, fewer models. */
  effort: "fast" | "full";
  /** Global models fitted on the panel this series belongs to (`forecastPanel`); none for one series. */
  global?: GlobalModels;
  /** Points cut from the end of the history for a holdout forecast (0 or absent for the real one). */
  cut?: number;
}

export interface MethodForecast {
  mean: number[];
  sd: number[];
}

export type ForecastMethod = (y: readonly number[], ctx: MethodContext) => MethodForecast | undefined;

export const forecastMethods: Record<string, ForecastMethod> = {
  naive: (y, { horizon }) => ({ mean: naiveForecast(y, horizon), sd: randomWalkSd(y, 1, horizon, 1) }),
  snaive: (y, { horizon, period }) =>
    period > 1 && y.length >= period
      ? { mean: seasonalNaiveForecast(y, horizon, period), sd: randomWalkSd(y, period, horizon, period) }
      : undefined,
  "snaive-long": (y, { horizon, longPeriod }) =>
    longPeriod > 1 && y.length >= 2 * longPeriod
      ? {
          mean: seasonalNaiveForecast(y, horizon, longPeriod),
          sd: randomWalkSd(y, longPeriod, horizon, longPeriod),
        }
      : undefined,
  naive2: (y, { horizon, period }) => ({
    mean: naive2Forecast(y, horizon, period),
    sd: randomWalkSd(y, 1, horizon, 1),
  }),
  ses: (y, ctx) => deseasonalisedSmoothing(y, ctx, "N"),
  holt: (y, ctx) => deseasonalisedSmoothing(y, ctx, "A"),
  damped: (y, ctx) => deseasonalisedSmoothing(y, ctx, "Ad"),
  theta: (y, { horizon, period }) => {
    const d = deseasonaliseM4(y, period);
    const fit = thetaForecast(d.adjusted, horizon);
    const factors = d.futureFactors(horizon);
    const sd = growingSd(Math.sqrt(fit.sigma2) * 2, fit.alpha, horizon);
    return {
      mean: fit.mean.map((v, h) => v * (factors[h] ?? 1)),
      sd: sd.map((s, h) => s * (factors[h] ?? 1)),
    };
  },
  "ets-seasonal": (y, ctx) => seasonalEts(y, ctx, ctx.period),
  /** Weekly shape removed by classical decomposition, then seasonal ETS on the daily cycle. */
  "ets-two-season": (y, ctx) => {
    if (ctx.longPeriod <= 1 || y.length < 3 * ctx.longPeriod) return undefined;
    const positive = y.every((v) => v > 0);
    const kind = positive ? "multiplicative" : "additive";
    const index = classicalSeasonalIndex(y, ctx.longPeriod, kind);
    const dailyIndex = foldIndex(index, ctx.period, kind);
    // Keep the daily shape in the series for ETS; take out only what the week adds to it.
    const extra = index.map((v, i) =>
      kind === "multiplicative"
        ? v / (dailyIndex[i % ctx.period] ?? 1)
        : v - (dailyIndex[i % ctx.period] ?? 0),
    );
    const adjust = (v: number, t: number): number =>
      kind === "multiplicative" ? v / seasonalFactorAt(extra, t) : v - seasonalFactorAt(extra, t);
    const adjusted = y.map(adjust);
    const inner = seasonalEts(adjusted, ctx, ctx.period);
    if (!inner) return undefined;
    const n = y.length;
    const restore = (v: number, h: number): number =>
      kind === "multiplicative" ? v * seasonalFactorAt(extra, n + h) : v + seasonalFactorAt(extra, n + h);
    return {
      mean: inner.mean.map(restore),
      sd: inner.sd.map((s, h) => (kind === "multiplicative" ? s * seasonalFactorAt(extra, n + h) : s)),
    };
  },
  /** The long (weekly) figure taken out by classical decomposition, then Theta / SES / damped. */
  "theta-long": (y, ctx) =>
    longAdjusted(y, ctx, (adjusted) => {
      const fit = thetaForecast(adjusted, ctx.horizon);
      return { mean: fit.mean, sd: growingSd(Math.sqrt(fit.sigma2) * 2, fit.alpha, ctx.horizon) };
    }),
  "ses-long": (y, ctx) => longAdjusted(y, ctx, (adjusted) => plainSmoothing(adjusted, ctx, "N")),
  "damped-long": (y, ctx) => longAdjusted(y, ctx, (adjusted) => plainSmoothing(adjusted, ctx, "Ad")),
  /** Seasonal ETS on the long period itself (168 seasonal states, few parameters). */
  "ets-long": (y, ctx) =>
    ctx.longPeriod > 1 && y.length >= 3 * ctx.longPeriod
      ? seasonalEtsOf(y, ctx, [{ trend: "N", season: "A", period: ctx.longPeriod }])
      : undefined,
  /** Daily figure of the last two weeks taken out (of the logs when positive), then SES. */
  "mstl-ses": (y, ctx) => multiSeasonal(y, ctx, false, (a) => plainSmoothing(a, ctx, "N")),
  /** The same with the weekly figure taken out as well. */
  "mstl-ses-week": (y, ctx) => multiSeasonal(y, ctx, true, (a) => plainSmoothing(a, ctx, "N")),
  /** Daily figure taken out, then an autoregression on the last two points and the same time yesterday. */
  "mstl-ar": (y, ctx) => multiSeasonal(y, ctx, false, (a) => laggedRegression(a, ctx)),
  "mstl-ar-week": (y, ctx) => multiSeasonal(y, ctx, true, (a) => laggedRegression(a, ctx)),
  /** The panel's global autoregression on the daily-adjusted series (docs/decisions/0017). */
  "global-ar": (y, ctx) => globalMember(y, ctx, false),
  /** The same with the weekly figure taken out as well. */
  "global-ar-week": (y, ctx) => globalMember(y, ctx, true),
  /** Median of the same position over the last cycles of the long period, shifted to the recent level. */
  "seasonal-median": (y, { horizon, period, longPeriod }) => {
    const p = longPeriod > 1 && y.length >= 3 * longPeriod ? longPeriod : period;
    const cycles = Math.min(Math.floor(y.length / p), 4);
    if (p <= 1 || cycles < 2) return undefined;
    const n = y.length;
    const mean = Array.from({ length: horizon }, (_, h) => {
      const values: number[] = [];
      for (let c = 1; c <= cycles; c++) {
        const k = h % p;
        values.push(y[n - c * p + k] ?? 0);
      }
      return median(values);
    });
    return { mean, sd: randomWalkSd(y, p, horizon, p) };
  },
};

function longAdjusted(
  y: readonly number[],
  ctx: MethodContext,
  inner: (adjusted: number[]) => MethodForecast | undefined,
): MethodForecast | undefined {
  if (ctx.longPeriod <= 1 || y.length < 3 * ctx.longPeriod) return undefined;
  const d = removeSeasonalFigure(y, ctx.longPeriod);
  const fc = inner(d.adjusted);
  if (!fc) return undefined;
  const ones = d.restore(new Array<number>(ctx.horizon).fill(d.kind === "multiplicative" ? 1 : 0));
  return {
    mean: d.restore(fc.mean),
    sd: fc.sd.map((s, h) => (d.kind === "multiplicative" ? s * (ones[h] ?? 1) : s)),
  };
}

/** Daily cycles that estimate the daily figure for the multi-seasonal methods. */
export const RECENT_DAILY_CYCLES = 14;

/** A global model's forecast; undefined outside a panel or when the series is too short for it. */
function globalMember(
  y: readonly number[],
  ctx: MethodContext,
  withWeek: boolean,
): MethodForecast | undefined {
  const { period, longPeriod } = ctx;
  if (withWeek && longPeriod <= period) return undefined;
  const model = ctx.global?.get(globalModelKey(period, withWeek, ctx.cut ?? 0));
  if (!model) return undefined;
  const input = globalInput(y, {
    period,
    longPeriod: withWeek ? longPeriod : 0,
    recentCycles: RECENT_DAILY_CYCLES,
  });
  return input && forecastGlobal(model, input, ctx.horizon);
}

/**
 * Takes out the daily (and, with `withWeek`, weekly) figure, additively on the logs of a positive
 * series so that the pattern scales with the level, forecasts the rest with `inner`, and puts the
 * figure back. The sd is carried to the original scale by the delta method.
 */
function multiSeasonal(
  y: readonly number[],
  ctx: MethodContext,
  withWeek: boolean,
  inner: (adjusted: number[]) => MethodForecast | undefined,
): MethodForecast | undefined {
  const { period, longPeriod } = ctx;
  if (period <= 1 || y.length < 3 * period) return undefined;
  if (withWeek && (longPeriod <= period || y.length < 3 * longPeriod)) return undefined;
  const logs = y.every((v) => v > 0);
  const x = logs ? y.map(Math.log) : [...y];
  const d = decomposeMultiSeasonal(x, {
    period,
    longPeriod: withWeek ? longPeriod : 0,
    recentCycles: RECENT_DAILY_CYCLES,
  });
  const fc = inner(d.adjusted);
  if (!fc) return undefined;
  const n = y.length;
  const mean = fc.mean.map((v, h) => v + d.seasonalAt(n + h));
  if (!mean.every(Number.isFinite)) return undefined;
  return logs
    ? { mean: mean.map(Math.exp), sd: fc.sd.map((s, h) => s * Math.exp(mean[h] ?? 0)) }
    : { mean, sd: fc.sd };
}

/** Falls back to SES when the regression cannot be fitted (a series with no variation left in it). */
function laggedRegression(x: readonly number[], ctx: MethodContext): MethodForecast | undefined {
  const model = fitAutoregression(x, [1, 2, ctx.period]);
  if (!model) return plainSmoothing(x, ctx, "N");
  return {
    mean: forecastAutoregression(model, x, ctx.horizon),
    sd: autoregressionForecastSd(model, ctx.horizon),
  };
}

function plainSmoothing(
  y: readonly number[],
  { horizon, effort }: MethodContext,
  trend: "N" | "Ad",
): MethodForecast | undefined {
  const model = fitSmoothing(y, { trend, season: "N", period: 1 }, effortOptions(effort));
  return model
    ? { mean: forecastSmoothing(model, horizon), sd: smoothingForecastSd(model, horizon) }
    : undefined;
}

function seasonalEtsOf(
  y: readonly number[],
  ctx: MethodContext,
  specs: SmoothingSpec[],
): MethodForecast | undefined {
  let best: SmoothingModel | undefined;
  for (const spec of specs) {
    const model = fitSmoothing(y, spec, effortOptions(ctx.effort));
    if (model && (!best || model.aicc < best.aicc)) best = model;
  }
  return best
    ? { mean: forecastSmoothing(best, ctx.horizon), sd: smoothingForecastSd(best, ctx.horizon) }
    : undefined;
}

function deseasonalisedSmoothing(
  y: readonly number[],
  { horizon, period, effort }: MethodContext,
  trend: "N" | "A" | "Ad",
): MethodForecast | undefined {
  const d = deseasonaliseM4(y, period);
  const model = fitSmoothing(d.adjusted, { trend, season: "N", period: 1 }, effortOptions(effort));
  if (!model) return undefined;
  const factors = d.futureFactors(horizon);
  const mean = forecastSmoothing(model, horizon).map((v, h) => v * (factors[h] ?? 1));
  const sd = smoothingForecastSd(model, horizon).map((s, h) => s * (factors[h] ?? 1));
  return { mean, sd };
}

/** Seasonal ETS with additive or multiplicative seasonality, no or damped trend, chosen by AICc. */
export function seasonalEts(
  y: readonly number[],
  ctx: MethodContext,
  period: number,
): MethodForecast | undefined {
  const model = selectSeasonalEts(y, period, ctx.effort);
  return model
    ? { mean: forecastSmoothing(model, ctx.horizon), sd: smoothingForecastSd(model, ctx.horizon) }
    : undefined;
}

export function selectSeasonalEts(
  y: readonly number[],
  period: number,
  effort: "fast" | "full",
): SmoothingModel | undefined {
  if (period <= 1) return undefined;
  const specs: SmoothingSpec[] =
    effort === "fast"
      ? [{ trend: "N", season: "A", period }]
      : [
          { trend: "N", season: "A", period },
          { trend: "Ad", season: "A", period },
          { trend: "N", season: "M", period },
          { trend: "Ad", season: "M", period },
        ];
  let best: SmoothingModel | undefined;
  for (const spec of specs) {
    const model = fitSmoothing(y, spec, effortOptions(effort));
    if (model && (!best || model.aicc < best.aicc)) best = model;
  }
  return best;
}

function effortOptions(effort: "fast" | "full"): { maxEvaluations?: number } {
  return effort === "fast" ? { maxEvaluations: 24 } : {};
}

/** Forecast sd of a (seasonal) random walk: sigma of the lag-`lag` differences times sqrt(cycles ahead). */
function randomWalkSd(y: readonly number[], lag: number, horizon: number, period: number): number[] {
  let ss = 0;
  let count = 0;
  for (let t = lag; t < y.length; t++) {
    const d = (y[t] ?? 0) - (y[t - lag] ?? 0);
    ss += d * d;
    count++;
  }
  const sigma = count > 0 ? Math.sqrt(ss / count) : 0;
  return Array.from({ length: horizon }, (_, h) => sigma * Math.sqrt(Math.floor(h / period) + 1));
}

function growingSd(sigma: number, alpha: number, horizon: number): number[] {
  return Array.from({ length: horizon }, (_, h) => sigma * Math.sqrt(1 + h * alpha * alpha));
}

/** Averages a long-period index down to the short period it contains (a week's hours to a day's). */
function foldIndex(index: readonly number[], period: number, kind: "multiplicative" | "additive"): number[] {
  const sums = new Array<number>(period).fill(0);
  const counts = new Array<number>(period).fill(0);
  index.forEach((v, i) => {
    sums[i % period]! += v;
    counts[i % period]! += 1;
  });
  return sums.map((s, i) => (counts[i] ? s / counts[i]! : kind === "multiplicative" ? 1 : 0));
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
