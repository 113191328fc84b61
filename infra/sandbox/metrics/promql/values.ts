// Values flowing through evaluation of one step.

import { labelsKey, type Labels } from "../labels.js";
import { executionError } from "./errors.js";
import type { RangePoints } from "./range-functions.js";

export interface Sample {
  metric: Labels;
  value: number;
}

export interface RangeSeries extends RangePoints {
  metric: Labels;
  /** `metric` without __name__, when the window views a stored series. */
  nameless?: Labels;
}

export type Value =
  | { kind: "vector"; samples: Sample[] }
  | { kind: "scalar"; value: number }
  | { kind: "string"; value: string }
  | { kind: "matrix"; series: RangeSeries[] };

export function vectorOf(samples: Sample[]): Value {
  return { kind: "vector", samples };
}

export function assertUniqueLabelsets(samples: readonly Sample[]): void {
  if (samples.length < 2) return;
  const seen = new Set<string>();
  for (const s of samples) {
    const k = labelsKey(s.metric);
    if (seen.has(k)) throw executionError("vector cannot contain metrics with the same labelset");
    seen.add(k);
  }
}
