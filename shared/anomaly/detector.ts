// The streaming anomaly detector. Each point is seen once, in order; the score of a point depends
// only on it and the points before it (no file length, no global min/max). Per point:
//  1. predict it from the past: a local predictor (median of the last few points) and, once a day of
//     history exists, a seasonal one (the same time on the last few days, moved to the current level);
//  2. standardise each residual by the median and MAD of that predictor's recent residuals. The
//     surprise is the seasonal |z| when the seasonal predictor has been about as tight as the local
//     one (a series that repeats its days), otherwise the smaller |z| (unusual for both views);
//  3. compare the latest surprise and its half-hour average with their typical daily maxima
//     (`exceedance.ts`): an alarm needs a surprise clearly beyond what this series shows every day;
//  4. value novelty, as in CAD OSE: a value that leaves the range the series has shown so far;
//  5. after an alarm the score is held below the line for a cool-down, unless a clearly bigger
//     incident follows, so one incident raises one alarm (NAB rewards the first detection in a
//     window and charges every false positive).
// Score = 0.5 × the strongest of the three ratios, clipped to [0, 1]; 0.5 is the alarm line.

import {
  createExceedance,
  observeExceedance,
  type Exceedance,
  type ExceedanceOptions,
} from "./exceedance.js";
import {
  createRobustWindow,
  pushValue,
  windowMad,
  windowMedian,
  type RobustWindow,
} from "./robust-window.js";

export interface DetectorOptions {
  /** Residual history used for the median/MAD scale. */
  residualWindow: number;
  /** Weight of the mean absolute residual as a lower bound on the scale (MAD is 0 for sparse counts). */
  meanAbsWeight: number;
  /** Residuals needed before a surprise counts. */
  minResiduals: number;
  /** Points the local predictor takes the median of. */
  localSpan: number;
  /** Seasonal period in points; 0 = derive a day from the timestamps. */
  period: number;
  /** Days the seasonal predictor takes the median over. */
  seasonDays: number;
  /** The seasonal surprise alone counts while its residual scale is below this multiple of the
   * local one's (a series that repeats its days); otherwise a point must surprise both. */
  seasonalPreference: number;
  /** Span of the averaged surprise, in seconds (points when the step is unknown: 5). */
  averageSeconds: number;
  /** Length of a block for the typical maximum, in seconds. */
  blockSeconds: number;
  /** Bars for the averaged and the latest surprise. */
  averagedBar: ExceedanceOptions;
  instantBar: ExceedanceOptions;
  /** Value novelty: alarm at this position in the range seen so far (1 = the maximum), and at this
   * share of the range below the minimum. */
  rangeHigh: number;
  rangeLow: number;
  /** Points before the range starts to be learnt (start-up transients are not "normal"). */
  rangeStart: number;
  /** Points scored 0 while the statistics fill up. */
  warmup: number;
  /** Points after an alarm during which the score stays below 0.5 ... */
  cooldown: number;
  /** ... unless the new strength is this multiple of the last alarm's. */
  escalation: number;
}

// One configuration for every series; how it was chosen is in docs/forecast.md.
export const DEFAULT_DETECTOR: DetectorOptions = {
  residualWindow: 1200,
  meanAbsWeight: 0.7,
  minResiduals: 50,
  localSpan: 5,
  period: 0,
  seasonDays: 3,
  seasonalPreference: 1.5,
  averageSeconds: 1800,
  blockSeconds: 86_400,
  averagedBar: { margin: 2, quantile: 0.75, blocks: 30, minBlocks: 2, floor: 4 },
  instantBar: { margin: 2, quantile: 0.5, blocks: 30, minBlocks: 2, floor: 4 },
  rangeHigh: 1.05,
  rangeLow: 0.05,
  rangeStart: 50,
  warmup: 150,
  cooldown: 100,
  escalation: 2,
};

export interface DetectorState {
  options: DetectorOptions;
  seen: number;
  history: number[];
  firstTimestamps: number[];
  period: number;
  averagePoints: number;
  local: RobustWindow;
  seasonal: RobustWindow;
  recent: number[];
  averaged: Exceedance;
  instant: Exceedance;
  high: number;
  low: number;
  lastAlarm: number;
  lastStrength: number;
}

const DEFAULT_BLOCK_POINTS = 288;

export function createDetector(options: Partial<DetectorOptions> = {}): DetectorState {
  const o = { ...DEFAULT_DETECTOR, ...options };
  return {
    options: o,
    seen: 0,
    history: [],
    firstTimestamps: [],
    period: o.period,
    averagePoints: 5,
    local: createRobustWindow(o.residualWindow),
    seasonal: createRobustWindow(o.residualWindow),
    recent: [],
    averaged: createExceedance(o.averagedBar, DEFAULT_BLOCK_POINTS),
    instant: createExceedance(o.instantBar, DEFAULT_BLOCK_POINTS),
    high: -Infinity,
    low: Infinity,
    lastAlarm: -Infinity,
    lastStrength: 0,
  };
}

