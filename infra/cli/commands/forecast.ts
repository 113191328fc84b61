// `prophet forecast`: forecasts every series of an M4 wide file, a long CSV, or a Prometheus range
// query, writing point forecasts (and, with --intervals, the 80 % / 95 % bounds) in the input's layout.
// Without --output (Prometheus or long input), prints each series' forecast with its bands, and on
// a terminal an ASCII chart of the recent history and the forecast.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { describeIssues, issuesFromZod, ProphetError } from "../../../shared/errors.js";
import { forecastPanel, type SeriesForecast } from "../../../shared/forecast/engine.js";
import { medianStep, toRegularGrid } from "../../../shared/forecast/preprocess.js";
import { asciiChart } from "./chart.js";
import {
  formatM4Wide,
  formatNumber,
  parseLongCsv,
  parseM4Wide,
  type NamedSeries,
} from "../../../shared/forecast/series-formats.js";

const OptionsSchema = z
  .object({
    input: z.string().optional(),
    format: z.enum(["m4", "long"]).default("m4"),
    prometheus: z.url().optional(),
    query: z.string().optional(),
    range: z.string().default("7d"),
    step: z.string().default("5m"),
    /** Points ("48"), or a duration ("1h") for inputs with timestamps. */
    horizon: z.string().regex(/^(\d+|\d+(\.\d+)?(s|m|h|d|w))$/, "a number of points (48) or a duration (1h)"),
    season: z.coerce.number().int().positive().optional(),
    output: z.string().optional(),
    intervals: z.string().optional(),
    counter: z.boolean().default(false),
    effort: z.enum(["fast", "full"]).default("full"),
  })
  .refine((o) => (o.input ? !o.prometheus : !!o.prometheus && !!o.query), {
    message: "give either --input <file> or --prometheus <url> with --query <promql>",
  })
  .refine((o) => o.output || o.prometheus || o.format === "long", {
    message: "--output <file> is required for M4 input",
  })
  .refine((o) => /^\d+$/.test(o.horizon) || o.prometheus || o.format === "long", {
    message: "a duration horizon needs timestamps (--prometheus or --format long); M4 input takes points",
  });
type Options = z.infer<typeof OptionsSchema>;

export function register(program: Command): void {
  program
    .command("forecast")
    .description("forecast series with the ensemble engine and calibrated 80 %/95 % intervals")
    .option("--input <file>", "training data (M4 wide CSV or long series,timestamp,value CSV)")
    .option("--format <format>", "m4 | long", "m4")
    .option("--prometheus <url>", "Prometheus base URL, read with /api/v1/query_range")
    .option("--query <promql>", "PromQL expression for --prometheus")
    .option("--range <duration>", "history to read from Prometheus, e.g. 7d", "7d")
    .option("--step <duration>", "Prometheus query step, e.g. 5m", "5m")
    .requiredOption("--horizon <n>", "points to forecast, or a duration (1h) for timestamped input")
    .option("--season <n>", "seasonal period in points (detected when omitted)")
    .option("--output <file>", "where to write the point forecasts (default: print them with their bands)")
    .option("--intervals <dir>", "also write lower80/upper80/lower95/upper95 files here")
    .option("--counter", "the series are counters: undo resets first")
    .option("--effort <effort>", "full (ensemble) | fast (one model)", "full")
    .action(async (raw: unknown) => {
      const parsed = OptionsSchema.safeParse(raw);
      if (!parsed.success) {
        const issues = issuesFromZod(parsed.error.issues);
        fail(new ProphetError("bad_request", `forecast: ${describeIssues(issues)}`, issues));
        return;
      }
      try {
        await runForecast(parsed.data);
      } catch (err) {
        fail(err);
      }
    });
}

/** Horizon in points: a count as given, a duration divided by the series' step. */
export function horizonPoints(horizon: string, stepSeconds: number): number {
  if (/^\d+$/.test(horizon)) return Math.max(1, Number(horizon));
  if (!(stepSeconds > 0)) throw new ProphetError("bad_request", `horizon ${horizon} needs timestamped data`);
  return Math.max(1, Math.ceil(durationSeconds(horizon) / stepSeconds));
}

async function runForecast(o: Options): Promise<void> {
  const series = o.prometheus ? await readPrometheus(o) : readInput(o);
  const forecasts = forecastAll(series, o);
  const results = series.map((s, i) => ({ series: s, forecast: forecasts[i]! }));
  const layout = o.prometheus ? "long" : o.format;
  const horizon = Math.max(0, ...results.map((r) => r.forecast.mean.length));
  if (!o.output) {
    process.stdout.write(printForecasts(results, process.stdout.isTTY ? (process.stdout.columns ?? 80) : 0));
    return;
  }
  const output = o.output;
  const write = (file: string, pick: (f: SeriesForecast) => number[]): void =>
    writeFileSync(file, render(layout, results, horizon, pick));
  write(output, (f) => f.mean);
  if (o.intervals) {
    mkdirSync(o.intervals, { recursive: true });
    write(join(o.intervals, "lower80.csv"), (f) => f.lower80);
    write(join(o.intervals, "upper80.csv"), (f) => f.upper80);
    write(join(o.intervals, "lower95.csv"), (f) => f.lower95);
    write(join(o.intervals, "upper95.csv"), (f) => f.upper95);
  }
  console.error(`forecast: ${results.length} series, horizon ${horizon} -> ${output}`);
}

/**
 * Each series' forecast as a table (time, mean, 80 % and 95 % bands); with `chartWidth` (a
 * terminal's columns) an ASCII chart of the recent history and the forecast above it.
 */
