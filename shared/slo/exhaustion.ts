// Time to exhaustion of an SLO's error budget over a ROLLING period. At h buckets ahead the window
// (t+h−P, t+h] holds the history buckets that have not left it yet plus h forecast buckets, so the
// budget can recover when bad days leave the window; the exhaustion time is the first future time the
// remaining budget reaches 0. Traffic (events per bucket) is forecast by the engine's fast model: one
// ETS(A,N,A) at the detected daily period, or seasonal naive when that beat it on the holdout. The
// full ensemble costs ~27 ms a series against ~0.3 ms, and this runs per SLO per invocation (1,000
// SLOs within a few seconds). Errors are that traffic times the error ratio at its most recent level
// (see ratioForecast), so they keep the traffic's daily shape and follow a step at once.

import { calibratedIntervals } from "../forecast/ensemble.js";
import { smoothingName } from "../forecast/exponential-smoothing.js";
import { fitForecaster, forecastFrom, type Forecaster } from "../forecast/incremental.js";
import { fillGaps } from "../forecast/preprocess.js";
import { detectSeasonalPeriods } from "../forecast/seasonality.js";
import { DAY, durationText } from "./model.js";

export interface BudgetHistoryPoint {
  /** Unix seconds, the end of the bucket. */
  t: number;
  /** Bad events in the bucket (NaN when unknown). */
  errors: number;
  /** All events in the bucket (NaN when unknown). */
  total: number;
}

export interface ExhaustionInput {
  /** SLO target ratio, e.g. 0.999. */
  target: number;
  /** Rolling SLO period, seconds. */
  periodSeconds: number;
  /** Bucket width of the history, seconds (e.g. 3600). */
  stepSeconds: number;
  /** Oldest first, contiguous buckets; ideally at least a period and some more. */
  history: BudgetHistoryPoint[];
  /** Unix seconds: the end of the last bucket. */
  now: number;
  /** How far ahead to look, seconds (default: the period). */
  horizonSeconds?: number;
}

export interface Exhaustion {
  status: "exhausted" | "projected" | "not_within_horizon" | "insufficient_data";
  /**
   * Fraction of the period's budget left now: 1 − errors / ((1 − target) · total) over the last
   * period's buckets (those the history holds); may be < 0. Null when the window has no events.
   */
  budgetRemaining: number | null;
  /** Seconds from `now` until the remaining budget reaches 0 (projected), 0 when exhausted. */
  seconds?: number;
  /** Seconds, pessimistic bound (upper errors, lower totals); undefined = not within the horizon. */
  earliest?: number;
  /** Seconds, optimistic bound (lower errors, upper totals); undefined = not within the horizon. */
  latest?: number;
  /** What was used, for status messages. */
  method: string;
}

/** Below this much usable history the forecast falls back to a straight line at the recent burn rate. */
const MIN_MODEL_SECONDS = 2 * DAY;
/** The model sees at most this much recent history: older behaviour says little about the next days. */
const MODEL_HISTORY_SECONDS = 21 * DAY;
const MAX_MODEL_POINTS = 2016;

