// How far a streaming statistic stands above what this series usually shows: the bar is a multiple
// of a quantile of the statistic's per-block maxima (a block being a day), so a heavy-tailed series
// (tweet volumes) raises its own bar and a calm one keeps it low. Only past blocks count.

import { createRobustWindow, pushValue, quantileOfSorted, type RobustWindow } from "./robust-window.js";

export interface ExceedanceOptions {
  /** Multiple of the typical block maximum needed. */
  margin: number;
  /** Quantile of the kept block maxima taken as typical. */
  quantile: number;
  /** Block maxima kept, and needed before they set the bar. */
  blocks: number;
  minBlocks: number;
  /** The bar never goes below this, and is this until minBlocks blocks are complete. */
  floor: number;
}

export interface Exceedance {
  options: ExceedanceOptions;
  blockPoints: number;
  blockMax: number;
  blockFill: number;
  blockMaxima: RobustWindow;
}

export function createExceedance(options: ExceedanceOptions, blockPoints: number): Exceedance {
  return { options, blockPoints, blockMax: 0, blockFill: 0, blockMaxima: createRobustWindow(options.blocks) };
}

/** Ratio of `x` to the bar set by earlier blocks (≥ 1 means "beyond the usual"); then records x. */
export function observeExceedance(e: Exceedance, x: number): number {
  const o = e.options;
  const b = e.blockMaxima;
  const bar =
    b.ring.length >= o.minBlocks
      ? Math.max(o.floor, o.margin * quantileOfSorted(b.sorted, o.quantile))
      : o.floor;
  e.blockMax = Math.max(e.blockMax, x);
  if (++e.blockFill >= e.blockPoints) {
    pushValue(b, e.blockMax);
    e.blockMax = 0;
    e.blockFill = 0;
  }
  return x / bar;
}

/** The bar `observeExceedance` would divide by now, without recording anything. */
export function exceedanceBar(e: Exceedance): number {
  const o = e.options;
  const b = e.blockMaxima;
  return b.ring.length >= o.minBlocks
    ? Math.max(o.floor, o.margin * quantileOfSorted(b.sorted, o.quantile))
    : o.floor;
}
