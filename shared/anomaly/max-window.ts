// Sliding-window maximum (monotone deque): the largest value among the last `size` indices, in
// amortised O(1) per point. Plain data, updated in place by `pushMax`.

export interface MaxWindow {
  size: number;
  /** Indices and values, values decreasing from the front. */
  index: number[];
  value: number[];
  head: number;
}

export function createMaxWindow(size: number): MaxWindow {
  return { size, index: [], value: [], head: 0 };
}

export function pushMax(w: MaxWindow, i: number, x: number): void {
  while (w.value.length > w.head && w.value[w.value.length - 1]! <= x) {
    w.value.pop();
    w.index.pop();
  }
  w.value.push(x);
  w.index.push(i);
  while (w.index[w.head]! <= i - w.size) w.head++;
  if (w.head > 1024) {
    w.index.splice(0, w.head);
    w.value.splice(0, w.head);
    w.head = 0;
  }
}

/** The maximum over the window; -Infinity when empty. */
export function windowMax(w: MaxWindow): number {
  return w.value.length > w.head ? w.value[w.head]! : -Infinity;
}
