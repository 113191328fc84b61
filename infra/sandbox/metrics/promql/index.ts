// The sandbox PromQL engine: parse once, evaluate at an instant or over steps.

import type { TimeSeriesStore } from "../tsdb.js";
import { instantQuery, rangeQuery, type EvalOptions, type QueryResult } from "./eval.js";
import { parsePromQL } from "./parse.js";

export { parsePromQL } from "./parse.js";
export { PromQLError } from "./errors.js";
export { DEFAULT_LOOKBACK_MS, MAX_POINTS_PER_SERIES, type QueryResult, type SeriesPoints } from "./eval.js";
export type { Expr } from "./ast.js";
export type { Sample } from "./values.js";
export { formatFloat, formatTimestamp } from "./format.js";

/** Runs `query` at `timeMs` (Unix ms) as Prometheus' /api/v1/query does. */
export function query(
  store: TimeSeriesStore,
  query: string,
  timeMs: number,
  opts?: EvalOptions,
): QueryResult {
  return instantQuery(store, parsePromQL(query), timeMs, opts);
}

/** Runs `query` at start, start+step, … ≤ end (Unix ms) as Prometheus' /api/v1/query_range does. */
export function queryRange(
  store: TimeSeriesStore,
  query: string,
  startMs: number,
  endMs: number,
  stepMs: number,
  opts?: EvalOptions,
): QueryResult {
  return rangeQuery(store, parsePromQL(query), startMs, endMs, stepMs, opts);
}
