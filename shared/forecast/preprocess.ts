// Cleaning metric data before it is forecast: regular grid, gaps, counter resets, flat series.

/** Median spacing of sorted timestamps (seconds); 0 when there are fewer than two. */
export function medianStep(timestamps: readonly number[]): number {
  const diffs: number[] = [];
  for (let i = 1; i < timestamps.length; i++) diffs.push((timestamps[i] ?? 0) - (timestamps[i - 1] ?? 0));
  diffs.sort((a, b) => a - b);
  return diffs.length ? (diffs[diffs.length >> 1] ?? 0) : 0;
}

/** Places points on a regular grid of `step` seconds from the first timestamp; missing slots become NaN. */
export function toRegularGrid(
  timestamps: readonly number[],
  values: readonly number[],
  step: number,
): number[] {
  if (timestamps.length === 0 || step <= 0) return [...values];
  const t0 = timestamps[0] ?? 0;
  const last = timestamps[timestamps.length - 1] ?? t0;
  const out = new Array<number>(Math.round((last - t0) / step) + 1).fill(NaN);
  timestamps.forEach((t, i) => {
    out[Math.round((t - t0) / step)] = values[i] ?? NaN;
  });
  return out;
}

/**
 * Fills NaN gaps: from one season back when a season is known and that value exists, otherwise by
 * linear interpolation between the neighbours (carrying the edge values outwards).
 */
export function fillGaps(values: readonly number[], period = 1): number[] {
  const out = [...values];
  const n = out.length;
  let firstValid = out.findIndex((v) => Number.isFinite(v));
  if (firstValid < 0) return out.map(() => 0);
  for (let t = 0; t < firstValid; t++) out[t] = out[firstValid]!;
  let t = firstValid;
  while (t < n) {
    if (Number.isFinite(out[t])) {
      firstValid = t;
      t++;
      continue;
    }
    let end = t;
    while (end < n && !Number.isFinite(out[end])) end++;
    const left = out[firstValid]!;
    const right = end < n ? out[end]! : left;
    const gap = end - firstValid;
    for (let k = t; k < end; k++) {
      const back = k - period;
      const linear = left + ((right - left) * (k - firstValid)) / gap;
      // A seasonal copy keeps the shape of long gaps; short gaps are better bridged by a line.
      out[k] = period > 1 && end - t > 2 && back >= 0 && Number.isFinite(out[back]) ? out[back]! : linear;
    }
    t = end;
  }
  return out;
}

/** Prometheus counter semantics: a drop means the counter restarted from zero, so add what was lost. */
export function undoCounterResets(values: readonly number[]): number[] {
  let offset = 0;
  let prev = NaN;
  return values.map((v) => {
    if (!Number.isFinite(v)) return v;
    if (Number.isFinite(prev) && v < prev) offset += prev;
    prev = v;
    return v + offset;
  });
}

export function isFlat(values: readonly number[]): boolean {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return max - min <= 1e-12 * Math.max(1, Math.abs(max));
}
