// The metrics port: PromQL against a Prometheus-compatible API (Prometheus, Thanos, Mimir, the
// sandbox's /prometheus). Callers get plain numbers with their labels; HTTP, auth and the wire
// format stay in the adapter (shared/metrics/prometheus.ts). Failures are MetricsError values.

/** One series' value at one instant. Values may be NaN or ±Infinity, as PromQL computes them. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** One series over a range: [unix seconds, value] pairs in time order. */
export interface Series {
  labels: Record<string, string>;
  points: [number, number][];
}

export interface MetricsPort {
  /** The endpoint, without credentials, for messages and logs. */
  readonly name: string;
  /** An instant query at `at` (default: the server's now). A scalar result is one sample without
   * labels; a range vector (`x[5m]`) or a string is a bad_query. */
  instant(promql: string, at?: Date): Promise<Sample[]>;
  /** A range query from `start` to `end` inclusive, one point every `stepSeconds`. */
  range(promql: string, start: Date, end: Date, stepSeconds: number): Promise<Series[]>;
}

export type MetricsErrorCode =
  | "unavailable" // connection refused, 5xx, credentials refused
  | "bad_query" // the server refused the PromQL or its parameters (parse or execution error)
  | "timeout" // no answer within the deadline, or the server's own query timeout
  | "bad_response"; // the endpoint answered something that is not a Prometheus API answer

export class MetricsError extends Error {
  readonly code: MetricsErrorCode;
  constructor(code: MetricsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "MetricsError";
    this.code = code;
  }
}
