// query_metrics and forecast: PromQL through the cluster's metrics port, bounded in range, points,
// series and time, and the forecast engine over such a range.
import { z } from "zod";
import { parseDuration } from "../../duration.js";
import { ProphetError } from "../../errors.js";
import { forecastSeries } from "../../forecast/engine.js";
import type { Deps } from "../../function.js";
import { MetricsError, type MetricsPort, type Series } from "../../ports/metrics.js";
import { serverNow } from "../../slo/evaluate.js";
import { depsFor, type ToolContext } from "../context.js";
import { clusterArg, defineTool } from "./tool.js";

/** The bounds of one query: Prometheus' own point limit is 11,000; an agent needs far fewer. */
export const queryLimits = {
  maxRangeSeconds: 7 * 86_400,
  maxPoints: 1_000,
  maxSeries: 20,
  timeoutMs: 10_000,
};

const duration = (what: string) =>
  z
    .string()
    .refine((s) => parseDuration(s) !== undefined, `expected a duration such as 30s, 5m, 1h or 7d (${what})`);

const promqlArg = z.string().min(1).max(2_000).describe("a PromQL expression");

function metricsOf(ctx: ToolContext, cluster: string | undefined): { deps: Deps; metrics: MetricsPort } {
  const deps = depsFor(ctx, cluster ?? ctx.deps.cluster);
  if (!deps.metrics)
    throw new ProphetError("invalid_config", `no Prometheus API is configured for cluster ${deps.cluster}`);
  return { deps, metrics: deps.metrics };
}

async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ProphetError("bad_request", `the query took longer than ${ms} ms; narrow it`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } catch (err) {
    if (err instanceof MetricsError)
      throw new ProphetError("bad_request", `Prometheus (${err.code}): ${err.message}`, [
        { path: "promql", message: err.message },
      ]);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** A range ending at the server's own now (a simulated or lagging server is read right). */
async function readRange(
  deps: Deps,
  metrics: MetricsPort,
  promql: string,
  rangeText: string,
  stepText: string,
): Promise<{ series: Series[]; start: Date; end: Date; step: number }> {
  const range = parseDuration(rangeText)!;
  const step = parseDuration(stepText)!;
  if (range > queryLimits.maxRangeSeconds)
    throw new ProphetError("bad_request", `range ${rangeText} is longer than the limit of 7d`, [
      { path: "range", message: "at most 7d" },
    ]);
  if (range / step > queryLimits.maxPoints)
    throw new ProphetError(
      "bad_request",
      `range ${rangeText} at step ${stepText} is ${Math.floor(range / step)} points; at most ${queryLimits.maxPoints}: raise the step`,
      [{ path: "step", message: `at most ${queryLimits.maxPoints} points per series` }],
    );
  const now = await serverNow(metrics, deps.clock.now());
  const endS = Math.floor(now.getTime() / 1000 / step) * step;
  const start = new Date((endS - range) * 1000);
  const end = new Date(endS * 1000);
  const series = await withDeadline(metrics.range(promql, start, end, step), queryLimits.timeoutMs);
  return { series, start, end, step };
}

const num = (v: number): number | string => (Number.isFinite(v) ? Math.round(v * 1e6) / 1e6 : String(v));

export const queryMetrics = defineTool({
  name: "query_metrics",
  description:
    "Runs PromQL against the cluster's Prometheus: an instant query, or a range query when `range` is given (ending now; at most 7d and 1,000 points per series, 20 series, 10 s).",
  input: z.strictObject({
    cluster: clusterArg,
    promql: promqlArg,
    range: duration("range").optional().describe("a range query over this long, e.g. 1h"),
    step: duration("step").default("1m").describe("resolution of a range query"),
  }),
  async run(ctx, args) {
    const { deps, metrics } = metricsOf(ctx, args.cluster);
    if (!args.range) {
      const samples = await withDeadline(metrics.instant(args.promql), queryLimits.timeoutMs);
      return {
        cluster: deps.cluster,
        kind: "instant",
        series: samples.length,
        samples: samples
          .slice(0, queryLimits.maxSeries)
          .map((s) => ({ labels: s.labels, value: num(s.value) })),
        ...(samples.length > queryLimits.maxSeries
          ? {
              more: `${samples.length - queryLimits.maxSeries} more series left out; aggregate (sum by …) or filter`,
            }
          : {}),
      };
    }
    const r = await readRange(deps, metrics, args.promql, args.range, args.step);
    return {
      cluster: deps.cluster,
      kind: "range",
      start: r.start,
      end: r.end,
      stepSeconds: r.step,
      series: r.series.length,
      result: r.series.slice(0, queryLimits.maxSeries).map((s) => ({
        labels: s.labels,
        points: s.points.map(([t, v]) => [t, num(v)]),
      })),
      ...(r.series.length > queryLimits.maxSeries
        ? { more: `${r.series.length - queryLimits.maxSeries} more series left out; aggregate or filter` }
        : {}),
    };
  },
});

const maxForecastSeries = 5;

export const forecastTool = defineTool({
  name: "forecast",
  description:
    "Forecasts a PromQL series with Prophet's forecasting engine (seasonality detected): reads `history` (default 6h) at `step`, returns the mean and 80 %/95 % bands for `horizon`.",
  input: z.strictObject({
    cluster: clusterArg,
    promql: promqlArg,
    history: duration("history").default("6h"),
    step: duration("step").default("5m"),
    horizon: duration("horizon").default("1h"),
    season: z
      .number()
      .int()
      .min(2)
      .max(1_000)
      .optional()
      .describe("seasonal period in points (detected when omitted)"),
  }),
  async run(ctx, args) {
    const { deps, metrics } = metricsOf(ctx, args.cluster);
    const r = await readRange(deps, metrics, args.promql, args.history, args.step);
    const horizon = Math.ceil(parseDuration(args.horizon)! / r.step);
    if (horizon > 500)
      throw new ProphetError("bad_request", `horizon ${args.horizon} is ${horizon} steps; at most 500`, [
        { path: "horizon", message: "at most 500 steps" },
      ]);
    const items = r.series.slice(0, maxForecastSeries).map((s) => {
      const values = s.points.map(([, v]) => v);
      const last = s.points[s.points.length - 1]?.[0] ?? r.end.getTime() / 1000;
      const fc = forecastSeries(values, {
        horizon,
        stepSeconds: r.step,
        effort: "fast",
        ...(args.season ? { period: args.season } : {}),
      });
      return {
        labels: s.labels,
        history: { points: values.length, last: num(values[values.length - 1] ?? NaN) },
        period: fc.period,
        methods: fc.members,
        forecast: fc.mean.map((m, h) => ({
          at: new Date((last + (h + 1) * r.step) * 1000),
          mean: num(m),
          lower80: num(fc.lower80[h] ?? NaN),
          upper80: num(fc.upper80[h] ?? NaN),
          lower95: num(fc.lower95[h] ?? NaN),
          upper95: num(fc.upper95[h] ?? NaN),
        })),
      };
    });
    return {
      cluster: deps.cluster,
      stepSeconds: r.step,
      horizonSteps: horizon,
      series: items,
      ...(r.series.length > maxForecastSeries
        ? { more: `${r.series.length - maxForecastSeries} more series not forecast; aggregate or filter` }
        : {}),
    };
  },
});