/** Scores one point; `timestamp` in epoch seconds (used only for the step: day, half-hour). */
export function observePoint(state: DetectorState, timestamp: number, value: number): number {
  const o = state.options;
  const i = state.seen++;
  if (state.firstTimestamps.length < 50) {
    state.firstTimestamps.push(timestamp);
    if (state.firstTimestamps.length === 50) fixTimeScales(state);
  }
  const h = state.history;
  const known = Number.isFinite(value);
  const x = known ? value : (h[h.length - 1] ?? 0);
  const z: number[] = [];
  if (h.length >= o.localSpan) {
    z.push(standardise(state.local, x - medianOfLast(h, o.localSpan, 0), x, o.meanAbsWeight));
  }
  const p = state.period;
  if (p > 1 && h.length >= p + o.localSpan) {
    // The same time on recent days, each moved by how much the local level has changed since; the
    // median over days keeps one unusual day from becoming the forecast for the next.
    const days = Math.max(1, Math.min(o.seasonDays, Math.floor((h.length - o.localSpan) / p)));
    const levelNow = medianOfLast(h, o.localSpan, 0);
    const shifted: number[] = [];
    for (let d = 1; d <= days; d++)
      shifted.push(medianOfLast(h, 3, d * p - 2) - medianOfLast(h, o.localSpan, d * p) + levelNow);
    z.push(standardise(state.seasonal, x - median(shifted), x, o.meanAbsWeight));
  }
  h.push(x);
  const keep = Math.max(p, 0) * o.seasonDays + 2 * o.localSpan + 2;
  if (h.length > keep * 2) h.splice(0, h.length - keep);

  // Value novelty against the range seen before this point.
  const span = state.high - state.low;
  let novelty = 0;
  if (known && span > 0) {
    const pos = (value - state.low) / span;
    novelty = Math.max(pos / o.rangeHigh, (1 - pos) / (1 + o.rangeLow));
  }
  if (known && i >= o.rangeStart) {
    state.high = Math.max(state.high, value);
    state.low = Math.min(state.low, value);
  }

  // Until the residual scales rest on enough points, a surprise means nothing.
  if (z.length === 0 || state.local.ring.length < o.minResiduals) return 0;
  let surprise = Math.min(...z.map(Math.abs));
  if (z.length === 2 && windowMad(state.seasonal) < o.seasonalPreference * windowMad(state.local))
    surprise = Math.abs(z[1]!);
  surprise = Math.min(surprise, 1000);
  const r = state.recent;
  r.push(surprise);
  if (r.length > state.averagePoints) r.shift();
  const averaged = observeExceedance(state.averaged, r.reduce((a, b) => a + b, 0) / r.length);
  const instant = observeExceedance(state.instant, surprise);
  if (i < o.warmup) return 0;

  const strength = Math.max(averaged, instant, novelty);
  let score = Math.min(1, 0.5 * strength);
  if (score >= 0.5) {
    if (i - state.lastAlarm < o.cooldown && strength < o.escalation * state.lastStrength) score = 0.49;
    else {
      state.lastAlarm = i;
      state.lastStrength = strength;
    }
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

function standardise(w: RobustWindow, residual: number, value: number, meanAbsWeight: number): number {
  const n = w.ring.length;
  const med = n ? windowMedian(w) : 0;
  const mad = n ? windowMad(w) : 0;
  const meanAbs = n ? w.absSum / n : 0;
  // Floors on the scale keep flat stretches and mostly-zero counts from turning noise into alarms.
  const scale = Math.max(1.4826 * mad, meanAbsWeight * meanAbs) + 1e-3 * Math.abs(value) + 1e-9;
  pushValue(w, residual);
  return (residual - med) / scale;
}

/** Once the step is known, spans given in seconds become point counts. */
function fixTimeScales(state: DetectorState): void {
  const o = state.options;
  const ts = state.firstTimestamps;
  const d = ts
    .slice(1)
    .map((t, i) => t - (ts[i] ?? 0))
    .sort((a, b) => a - b);
  const step = d[d.length >> 1] ?? 0;
  if (step <= 0) return;
  if (!state.period) {
    const day = Math.round(86_400 / step);
    state.period = day >= 2 && day <= 10_000 ? day : 0;
  }
  state.averagePoints = Math.max(1, Math.round(o.averageSeconds / step));
  const blockPoints = Math.max(1, Math.round(o.blockSeconds / step));
  state.averaged.blockPoints = blockPoints;
  state.instant.blockPoints = blockPoints;
}

function median(xs: number[]): number {
  xs.sort((a, b) => a - b);
  const mid = xs.length >> 1;
  return xs.length === 0 ? 0 : xs.length % 2 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}

function medianOfLast(h: readonly number[], k: number, lag: number): number {
  const end = h.length - lag;
  const xs: number[] = [];
  for (let j = Math.max(0, end - k); j < end; j++) xs.push(h[j]!);
  return median(xs);
}
