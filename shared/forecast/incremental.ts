// The fast, incremental forecaster for metric data: one exponential smoothing model (seasonal when
// a period is known), fitted once on all but the last `horizon` points, checked against seasonal
// naive on those points, then moved forward over them without refitting. The fitted model is plain
// data: keep it, call `updateForecaster` with new points, and forecast again without a refit.

import { calibratedIntervals, type IntervalForecast } from "./ensemble.js";
import {
  fitSmoothing,
  forecastSmoothing,
  smoothingForecastSd,
  updateSmoothing,
  type SmoothingModel,
} from "./exponential-smoothing.js";
import { seasonalNaiveForecast } from "./naive.js";

export interface Forecaster {
  model: SmoothingModel;
  /** Holdout |error| / sd ratios that calibrate the intervals. */
  ratios: number[];
  /** Seasonal naive beat the model on the holdout: forecast the last cycle instead. */
  useSeasonalNaive: boolean;
  /** The last cycle of observations, for seasonal naive. */
  lastCycle: number[];
}

export function fitForecaster(y: readonly number[], period: number, horizon: number): Forecaster | undefined {
  const seasonal = period > 1 && y.length >= 3 * period;
  const spec = seasonal
    ? ({ trend: "N", season: "A", period } as const)
    : ({ trend: "N", season: "N", period: 1 } as const);
  const holdout = Math.min(horizon, Math.floor(y.length / 4));
  const train = y.slice(0, y.length - holdout);
  const fitted = fitSmoothing(train, spec, { maxEvaluations: 24 });
  if (!fitted) return undefined;
  const actual = y.slice(y.length - holdout);
  const fc = forecastSmoothing(fitted, holdout);
  const sd = smoothingForecastSd(fitted, holdout);
  const snaive = seasonal ? seasonalNaiveForecast(train, holdout, period) : undefined;
  let modelErr = 0;
  let naiveErr = 0;
  const ratios: number[] = [];
  actual.forEach((v, i) => {
    modelErr += Math.abs(v - (fc[i] ?? 0));
    naiveErr += snaive ? Math.abs(v - (snaive[i] ?? 0)) : Infinity;
    if ((sd[i] ?? 0) > 0) ratios.push(Math.abs(v - (fc[i] ?? 0)) / (sd[i] ?? 1));
  });
  return {
    model: updateSmoothing(fitted, actual),
    ratios,
    useSeasonalNaive: naiveErr < modelErr,
    lastCycle: y.slice(Math.max(0, y.length - Math.max(period, 1))),
  };
}

export function updateForecaster(f: Forecaster, y: readonly number[]): Forecaster {
  const p = f.lastCycle.length;
  return { ...f, model: updateSmoothing(f.model, y), lastCycle: [...f.lastCycle, ...y].slice(-p) };
}

export function forecastFrom(f: Forecaster, horizon: number): IntervalForecast {
  const sd = smoothingForecastSd(f.model, horizon);
  const mean = f.useSeasonalNaive
    ? seasonalNaiveForecast(f.lastCycle, horizon, f.lastCycle.length)
    : forecastSmoothing(f.model, horizon);
  return calibratedIntervals({ mean, sd }, f.ratios);
}
