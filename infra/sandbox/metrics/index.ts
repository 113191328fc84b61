// Public surface of the sandbox's metrics: the store, its exposition, the PromQL engine and the HTTP edge.

export { TimeSeriesStore, StoredSeries, SampleRejectedError } from "./tsdb.js";
export type { MetricMetadata, MetricType, TimeSeriesStoreOptions } from "./tsdb.js";
export { toLabels, labelsKey, labelsToObject, type Label, type Labels, type LabelsInput } from "./labels.js";
export { newMatcher, type Matcher, type MatchType } from "./matchers.js";
export {
  writeExposition,
  writeOpenMetrics,
  TEXT_CONTENT_TYPE,
  OPENMETRICS_CONTENT_TYPE,
  type ExpositionOptions,
} from "./exposition.js";
export {
  query,
  queryRange,
  parsePromQL,
  PromQLError,
  DEFAULT_LOOKBACK_MS,
  type QueryResult,
  type SeriesPoints,
  type Sample,
} from "./promql/index.js";
export {
  createMetricsHandler,
  queryResultJson,
  type MetricsHandlerOptions,
  type MetricsRequestHandler,
} from "./http.js";
export { startMetricsServer, type MetricsServerOptions, type RunningMetricsServer } from "./server.js";
export { generateSyntheticCluster, type SyntheticOptions } from "./synthetic.js";
