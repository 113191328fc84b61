// A global (pooled) autoregression: one set of coefficients fitted by least squares on many series at
// once, then used to forecast each of them. Fitted on one series, an autoregression on a dozen lags
// reaching a week back overfits (alone, M4 sample holdout OWA 0.91); pooled over a panel it is among
// the best single methods (0.82), the usual finding for global models. For a panel of one it is
// fitted on that series alone, which still helps the combination. Each series is first made
// comparable: its daily (and optionally weekly) figure is taken out by the multi-seasonal
// decomposition, on logs when it is positive (on values divided by their mean absolute deviation
// otherwise), the mean of its last `recentCycles` cycles is subtracted, and it is divided by the
// root mean square of its steps, so that no series dominates the fit. The model then says how
// the deseasonalised level moves back and forth around its recent mean, the same way for every series
// of the panel. See docs/decisions/0017-global-autoregression.md.

import { autoregressionForecastSd, solveLinear } from "./autoregression.js";
import { decomposeMultiSeasonal } from "./multi-seasonal.js";

export interface GlobalInput {
  /** The series on the pooled scale: deseasonalised, recent mean removed, standardised. */
  z: number[];
  /** Maps a forecast of z at `t` steps after the series' first point back to the series' scale. */
  restore: (value: number, t: number) => number;
  /** d restore / d z at a forecast value, for carrying an sd back by the delta method. */
  slope: (value: number, t: number) => number;
}

export interface GlobalInputOptions {
  period: number;
  /** Weekly period to take out as well; 0 for the daily figure only. */
  longPeriod: number;
  /** Cycles of the main period that estimate the daily figure and the recent mean. */
  recentCycles: number;
}

export interface GlobalAutoregression {
  lags: number[];
  coefficients: number[];
  intercept: number;
}

/**
 * The lags of the global model for a main period p: the last three points, the same point one
 * period back and its neighbours, and the same point 2..7 periods back (for hours: the last three
 * hours, yesterday around this hour, and this hour on each of the last seven days).
 */
export function globalLags(period: number): number[] {
  if (period <= 1) return [1, 2, 3];
  const lags = new Set([1, 2, 3, period - 1, period, period + 1]);
  for (let k = 2; k <= 7; k++) lags.add(k * period);
  return [...lags].filter((l) => l >= 1).sort((a, b) => a - b);
}

/** Undefined when the series is too short for the decomposition or not finite. */
export function globalInput(y: readonly number[], options: GlobalInputOptions): GlobalInput | undefined {
  const { period, longPeriod, recentCycles } = options;
  if (period <= 1 || y.length < 3 * period) return undefined;
  if (longPeriod > 0 && (longPeriod <= period || y.length < 3 * longPeriod)) return undefined;
  const logs = y.every((v) => v > 0);
  let size = 1;
  if (!logs) {
    const mid = y.reduce((a, b) => a + b, 0) / y.length;
    size = y.reduce((a, v) => a + Math.abs(v - mid), 0) / y.length;
    if (!(size > 0)) return undefined;
  }
  const x = logs ? y.map(Math.log) : y.map((v) => v / size);
  const d = decomposeMultiSeasonal(x, { period, longPeriod, recentCycles });
  const n = x.length;
  const window = Math.min(n, recentCycles * period);
  let recent = 0;
  for (let t = n - window; t < n; t++) recent += d.adjusted[t] ?? 0;
  recent /= window;
  // Standardised by the size of its step-to-step changes, so that every series weighs alike in the fit.
  let steps = 0;
  for (let t = 1; t < n; t++) steps += ((d.adjusted[t] ?? 0) - (d.adjusted[t - 1] ?? 0)) ** 2;
  const spread = Math.sqrt(steps / (n - 1)) || 1;
  const z = d.adjusted.map((v) => (v - recent) / spread);
  if (!z.every(Number.isFinite)) return undefined;
  const level = (value: number, t: number): number => value * spread + recent + d.seasonalAt(t);
  return {
    z,
    restore: (value, t) => (logs ? Math.exp(level(value, t)) : level(value, t) * size),
    slope: (value, t) => spread * (logs ? Math.exp(level(value, t)) : size),
  };
}

/**
 * Least squares over the rows of every series (a tiny ridge, `lambda` per row, keeps it solvable; the
 * intercept is not penalised). At most about `maxRows` rows are used: a long panel is thinned evenly.
 */
