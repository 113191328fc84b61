// Trends: a steady rise or fall that no single point makes surprising — a memory leak, a disk
// filling up. The detector (detector.ts) scores each point against the recent past, so a ramp that
// moves a little every step looks normal to it once its residual scale has adapted; the trend is
// scored on its own. Over the last L points (several L, short for clean ramps, long for noisy
// ones) a least-squares line is fitted, and a trend needs all three of:
//  1. most steps in the line's direction (a level shift is one step, not a trend);
//  2. a slope clearly away from zero (t statistic of the fit);
//  3. a change over the window that is large against the series' own step noise and level, and,
//     once days of history exist, beyond the ramps this series makes every day (exceedance.ts).
// Score = 0.5 × the weakest of the three ratios (1 = just met), best over the windows, clipped to
// [0, 1]: a trend is a level, it stays ≥ 0.5 while the ramp lasts. Plain data, JSON-safe.

import {
  createExceedance,
  exceedanceBar,
  observeExceedance,
  type Exceedance,
  type ExceedanceOptions,
} from "./exceedance.js";
import { createRobustWindow, pushValue, windowMad, type RobustWindow } from "./robust-window.js";

export interface TrendOptions {
  /** Window lengths in points. */
  windows: number[];
  /** Share of steps that must go the line's way. */
  direction: number;
  /** |t| of the slope needed. */
  tMin: number;
  /** Change over the window, in units of the noise scale, needed (floor) and learnt (per day). */
  changeBar: ExceedanceOptions;
  /** The noise scale is at least this share of the level (a flat series has no step noise). */
  relativeFloor: number;
  /** Steps kept for the noise scale (median absolute deviation of the steps). */
  noiseWindow: number;
  /** Length of a block for the learnt bar, in seconds. */
  blockSeconds: number;
}

export const DEFAULT_TREND: TrendOptions = {
  windows: [6, 12, 24],
  direction: 0.75,
  tMin: 3,
  changeBar: { margin: 1.5, quantile: 0.75, blocks: 14, minBlocks: 2, floor: 3 },
  relativeFloor: 0.02,
  noiseWindow: 600,
  blockSeconds: 86_400,
};

export interface TrendState {
  options: TrendOptions;
  seen: number;
  times: number[];
  values: number[];
  steps: RobustWindow;
  bar: Exceedance;
  blockFixed: boolean;
}

export interface TrendReading {
  score: number;
  /** Slope of the strongest window's line, per second (0 when no window qualifies). */
  slope: number;
  /** Points in that window. */
  window: number;
}

export interface LineFit {
  /** Per unit of x. */
  slope: number;
  intercept: number;
  /** t statistic of the slope; ±Infinity for a perfect line with a slope. */
  t: number;
  n: number;
}

/** Ordinary least squares of y on x. */
export function fitLine(xs: readonly number[], ys: readonly number[]): LineFit {
  const n = Math.min(xs.length, ys.length);
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i]!;
    my += ys[i]!;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i]! - mx) ** 2;
    sxy += (xs[i]! - mx) * (ys[i]! - my);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const intercept = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ys[i]! - intercept - slope * xs[i]!) ** 2;
  const se = n > 2 && sxx > 0 ? Math.sqrt(sse / (n - 2) / sxx) : 0;
  // A residual within float noise of the values is a perfect line.
  const t = se > 1e-12 * (Math.abs(my) + 1) ? slope / se : slope === 0 ? 0 : Math.sign(slope) * Infinity;
  return { slope, intercept, t, n };
}

/** Share of the steps of `ys` that go `sign`'s way. */
export function shareInDirection(ys: readonly number[], sign: number): number {
  if (ys.length < 2) return 0;
  let k = 0;
  for (let i = 1; i < ys.length; i++) if (Math.sign(ys[i]! - ys[i - 1]!) === sign) k++;
  return k / (ys.length - 1);
}

export function createTrend(options: Partial<TrendOptions> = {}): TrendState {
  const o = { ...DEFAULT_TREND, ...options };
  return {
    options: o,
    seen: 0,
    times: [],
    values: [],
    steps: createRobustWindow(o.noiseWindow),
    bar: createExceedance(o.changeBar, 288),
    blockFixed: false,
  };
}

/** Scores one point (timestamp in epoch seconds) from it and the points before it. */
export function observeTrend(state: TrendState, timestamp: number, value: number): TrendReading {
  const o = state.options;
  state.seen++;
  if (!Number.isFinite(value)) return { score: 0, slope: 0, window: 0 };
  const vs = state.values;
  const ts = state.times;
  if (vs.length > 0) pushValue(state.steps, value - vs[vs.length - 1]!);
  vs.push(value);
  ts.push(timestamp);
  const keep = Math.max(...o.windows);
  if (vs.length > keep) {
    vs.splice(0, vs.length - keep);
    ts.splice(0, ts.length - keep);
  }
  if (!state.blockFixed && ts.length >= 2) {
    const step = ts[ts.length - 1]! - ts[ts.length - 2]!;
    if (step > 0) {
      state.bar.blockPoints = Math.max(1, Math.round(o.blockSeconds / step));
      state.blockFixed = true;
    }
  }
  const noise = state.steps.ring.length ? 1.4826 * windowMad(state.steps) : 0;
  let best: TrendReading = { score: 0, slope: 0, window: 0 };
  let change = 0;
  for (const L of o.windows) {
    if (vs.length < L) continue;
    const y = vs.slice(-L);
    const x = ts.slice(-L);
    const fit = fitLine(x, y);
    const sign = Math.sign(fit.slope);
    if (sign === 0) continue;
    const level = Math.abs(y.reduce((a, b) => a + b, 0) / L);
    const scale = Math.max(noise, o.relativeFloor * level, 1e-12);
    const moved = (Math.abs(fit.slope) * (x[L - 1]! - x[0]!)) / scale;
    const steady = shareInDirection(y, sign) / o.direction;
    const clear = Math.abs(fit.t) / o.tMin;
    if (steady >= 1 && clear >= 1) change = Math.max(change, moved);
    const strength = Math.min(steady, clear, moved / exceedanceBar(state.bar));
    const score = Math.min(1, 0.5 * strength);
    if (score > best.score) best = { score, slope: fit.slope, window: L };
  }
  // The learnt bar: the steady, clear changes this series makes (blocks of a day).
  observeExceedance(state.bar, change);
  return best;
}
