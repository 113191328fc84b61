// Argument types of the PromQL functions the sandbox evaluates; anything else is refused by name.

import type { ValueType } from "./ast.js";

export interface FunctionSignature {
  args: ValueType[];
  /** How many trailing arguments may be left out. */
  optional?: number;
  /** The last argument type may repeat. */
  variadic?: boolean;
}

const M: ValueType = "matrix";
const V: ValueType = "vector";
const S: ValueType = "scalar";
const STR: ValueType = "string";

export const FUNCTION_SIGNATURES: Record<string, FunctionSignature> = {
  rate: { args: [M] },
  irate: { args: [M] },
  increase: { args: [M] },
  delta: { args: [M] },
  idelta: { args: [M] },
  deriv: { args: [M] },
  changes: { args: [M] },
  resets: { args: [M] },
  predict_linear: { args: [M, S] },
  holt_winters: { args: [M, S, S] },
  avg_over_time: { args: [M] },
  sum_over_time: { args: [M] },
  min_over_time: { args: [M] },
  max_over_time: { args: [M] },
  count_over_time: { args: [M] },
  last_over_time: { args: [M] },
  stddev_over_time: { args: [M] },
  stdvar_over_time: { args: [M] },
  present_over_time: { args: [M] },
  absent_over_time: { args: [M] },
  quantile_over_time: { args: [S, M] },
  abs: { args: [V] },
  ceil: { args: [V] },
  floor: { args: [V] },
  exp: { args: [V] },
  ln: { args: [V] },
  log2: { args: [V] },
  log10: { args: [V] },
  sqrt: { args: [V] },
  sgn: { args: [V] },
  round: { args: [V, S], optional: 1 },
  clamp: { args: [V, S, S] },
  clamp_min: { args: [V, S] },
  clamp_max: { args: [V, S] },
  time: { args: [] },
  vector: { args: [S] },
  scalar: { args: [V] },
  histogram_quantile: { args: [S, V] },
  absent: { args: [V] },
  sort: { args: [V] },
  sort_desc: { args: [V] },
  label_replace: { args: [V, STR, STR, STR, STR] },
  label_join: { args: [V, STR, STR, STR], variadic: true },
};

/** Functions whose result keeps the input's metric name (Prometheus 2.x). */
export const KEEPS_METRIC_NAME = new Set([
  "last_over_time",
  "sort",
  "sort_desc",
  "label_replace",
  "label_join",
]);