export function timeToExhaustion(input: ExhaustionInput): Exhaustion {
  const { target, periodSeconds: period, stepSeconds: step, history } = input;
  if (!(target > 0 && target < 1) || !(step > 0) || !(period >= step)) {
    return { status: "insufficient_data", budgetRemaining: null, method: "invalid target, period or step" };
  }
  const budget = 1 - target;
  const window = Math.max(1, Math.round(period / step));
  const horizon = Math.max(1, Math.ceil((input.horizonSeconds ?? period) / step));
  const first = history.findIndex((p) => Number.isFinite(p.total));
  if (first < 0) return { status: "insufficient_data", budgetRemaining: null, method: "no data" };

  // Leading gaps count as no events (they are before the data starts); inner gaps are filled the way
  // the engine fills them, so a missed scrape does not read as a quiet hour.
  const daily = DAY / step;
  const fillPeriod = Number.isInteger(daily) && daily >= 2 ? daily : 1;
  const usable = history.slice(first);
  const errors = fillGaps(
    usable.map((p) => p.errors),
    fillPeriod,
  ).map((v) => Math.max(0, v));
  const totals = fillGaps(
    usable.map((p) => p.total),
    fillPeriod,
  ).map((v) => Math.max(0, v));
  const known = knownWindow(errors, totals, window);
  const { errors: e0, total: n0 } = known.at(0);
  if (n0 <= 0)
    return { status: "insufficient_data", budgetRemaining: null, method: "no traffic in the window" };
  const budgetRemaining = 1 - e0 / (budget * n0);
  if (budgetRemaining <= 0) {
    return { status: "exhausted", budgetRemaining, seconds: 0, earliest: 0, latest: 0, method: "observed" };
  }
  // Buckets between the last one and `now` (stale data) are forecast like the rest and not counted.
  const lastT = history[history.length - 1]?.t ?? input.now;
  const lag = Math.max(0, input.now - lastT);
  const toSeconds = (steps: number | undefined): number | undefined =>
    steps === undefined ? undefined : Math.max(0, steps * step - lag);

  const recent = Math.min(usable.length, Math.floor(MODEL_HISTORY_SECONDS / step), MAX_MODEL_POINTS);
  const modelTotals = totals.slice(totals.length - recent);
  const modelErrors = errors.slice(errors.length - recent);
  const perDay = Math.max(1, Math.round(DAY / step));
  const short = usable.length * step < MIN_MODEL_SECONDS || modelTotals.every((v) => v === 0);
  const traffic = short
    ? meanForecast(modelTotals.slice(-perDay), horizon, window)
    : seriesForecast(modelTotals, step, horizon, window);
  const ratio = ratioForecast(modelErrors, modelTotals, step, horizon, window);
  const forecast = windowForecast(traffic, ratio, horizon, window);
  const method = short
    ? `linear (short history): mean traffic of the last day × ${ratio.name}`
    : `${traffic.name} on totals × ${ratio.name} (${durationText(step)} buckets)`;

  // Pessimistic: the error ratio at its upper 95 % bound, with traffic at whichever end of its
  // interval burns faster (more future traffic weighs the future's ratio more against the known
  // part); optimistic the other way round. Errors are the ratio times the traffic, so the two never
  // disagree about how many events there are.
  const crossing = (ratioSide: -1 | 0 | 1): number | undefined =>
    firstCrossing(horizon, (h) => {
      const k = known.at(h);
      const slackAt = (trafficSide: -1 | 0 | 1): number => {
        const f = forecast.at(h, ratioSide, trafficSide);
        const errors = k.errors + f.errors;
        // A window without errors has budget left even when it has no events either.
        return errors > 0
          ? budget * (k.total + f.total) - errors
          : Math.max(budget * (k.total + f.total), 1e-300);
      };
      if (ratioSide === 0) return slackAt(0);
      const a = slackAt(-1);
      const b = slackAt(1);
      return ratioSide > 0 ? Math.min(a, b) : Math.max(a, b);
    });
  const seconds = toSeconds(crossing(0));
  const earliest = toSeconds(crossing(1));
  const latest = toSeconds(crossing(-1));
  const base = { budgetRemaining, earliest, latest, method };
  return seconds === undefined
    ? { status: "not_within_horizon", ...base }
    : { status: "projected", seconds, ...base };
}

/** A forecast per future bucket (index 0 = the first) and the sd of its window sums. */
interface BucketForecast {
  name: string;
  /** Per bucket, clamped at ≥ 0. */
  mean: number[];
  /** sd of the sum of the forecast buckets inside the window h buckets ahead (index h; 0 unused). */
  sumSd: number[];
  /** The 95 % quantile in sd units (the engine's holdout-calibrated one for a model). */
  q95: number;
}

/** Errors and events of the forecast part of the window h buckets ahead, at the mean or a bound. */
interface WindowForecast {
  at(h: number, ratioSide: -1 | 0 | 1, trafficSide: -1 | 0 | 1): { errors: number; total: number };
}

/** Errors and events of the history buckets still inside the window h buckets ahead. */
function knownWindow(
  errors: readonly number[],
  totals: readonly number[],
  window: number,
): { at(h: number): { errors: number; total: number } } {
  const n = errors.length;
  const pe = prefixSums(errors);
  const pt = prefixSums(totals);
  return {
    at(h) {
      const from = Math.min(n, Math.max(0, n + h - window));
      return { errors: pe[n]! - pe[from]!, total: pt[n]! - pt[from]! };
    },
  };
}

