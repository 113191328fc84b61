// The pure half of forecast-scaling: demand history in, a forecast and the number of pods to hold
// in reserve out. No I/O, so the CLI (`prophet capacity plan`), the function and the benchmark all
// plan the same way.
//
// What to provision for, at each evaluation (now = the last sample):
//   the highest of (a) the chosen forecast bound (upper 95 % by default) over the window from now
//   to now + node lead time + one evaluation interval (capacity asked for now is ready by then, and
//   the next evaluation can ask again), (b) the seasonal peak memory: the highest demand seen
//   around that time of day on the last three days (a smoothed forecast flattens a steep morning
//   ramp; yesterday's ramp does not), and (c) the demand now, plus headroom.
// The buffer is that target minus the demand already served, in pods of the workload's shape.
import { seasonalPeak } from "../forecast/capacity.js";
import { forecastSeries, type SeriesForecast } from "../forecast/engine.js";
import { fillGaps } from "../forecast/preprocess.js";
import { detectSeasonalPeriods, SECONDS_PER_DAY } from "../forecast/seasonality.js";
import type { Series } from "../ports/metrics.js";
import type { ProvisionBound } from "./spec.js";

/** Demand on a regular grid: values[i] is at start + i * step (unix seconds); NaN where missing. */
export interface DemandGrid {
  start: number;
  step: number;
  values: number[];
}

/** Sums every series of a range answer per timestamp, on the grid from start to end. */
export function demandGrid(series: readonly Series[], start: number, end: number, step: number): DemandGrid {
  const n = Math.max(0, Math.floor((end - start) / step) + 1);
  const values = new Array<number>(n).fill(NaN);
  for (const s of series)
    for (const [t, v] of s.points) {
      const i = Math.round((t - start) / step);
      if (i < 0 || i >= n || !Number.isFinite(v)) continue;
      values[i] = Number.isFinite(values[i]) ? values[i]! + v : v;
    }
  // Trailing slots the server has no sample for yet are not demand: drop them.
  let last = n - 1;
  while (last >= 0 && !Number.isFinite(values[last])) last--;
  return { start, step, values: values.slice(0, last + 1) };
}

export interface DemandForecast {
  /** Unix seconds of the last observed point, which the forecast continues. */
  from: number;
  step: number;
  /** Forecast points at from + (i + 1) * step. */
  forecast: SeriesForecast;
  /** The daily period in points, 0 when the history does not show one. */
  dailyPeriod: number;
}

/** Forecasts `horizonPoints` ahead with the engine (its fast path: one fitted smoothing model). */
export function forecastDemand(grid: DemandGrid, horizonPoints: number): DemandForecast | undefined {
  const y = fillGaps(grid.values);
  if (y.length < 3) return undefined;
  const day = SECONDS_PER_DAY / grid.step;
  const daily = Number.isInteger(day) && detectSeasonalPeriods(y, grid.step).includes(day) ? day : 0;
  // An explicit period: the engine's step-less fallback (M4's calendar lags) means nothing here.
  const forecast = forecastSeries(y, { horizon: horizonPoints, period: daily || 1, effort: "fast" });
  return { from: grid.start + (y.length - 1) * grid.step, step: grid.step, forecast, dailyPeriod: daily };
}

export interface TargetOptions {
  /** Points from now that the capacity must cover (lead time + evaluation interval). */
  windowPoints: number;
  provisionFor: ProvisionBound;
  headroomPercent: number;
  /** Points either side of the same time of day the seasonal memory looks at (default 5 min). */
  seasonalHalfWidth?: number;
}

export interface DemandTarget {
  /** The latest observed demand. */
  current: number;
  /** Demand to have capacity for over the window, headroom included. */
  target: number;
  /** Which term decided the target. */
  decidedBy: "forecast" | "seasonal-peak" | "current";
  /** The forecast's bound over the window and the seasonal peak memory, for the status. */
  forecastBound: number;
  seasonalPeak: number;
  /** The highest point of the mean forecast over the horizon, and when (unix seconds). */
  predictedPeak: { value: number; at: number };
}

export function demandTarget(grid: DemandGrid, fc: DemandForecast, o: TargetOptions): DemandTarget {
  const y = grid.values;
  const nowIdx = y.length - 1;
  let current = y[nowIdx] ?? 0;
  if (!Number.isFinite(current)) current = 0;
  const bound = fc.forecast[o.provisionFor];
  const k = Math.max(1, Math.min(o.windowPoints, bound.length));
  let forecastBound = 0;
  for (let i = 0; i < k; i++) forecastBound = Math.max(forecastBound, bound[i] ?? 0);
  let peakMemory = 0;
  if (fc.dailyPeriod > 0 || y.length > SECONDS_PER_DAY / grid.step) {
    const period = Math.round(SECONDS_PER_DAY / grid.step);
    const halfWidth = o.seasonalHalfWidth ?? Math.max(1, Math.round(300 / grid.step));
    for (let i = 1; i <= k; i++)
      peakMemory = Math.max(
        peakMemory,
        seasonalPeak(y, nowIdx, nowIdx + i, { period, halfWidth, cycles: 3 }),
      );
  }
  const candidates: [DemandTarget["decidedBy"], number][] = [
    ["current", current],
    ["forecast", forecastBound],
    ["seasonal-peak", peakMemory],
  ];
  let best = candidates[0]!;
  for (const c of candidates) if (c[1] > best[1]) best = c;
  const mean = fc.forecast.mean;
  let peakIdx = 0;
  for (let i = 1; i < mean.length; i++) if ((mean[i] ?? 0) > (mean[peakIdx] ?? 0)) peakIdx = i;
  return {
    current,
    target: best[1] * (1 + o.headroomPercent / 100),
    decidedBy: best[0],
    forecastBound,
    seasonalPeak: peakMemory,
    predictedPeak: { value: mean[peakIdx] ?? current, at: fc.from + (peakIdx + 1) * fc.step },
  };
}

/** Pods (replicas of the workload's shape) a demand needs. */
export function replicasFor(demand: number, perReplica: number): number {
  return Math.max(0, Math.ceil(demand / perReplica - 1e-9));
}

export interface BufferMemory {
  /** Pods held in reserve now. */
  replicas: number;
  /** When the buffer last grew (unix seconds), for the scale-down cooldown. */
  increasedAt: number | null;
}

export interface BufferDecision extends BufferMemory {
  /** What the forecast asks for, before hysteresis. */
  desired: number;
  change: "up" | "down" | "none";
  /** Why a smaller desired buffer was not applied. */
  held?: "cooldown" | "threshold";
}

/**
 * Grows at once; shrinks only when the desired buffer is more than `thresholdPercent` below the
 * current one and the last increase is at least `cooldownSeconds` old (no flapping on noise).
 */
export function nextBuffer(
  prev: BufferMemory,
  desired: number,
  now: number,
  o: { thresholdPercent: number; cooldownSeconds: number },
): BufferDecision {
  if (desired > prev.replicas) return { desired, replicas: desired, increasedAt: now, change: "up" };
  if (desired === prev.replicas) return { desired, ...prev, change: "none" };
  if (prev.increasedAt !== null && now - prev.increasedAt < o.cooldownSeconds)
    return { desired, ...prev, change: "none", held: "cooldown" };
  if (prev.replicas - desired <= (prev.replicas * o.thresholdPercent) / 100)
    return { desired, ...prev, change: "none", held: "threshold" };
  return { desired, replicas: desired, increasedAt: prev.increasedAt, change: "down" };
}