export function fitGlobalAutoregression(
  panel: readonly (readonly number[])[],
  lags: readonly number[],
  options: { lambda?: number; maxRows?: number } = {},
): GlobalAutoregression | undefined {
  const lambda = options.lambda ?? 1e-4;
  const maxLag = Math.max(...lags);
  const k = lags.length + 1;
  let available = 0;
  for (const z of panel) available += Math.max(0, z.length - maxLag);
  if (lags.length === 0 || available < 3 * k) return undefined;
  const step = Math.max(1, Math.ceil(available / (options.maxRows ?? 200_000)));
  const gram = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const rhs = new Array<number>(k).fill(0);
  const row = new Array<number>(k).fill(1);
  let rows = 0;
  for (const z of panel) {
    for (let t = z.length - 1; t >= maxLag; t -= step) {
      for (let j = 0; j < lags.length; j++) row[j] = z[t - lags[j]!] ?? 0;
      const target = z[t] ?? 0;
      for (let i = 0; i < k; i++) {
        const ri = row[i]!;
        rhs[i]! += ri * target;
        const gi = gram[i]!;
        for (let j = i; j < k; j++) gi[j]! += ri * row[j]!;
      }
      rows++;
    }
  }
  for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) gram[i]![j] = gram[j]![i]!;
  for (let i = 0; i < lags.length; i++) gram[i]![i]! += lambda * rows;
  const beta = solveLinear(gram, rhs);
  if (!beta || !beta.every(Number.isFinite)) return undefined;
  return { lags: [...lags], coefficients: beta.slice(0, lags.length), intercept: beta[lags.length] ?? 0 };
}

/**
 * Forecasts one series with a global model, recursively (each forecast fed back as a lag), on the
 * series' own scale, within the observed range of z widened by half its width on each side. The sd comes from the impulse response with the one-step residual variance of
 * this series under the global coefficients, carried back by the delta method.
 */
export function forecastGlobal(
  model: GlobalAutoregression,
  input: GlobalInput,
  horizon: number,
): { mean: number[]; sd: number[] } | undefined {
  const { z } = input;
  const n = z.length;
  const maxLag = Math.max(...model.lags);
  if (n <= maxLag) return undefined;
  const predict = (path: readonly number[], t: number): number => {
    let v = model.intercept;
    for (let j = 0; j < model.lags.length; j++)
      v += (model.coefficients[j] ?? 0) * (path[t - model.lags[j]!] ?? 0);
    return v;
  };
  let sse = 0;
  for (let t = maxLag; t < n; t++) sse += ((z[t] ?? 0) - predict(z, t)) ** 2;
  const sigma2 = sse / (n - maxLag);
  // An explosive fit (possible on one odd series) cannot leave the observed range widened by half
  // its width on each side.
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of z) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const margin = (hi - lo) / 2;
  const path = [...z];
  for (let h = 0; h < horizon; h++) {
    path.push(Math.min(hi + margin, Math.max(lo - margin, predict(path, n + h))));
  }
  const future = path.slice(n);
  const zSd = autoregressionForecastSd({ ...model, sigma2 }, horizon);
  const mean = future.map((v, h) => input.restore(v, n + h));
  if (!mean.every(Number.isFinite)) return undefined;
  return { mean, sd: future.map((v, h) => (zSd[h] ?? 0) * input.slope(v, n + h)) };
}

/** Global models of a panel, by main period, daily-only or with the week, and holdout cut. */
export type GlobalModels = ReadonlyMap<string, GlobalAutoregression>;

export function globalModelKey(period: number, withWeek: boolean, cut: number): string {
  return `${period}:${withWeek ? "week" : "day"}:${cut}`;
}

export interface PanelSeries {
  y: readonly number[];
  period: number;
  longPeriod: number;
}

/**
 * Fits the global models of a panel: for each main period, one on the daily-adjusted series and one
 * on the series that also have a weekly period, with the week taken out. A panel of one series
 * gets the same model fitted on that series alone. Each is fitted once per `cut`, on every series with its last `cut` points removed, so that a
 * holdout forecast from `n - cut` uses no point after its origin, in any series.
 */
export function fitGlobalModels(
  panel: readonly PanelSeries[],
  cuts: readonly number[],
  recentCycles: number,
): Map<string, GlobalAutoregression> {
  const models = new Map<string, GlobalAutoregression>();
  const periods = new Set(panel.filter((s) => s.period > 1).map((s) => s.period));
  for (const period of periods) {
    const lags = globalLags(period);
    for (const withWeek of [false, true]) {
      const members = panel.filter((s) => s.period === period && (!withWeek || s.longPeriod > period));
      if (members.length === 0) continue;
      for (const cut of cuts) {
        const zs: number[][] = [];
        for (const s of members) {
          const input = globalInput(s.y.slice(0, s.y.length - cut), {
            period,
            longPeriod: withWeek ? s.longPeriod : 0,
            recentCycles,
          });
          if (input) zs.push(input.z);
        }
        if (zs.length === 0) continue;
        const model = fitGlobalAutoregression(zs, lags);
        if (model) models.set(globalModelKey(period, withWeek, cut), model);
      }
    }
  }
  return models;
}