/**
 * The first fractional step h in (0, horizon] at which errors reach the allowed errors (slack ≤ 0),
 * interpolating linearly within the bucket; undefined when the budget lasts the horizon.
 */
function firstCrossing(horizon: number, slackAt: (h: number) => number): number | undefined {
  let prev = slackAt(0);
  for (let h = 1; h <= horizon; h++) {
    const slack = slackAt(h);
    if (slack <= 0) return h - 1 + (prev > 0 ? prev / (prev - slack) : 0);
    prev = slack;
  }
  return undefined;
}

/**
 * Errors are forecast as traffic × error ratio. Bounds of the window sums: traffic ± q·sd of its sum;
 * errors ± q·sd of the ratio's sum times the mean traffic per bucket, then scaled with the traffic
 * bound so a low-traffic future also has fewer errors.
 */
function windowForecast(
  traffic: BucketForecast,
  ratio: BucketForecast,
  horizon: number,
  window: number,
): WindowForecast {
  const pt = prefixSums(traffic.mean);
  const pe = prefixSums(traffic.mean.map((v, i) => v * (ratio.mean[i] ?? 0)));
  return {
    at(h, ratioSide, trafficSide) {
      if (h <= 0) return { errors: 0, total: 0 };
      const end = Math.min(h, horizon);
      const from = Math.max(0, end - window);
      const n0 = pt[end]! - pt[from]!;
      const e0 = pe[end]! - pe[from]!;
      const total = Math.max(0, n0 + trafficSide * traffic.q95 * (traffic.sumSd[end] ?? 0));
      const perBucket = n0 / (end - from);
      const errors = e0 + ratioSide * ratio.q95 * (ratio.sumSd[end] ?? 0) * perBucket;
      return { errors: n0 > 0 ? Math.max(0, errors) * (total / n0) : 0, total };
    },
  };
}

/**
 * The engine's fast model on one series. The bound of a window sum is not the sum of per-bucket
 * bounds (that treats every bucket's noise as one shared shock and is far too wide): under the fitted
 * ETS model the forecast error of steps a..h is a linear combination of future innovations, ε_j
 * weighted by 1 + C(h − j) when j is inside the window and C(h − j) − C(a − 1 − j) before it,
 * C(i) = Σ_{l≤i} (α + γ·[l mod m = 0]). Its sd, times the engine's holdout-calibrated 95 % quantile,
 * is the half-width.
 */
function seriesForecast(y: readonly number[], step: number, horizon: number, window: number): BucketForecast {
  const found = detectSeasonalPeriods(y, step);
  // As the engine does: the shortest period found (a day); ETS on a week of hourly states is too thin.
  const period = found[found.length - 1] ?? 1;
  const forecaster = fitForecaster(y, period, horizon);
  if (!forecaster) return meanForecast(y.slice(-Math.max(1, Math.round(DAY / step))), horizon, window);
  const fc = forecastFrom(forecaster, horizon);
  return {
    name: forecaster.useSeasonalNaive
      ? `snaive(${forecaster.lastCycle.length})`
      : smoothingName(forecaster.model.spec),
    mean: fc.mean.map((v) => Math.max(0, v)),
    sumSd: sumSd(forecaster, horizon, window),
    q95: calibratedIntervals({ mean: [0], sd: [1] }, forecaster.ratios).upper95[0] ?? 1.96,
  };
}

/** sd of the forecast window sum h buckets ahead (index h = 1..horizon) under the fitted model. */
function sumSd(f: Forecaster, horizon: number, window: number): number[] {
  const { spec, params, sigma2 } = f.model;
  const m = spec.season === "N" ? 0 : spec.period;
  const alpha = params.alpha;
  const gamma = spec.season === "N" ? 0 : params.gamma;
  const out = [0];
  // inside = Σ_{i<h} (1 + C(i))², the variance weight of the window's own innovations.
  let inside = 0;
  let c = 0;
  for (let h = 1; h <= Math.min(horizon, window); h++) {
    inside += (1 + c) ** 2;
    c += alpha + (m > 0 && h % m === 0 ? gamma : 0);
    out.push(Math.sqrt(sigma2 * inside));
  }
  // Innovations before the window's first forecast step still move every bucket in it: each by about
  // α·w + γ·w/m in total (exact when the window is whole seasons).
  const carried = alpha * window + (m > 0 ? (gamma * window) / m : 0);
  for (let h = window + 1; h <= horizon; h++)
    out.push(Math.sqrt(sigma2 * (inside + (h - window) * carried ** 2)));
  return out;
}

