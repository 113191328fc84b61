// A trailing window of the last `size` values kept sorted as well as in arrival order, so its median
// and median absolute deviation are available after every point without sorting. Plain data, updated
// in place by `pushValue`, because detectors call it once per point.

export interface RobustWindow {
  size: number;
  ring: number[];
  sorted: number[];
  next: number;
  /** Sum of |x| over the window. */
  absSum: number;
}

export function createRobustWindow(size: number): RobustWindow {
  return { size, ring: [], sorted: [], next: 0, absSum: 0 };
}

export function pushValue(w: RobustWindow, x: number): void {
  if (w.ring.length < w.size) {
    w.ring.push(x);
  } else {
    const old = w.ring[w.next]!;
    w.ring[w.next] = x;
    w.next = (w.next + 1) % w.size;
    w.sorted.splice(lowerBound(w.sorted, old), 1);
    w.absSum -= Math.abs(old);
  }
  w.absSum += Math.abs(x);
  w.sorted.splice(lowerBound(w.sorted, x), 0, x);
}

export function windowMedian(w: RobustWindow): number {
  return quantileOfSorted(w.sorted, 0.5);
}

/** Median absolute deviation from the median, by a two-pointer walk outwards from the median. */
export function windowMad(w: RobustWindow): number {
  const s = w.sorted;
  const n = s.length;
  if (n === 0) return NaN;
  const med = windowMedian(w);
  let hi = lowerBound(s, med);
  let lo = hi - 1;
  const target = (n - 1) / 2;
  let prev = 0;
  for (let k = 0; k <= Math.ceil(target); k++) {
    const dl = lo >= 0 ? med - s[lo]! : Infinity;
    const dh = hi < n ? s[hi]! - med : Infinity;
    const d = dl <= dh ? dl : dh;
    if (dl <= dh) lo--;
    else hi++;
    if (k === Math.floor(target) && k === Math.ceil(target)) return d;
    if (k === Math.floor(target)) prev = d;
    if (k === Math.ceil(target)) return (prev + d) / 2;
  }
  return prev;
}

export function quantileOfSorted(s: readonly number[], p: number): number {
  if (s.length === 0) return NaN;
  const pos = p * (s.length - 1);
  const lo = Math.floor(pos);
  const a = s[lo]!;
  const b = s[Math.min(lo + 1, s.length - 1)]!;
  return a + (pos - lo) * (b - a);
}

function lowerBound(s: readonly number[], x: number): number {
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
