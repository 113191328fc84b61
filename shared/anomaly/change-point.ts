// Change points in level and in variance, by two-sided CUSUM on standardised residuals (Page 1954).
// Level: sums of z - drift in each direction. Variance: a sum of log(z^2) above what a stable
// scale gives. Either sum crossing `threshold` signals a change; the sums restart afterwards.

export interface ChangePointState {
  up: number;
  down: number;
  spread: number;
}

export interface ChangePointOptions {
  /** Allowance per point, in robust standard deviations. */
  drift: number;
  threshold: number;
  /** Allowance per point for log(z^2); E[log z^2] is about -1.27 for Gaussian z. */
  spreadDrift: number;
}

export const DEFAULT_CHANGE_POINT: ChangePointOptions = { drift: 1, threshold: 12, spreadDrift: 1.5 };

export function createChangePoint(): ChangePointState {
  return { up: 0, down: 0, spread: 0 };
}

/** Feeds one standardised residual; returns the strength of the change evidence, 1 at the threshold. */
export function observeChange(state: ChangePointState, z: number, options = DEFAULT_CHANGE_POINT): number {
  const zc = Math.max(-10, Math.min(10, z));
  state.up = Math.max(0, state.up + zc - options.drift);
  state.down = Math.max(0, state.down - zc - options.drift);
  state.spread = Math.max(0, state.spread + Math.log(zc * zc + 1e-6) - options.spreadDrift);
  const strength = Math.max(state.up, state.down, state.spread) / options.threshold;
  if (strength >= 1) {
    state.up = 0;
    state.down = 0;
    state.spread = 0;
  }
  return strength;
}
