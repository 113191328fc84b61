// The streaming anomaly detector. Each point is seen once, in order; the score of a point depends
// only on it and the points before it. Steps per point:
//  1. predict it from the past: a local predictor (median of the last few points) and, once a day of
//     history exists, a seasonal one (the same time the day before, shifted to the current level);
//  2. standardise each residual by the median and MAD of that predictor's recent residuals; the
//     surprise is the smaller |z| (a point must be unusual for both views);
//  3. average the last few surprises and compare that with the largest average seen over a long
//     trailing horizon: an alarm needs a surprise clearly beyond anything recent history has shown,
//     which is what keeps heavy-tailed series (tweet volumes) from alarming on every burst;
//  4. after an alarm the score is held below the line for a cool-down, so one incident raises one
//     alarm (NAB rewards only the first detection in a window and charges every false positive).

import {
  createRobustWindow,
  pushValue,
  windowMad,
  windowMedian,
  type RobustWindow,
} from "./robust-window.js";
import { createMaxWindow, pushMax, windowMax, type MaxWindow } from "./max-window.js";

export interface DetectorOptions {
  /** Residual history used for the median/MAD scale. */
  residualWindow: number;
  /** Recent surprises averaged into the alarm statistic. */
  shortWindow: number;
  /** Trailing horizon, in points, of averaged surprises the current one is compared with. */
  referenceWindow: number;
  /** An alarm needs the averaged surprise to exceed this multiple of the reference maximum. */
  margin: number;
  /** The same for the single latest surprise (spikes). */
  instantMargin: number;
  /** Residuals needed before a surprise counts. */
  minResiduals: number;
  /** Surprises are clipped here. */
  cap: number;
  /** ... and at least this many robust standard deviations. */
  minSurprise: number;
  /** Points scored 0 while the statistics fill up. */
  warmup: number;
  /** Points after an alarm during which the score stays below 0.5. */
  cooldown: number;
  /** Points the local predictor takes the median of. */
  localSpan: number;
  /** Seasonal period in points; 0 = derive a day from the timestamps. */
  period: number;
}

export const DEFAULT_DETECTOR: DetectorOptions = {
  residualWindow: 600,
  shortWindow: 5,
  referenceWindow: 2000,
  margin: 1.0,
  instantMargin: 1.0,
  cap: 1000,
  minResiduals: 50,
  minSurprise: 4,
  warmup: 150,
  cooldown: 300,
  localSpan: 5,
  period: 0,
};

export interface DetectorState {
  options: DetectorOptions;
  seen: number;
  history: number[];
  firstTimestamps: number[];
  period: number;
  local: RobustWindow;
  seasonal: RobustWindow;
  recent: number[];
  reference: MaxWindow;
  instantReference: MaxWindow;
  lastAlarm: number;
}

export function createDetector(options: Partial<DetectorOptions> = {}): DetectorState {
  const o = { ...DEFAULT_DETECTOR, ...options };
  return {
    options: o,
    seen: 0,
    history: [],
    firstTimestamps: [],
    period: o.period,
    local: createRobustWindow(o.residualWindow),
    seasonal: createRobustWindow(o.residualWindow),
    recent: [],
    reference: createMaxWindow(o.referenceWindow),
    instantReference: createMaxWindow(o.referenceWindow),
    lastAlarm: -Infinity,
  };
}

/** Scores one point; `timestamp` in epoch seconds (used only to find the length of a day). */
export function observePoint(state: DetectorState, timestamp: number, value: number): number {
  const o = state.options;
  const i = state.seen++;
  if (!state.period && state.firstTimestamps.length < 50) {
    state.firstTimestamps.push(timestamp);
    if (state.firstTimestamps.length === 50) state.period = dayInPoints(state.firstTimestamps);
  }
  const h = state.history;
  const x = Number.isFinite(value) ? value : (h[h.length - 1] ?? 0);
  const z: number[] = [];
  if (h.length >= o.localSpan) {
    const localPrediction = medianOfLast(h, o.localSpan, 0);
    z.push(standardise(state.local, x - localPrediction, x));
  }
  const p = state.period;
  if (p > 1 && h.length >= p + o.localSpan) {
    // Yesterday at this time, moved by how much the local level has changed since.
    const dayAgo = medianOfLast(h, 3, p - 2);
    const levelThen = medianOfLast(h, o.localSpan, p);
    const levelNow = medianOfLast(h, o.localSpan, 0);
    z.push(standardise(state.seasonal, x - (dayAgo + levelNow - levelThen), x));
  }
  h.push(x);
  const keep = Math.max(p, 0) + 2 * o.localSpan + 2;
  if (h.length > keep * 2) h.splice(0, h.length - keep);
  // Until the residual scales rest on enough points, a surprise means nothing.
  if (z.length === 0 || state.local.ring.length < o.minResiduals) return 0;
  const surprise = Math.min(...z.map(Math.abs));
  const r = state.recent;
  const s = Math.min(surprise, o.cap);
  r.push(s);
  if (r.length > o.shortWindow) r.shift();
  const avg = r.reduce((a, b) => a + b, 0) / r.length;
  const ref = windowMax(state.reference);
  const instantRef = windowMax(state.instantReference);
  pushMax(state.reference, i, avg);
  pushMax(state.instantReference, i, s);
  if (i < o.warmup) return 0;
  const bar = Math.max(o.margin * ref, o.minSurprise);
  const instantBar = Math.max(o.instantMargin * instantRef, o.minSurprise);
  let score = Math.min(1, Math.max((0.5 * avg) / bar, (0.5 * s) / instantBar));
  if (score >= 0.5) {
    if (i - state.lastAlarm < o.cooldown) score = 0.49;
    else state.lastAlarm = i;
  }
  return score;
}

/** Scores a whole series point by point (the streaming detector, run over an array). */
export function scoreSeries(
  timestamps: readonly number[],
  values: readonly number[],
  options: Partial<DetectorOptions> = {},
): number[] {
  const state = createDetector(options);
  return values.map((v, i) => observePoint(state, timestamps[i] ?? i, v));
}

function standardise(w: RobustWindow, residual: number, value: number): number {
  const med = w.sorted.length ? windowMedian(w) : 0;
  const mad = w.sorted.length ? windowMad(w) : 0;
  // A floor on the scale keeps flat stretches from turning rounding noise into alarms.
  const scale = 1.4826 * mad + 1e-3 * Math.abs(value) + 1e-9;
  pushValue(w, residual);
  return (residual - med) / scale;
}

function medianOfLast(h: readonly number[], k: number, lag: number): number {
  const end = h.length - lag;
  const xs: number[] = [];
  for (let j = Math.max(0, end - k); j < end; j++) xs.push(h[j]!);
  xs.sort((a, b) => a - b);
  const mid = xs.length >> 1;
  return xs.length === 0 ? 0 : xs.length % 2 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}

/** Points per day from the median spacing of the first timestamps; 0 when that is not a whole number. */
function dayInPoints(ts: readonly number[]): number {
  const d = ts
    .slice(1)
    .map((t, i) => t - (ts[i] ?? 0))
    .sort((a, b) => a - b);
  const step = d[d.length >> 1] ?? 0;
  if (step <= 0) return 0;
  const p = Math.round(86_400 / step);
  return p >= 2 && p <= 10_000 ? p : 0;
}