export function printForecasts(
  results: readonly { series: NamedSeries; forecast: SeriesForecast }[],
  chartWidth = 0,
): string {
  const out: string[] = [];
  for (const { series, forecast } of results) {
    const ts = series.timestamps ?? [];
    const step = medianStep(ts) || 1;
    const last = ts[ts.length - 1] ?? series.values.length - 1;
    out.push(
      `${series.id}  (${forecast.members.join("+")}${forecast.period > 1 ? `, period ${forecast.period}` : ""})`,
    );
    if (chartWidth > 0)
      out.push(
        asciiChart(
          {
            history: series.values,
            mean: forecast.mean,
            lower95: forecast.lower95,
            upper95: forecast.upper95,
          },
          { width: Math.max(20, chartWidth - 12) },
        ).trimEnd(),
      );
    out.push("time                      mean      lower95   lower80   upper80   upper95");
    forecast.mean.forEach((m, h) => {
      const t = last + (h + 1) * step;
      const stamp = ts.length ? new Date(t * 1000).toISOString() : String(t);
      const cols = [m, forecast.lower95[h], forecast.lower80[h], forecast.upper80[h], forecast.upper95[h]];
      out.push(`${stamp.padEnd(24)}  ${cols.map((v) => formatNumber(v ?? NaN).padStart(8)).join("  ")}`);
    });
    out.push("");
  }
  return `${out.join("\n")}\n`;
}

/**
 * Every series, forecast as panels: the series with the same step (all of an M4 file) are
 * forecast together, so they share the global autoregression (docs/decisions/0017).
 */
function forecastAll(series: readonly NamedSeries[], o: Options): SeriesForecast[] {
  const prepared = series.map((s) => {
    const step = s.timestamps ? medianStep(s.timestamps) : 0;
    const values = s.timestamps && step > 0 ? toRegularGrid(s.timestamps, s.values, step) : s.values;
    return { values, step, horizon: horizonPoints(o.horizon, step) };
  });
  const out = new Array<SeriesForecast>(series.length);
  const panels = new Map<string, number[]>();
  prepared.forEach((p, i) => {
    const k = `${p.step}|${p.horizon}`;
    panels.set(k, [...(panels.get(k) ?? []), i]);
  });
  for (const members of panels.values()) {
    const { step, horizon } = prepared[members[0]!]!;
    const forecasts = forecastPanel(
      members.map((i) => prepared[i]!.values),
      {
        horizon,
        period: o.season,
        stepSeconds: step > 0 ? step : undefined,
        counter: o.counter,
        effort: o.effort,
      },
    );
    members.forEach((i, k) => (out[i] = forecasts[k]!));
  }
  return out;
}

function readInput(o: Options): NamedSeries[] {
  const text = readFileSync(o.input ?? "", "utf8");
  const parsed = o.format === "m4" ? parseM4Wide(text) : parseLongCsv(text);
  if (!parsed.ok) throw new ProphetError("invalid_data", `${o.input}: ${parsed.error.message}`);
  return parsed.value;
}

function render(
  layout: "m4" | "long",
  results: { series: NamedSeries; forecast: SeriesForecast }[],
  horizon: number,
  pick: (f: SeriesForecast) => number[],
): string {
  if (layout === "m4")
    return formatM4Wide(
      results.map((r) => ({ id: r.series.id, values: pick(r.forecast) })),
      horizon,
    );
  const lines = ["series,timestamp,value"];
  for (const { series, forecast } of results) {
    const ts = series.timestamps ?? [];
    const step = medianStep(ts) || 1;
    const last = ts[ts.length - 1] ?? series.values.length - 1;
    pick(forecast).forEach((v, h) => {
      const t = last + (h + 1) * step;
      const stamp = ts.length ? new Date(t * 1000).toISOString() : String(t);
      lines.push(`${csvField(series.id)},${stamp},${formatNumber(v)}`);
    });
  }
  return lines.join("\n") + "\n";
}

/** The range up to the server's own now (`time()`), so a simulated or lagging server is read right. */
async function readPrometheus(o: Options): Promise<NamedSeries[]> {
  const { prometheusMetrics } = await import("../../../shared/metrics/prometheus.js");
  const { serverNow } = await import("../../../shared/slo/evaluate.js");
  const metrics = prometheusMetrics({ url: o.prometheus ?? "" });
  const step = durationSeconds(o.step);
  const range = durationSeconds(o.range);
  const now = await serverNow(metrics, new Date());
  const end = Math.floor(now.getTime() / 1000 / step) * step;
  let answer;
  try {
    answer = await metrics.range(o.query ?? "", new Date((end - range) * 1000), new Date(end * 1000), step);
  } catch (err) {
    throw new ProphetError("invalid_data", `Prometheus ${metrics.name}: ${(err as Error).message}`);
  }
  return answer.map((r) => ({
    id: labelsId(r.labels),
    timestamps: r.points.map(([t]) => t),
    values: r.points.map(([, v]) => v),
  }));
}

/** Prometheus durations like 30s, 5m, 2h, 7d, 1w. */
export function durationSeconds(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/.exec(s.trim());
  if (!m) throw new ProphetError("bad_request", `"${s}" is not a duration like 5m, 2h or 7d`);
  const unit = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[m[2] as "s" | "m" | "h" | "d" | "w"];
  return Number(m[1]) * unit;
}

function labelsId(metric: Record<string, string>): string {
  const name = metric.__name__ ?? "";
  const rest = Object.entries(metric)
    .filter(([k]) => k !== "__name__")
    .map(([k, v]) => `${k}="${v}"`)
    .join(",");
  return rest ? `${name}{${rest}}` : name || "{}";
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function fail(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  console.error(`error: ${message}`);
  process.exitCode = 1;
}
