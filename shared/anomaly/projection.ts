// Time to a bound: when a rising series (a container's working set) reaches a level it must not
// reach (its memory limit, where the kernel OOM-kills it). A least-squares line over the most
// recent points that rise steadily; the longest window that does (4, 8 or 16 points) is trusted
// most. No steady rise, no projection: noise near the limit does not raise an alarm.
import { fitLine, shareInDirection } from "./trend.js";

export interface Projection {
  /** Seconds from the last point until the line reaches the bound (0: already there). */
  seconds: number;
  /** Per second. */
  slope: number;
  /** Points the line was fitted to. */
  window: number;
  bound: number;
}

export interface ProjectionOptions {
  windows: number[];
  /** Share of steps that must rise. */
  direction: number;
  tMin: number;
}

export const DEFAULT_PROJECTION: ProjectionOptions = { windows: [16, 8, 4], direction: 0.75, tMin: 3 };

/** Where a steadily rising series meets `bound`; undefined when it does not rise steadily. */
export function projectToBound(
  points: readonly (readonly [number, number])[],
  bound: number,
  options: ProjectionOptions = DEFAULT_PROJECTION,
): Projection | undefined {
  const last = points[points.length - 1];
  if (!last || !Number.isFinite(bound)) return undefined;
  if (last[1] >= bound) return { seconds: 0, slope: 0, window: 1, bound };
  for (const L of options.windows) {
    if (points.length < L) continue;
    const w = points.slice(-L);
    const ys = w.map((p) => p[1]);
    if (ys.some((y) => !Number.isFinite(y))) continue;
    if (shareInDirection(ys, 1) < options.direction) continue;
    const fit = fitLine(
      w.map((p) => p[0]),
      ys,
    );
    if (fit.slope <= 0 || fit.t < options.tMin) continue;
    return { seconds: (bound - last[1]) / fit.slope, slope: fit.slope, window: L, bound };
  }
  return undefined;
}