/**
 * A straight line at a mean level: its sum over c buckets is uncertain by the level's standard error
 * (shared by every bucket) and by the buckets' own noise.
 */
function meanForecast(
  recent: readonly number[],
  horizon: number,
  window: number,
  level = mean(recent),
): BucketForecast {
  let ss = 0;
  for (const v of recent) ss += (v - level) ** 2;
  const variance = recent.length > 1 ? ss / (recent.length - 1) : level * level;
  const se = Math.sqrt(variance / Math.max(1, recent.length));
  const sumSd = [0];
  for (let h = 1; h <= horizon; h++) {
    const c = Math.min(h, window);
    sumSd.push(Math.sqrt((se * c) ** 2 + variance * c));
  }
  return { name: "mean", mean: new Array<number>(horizon).fill(Math.max(0, level)), sumSd, q95: 1.96 };
}

/**
 * The error ratio (errors / events per bucket) at its most recent level: an incident that started a
 * few hours ago is what the next days look like, and a model fitted across the step averages it away
 * for days. The level is the summed errors over the summed events since the last shift; errors then
 * follow the traffic forecast, daily shape included. The engine's ETS on the ratio itself was tried
 * and measured worse (its level chases the last hours' Poisson noise: p90 error 22.9 h against 18.5 h
 * on the benchmark, 30+ h off on a ratio with a daily swing), so the ratio is left flat.
 */
function ratioForecast(
  errors: readonly number[],
  totals: readonly number[],
  step: number,
  horizon: number,
  window: number,
): BucketForecast {
  const raw = errors.map((e, i) => ((totals[i] ?? 0) > 0 ? e / totals[i]! : NaN));
  const ratio = fillGaps(raw);
  const start = lastLevelStart(ratio, MIN_LEVEL_BUCKETS);
  let e = 0;
  let n = 0;
  for (let i = start; i < ratio.length; i++) {
    e += errors[i] ?? 0;
    n += totals[i] ?? 0;
  }
  const f = meanForecast(ratio.slice(start), horizon, window, n > 0 ? e / n : 0);
  return { ...f, name: `the error ratio of the last ${durationText((ratio.length - start) * step)}` };
}

/** A level needs this many buckets before a change to it is believed. */
const MIN_LEVEL_BUCKETS = 3;
/** How many noise sd (of the difference of two means) a level shift must be, for one in hundreds of splits. */
const SHIFT_THRESHOLD = 5;

/**
 * Start of the series' most recent level: the best single split (largest difference of the means
 * before and after, in units of its standard error) is taken when it clears the threshold, then the
 * part after it is searched again. Noise from successive differences, which a level shift barely moves.
 */
export function lastLevelStart(x: readonly number[], minLength: number): number {
  let start = 0;
  for (let pass = 0; pass < 8; pass++) {
    const len = x.length - start;
    if (len < 2 * minLength) break;
    let sq = 0;
    for (let i = start + 1; i < x.length; i++) sq += (x[i]! - x[i - 1]!) ** 2;
    const sigma = Math.sqrt(sq / (2 * (len - 1)));
    if (!(sigma > 0)) break;
    let total = 0;
    for (let i = start; i < x.length; i++) total += x[i]!;
    let before = 0;
    let best = 0;
    let bestAt = -1;
    for (let k = 1; k < len; k++) {
      before += x[start + k - 1]!;
      if (k < minLength || len - k < minLength) continue;
      const diff = (total - before) / (len - k) - before / k;
      const t = Math.abs(diff) / (sigma * Math.sqrt(1 / k + 1 / (len - k)));
      if (t > best) {
        best = t;
        bestAt = k;
      }
    }
    if (best < SHIFT_THRESHOLD || bestAt < 0) break;
    start += bestAt;
  }
  return start;
}

function prefixSums(x: readonly number[]): number[] {
  const out = new Array<number>(x.length + 1);
  out[0] = 0;
  for (let i = 0; i < x.length; i++) out[i + 1] = out[i]! + x[i]!;
  return out;
}

function mean(x: readonly number[]): number {
  let s = 0;
  for (const v of x) s += v;
  return x.length ? s / x.length : 0;
}
