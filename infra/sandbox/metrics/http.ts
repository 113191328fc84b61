// Prometheus' HTTP query API and /metrics over the sandbox store, as one handler that mounts into any
// node:http server. Response bodies have Prometheus' exact shapes; errors carry its errorType values.

import type { IncomingMessage, ServerResponse } from "node:http";
import { labelsToObject, type Labels } from "./labels.js";
import type { Matcher } from "./matchers.js";
import { TEXT_CONTENT_TYPE, writeExposition } from "./exposition.js";
import {
  MAX_POINTS_PER_SERIES,
  PromQLError,
  formatFloat,
  formatTimestamp,
  parsePromQL,
  type QueryResult,
} from "./promql/index.js";
import { instantQuery, rangeQuery } from "./promql/eval.js";
import { parseDurationMs } from "./promql/duration.js";
import type { TimeSeriesStore } from "./tsdb.js";

export interface MetricsHandlerOptions {
  store: TimeSeriesStore;
  /** The clock for queries without `time` (the sandbox's simulated clock). Unix ms. */
  now?: () => number;
  lookbackMs?: number;
  /** Largest request body accepted for POST queries. Default 1 MiB. */
  maxBodyBytes?: number;
}

/** Handles the request if its path is one of ours and resolves true; resolves false to let the caller go on. */
export type MetricsRequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

class ApiError extends Error {
  constructor(
    readonly errorType: "bad_data" | "execution" | "not_found" | "method_not_allowed",
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const MIN_TIME_MS = -9223372036854; // Prometheus' minTime in ms, rounded
const MAX_TIME_MS = 9223372036854;

type Params = { get(name: string): string | undefined; all(name: string): string[] };

async function readParams(req: IncomingMessage, url: URL, maxBody: number): Promise<Params> {
  const query = url.searchParams;
  let body = new URLSearchParams();
  if (req.method === "POST") {
    const ct = String(req.headers["content-type"] ?? "");
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > maxBody) throw new ApiError("bad_data", "request body too large", 413);
      chunks.push(c as Buffer);
    }
    if (ct.startsWith("application/x-www-form-urlencoded"))
      body = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
  }
  // Like Go's r.Form: body values come before URL values.
  return {
    get: (name) => body.get(name) ?? query.get(name) ?? undefined,
    all: (name) => [...body.getAll(name), ...query.getAll(name)],
  };
}

function paramError(name: string, message: string): ApiError {
  return new ApiError("bad_data", `invalid parameter ${JSON.stringify(name)}: ${message}`, 400);
}

/** Prometheus' parseTime: Unix seconds (fractions rounded to ms) or RFC 3339. Returns ms. */
export function parseTimeParam(value: string, name: string): number {
  const trimmed = value.trim();
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed)) {
    const f = Number(trimmed);
    const whole = Math.trunc(f);
    return whole * 1000 + Math.round((f - whole) * 1000);
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(trimmed)) {
    const ms = Date.parse(trimmed);
    if (!Number.isNaN(ms)) return ms;
  }
  throw paramError(name, `cannot parse ${JSON.stringify(value)} to a valid timestamp`);
}

/** Prometheus' parseDuration: float seconds or a duration like "1m". Returns ms. */
export function parseDurationParam(value: string, name: string): number {
  const trimmed = value.trim();
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed)) return Math.trunc(Number(trimmed) * 1000);
  const d = parseDurationMs(trimmed);
  if (d !== undefined) return d;
  throw paramError(name, `cannot parse ${JSON.stringify(value)} to a valid duration`);
}

function labelsJson(ls: Labels): string {
  return JSON.stringify(labelsToObject(ls));
}

function point(ts: number, v: number): string {
  return `[${formatTimestamp(ts)},"${formatFloat(v)}"]`;
}

/** The `data` object of a query response, serialised as Prometheus does. */
export function queryResultJson(r: QueryResult): string {
  switch (r.resultType) {
    case "scalar":
      return `{"resultType":"scalar","result":${point(r.ts, r.result)}}`;
    case "string":
      return `{"resultType":"string","result":[${formatTimestamp(r.ts)},${JSON.stringify(r.result)}]}`;
    case "vector":
      return `{"resultType":"vector","result":[${r.result
        .map((s) => `{"metric":${labelsJson(s.metric)},"value":${point(r.ts, s.value)}}`)
        .join(",")}]}`;
    case "matrix":
      return `{"resultType":"matrix","result":[${r.result
        .map(
          (s) =>
            `{"metric":${labelsJson(s.metric)},"values":[${s.points.map(([t, v]) => point(t, v)).join(",")}]}`,
        )
        .join(",")}]}`;
  }
}

function selectorMatchers(text: string): Matcher[] {
  let expr;
  try {
    expr = parsePromQL(text);
  } catch (err) {
    throw paramError("match[]", (err as Error).message);
  }
  if (expr.type !== "vectorSelector" || expr.offsetMs !== 0 || expr.at) {
    throw paramError("match[]", `expected a vector selector, got ${JSON.stringify(text)}`);
  }
  return expr.matchers;
}

function timeRange(p: Params): [number | undefined, number | undefined] {
  const s = p.get("start");
  const e = p.get("end");
  const start = s ? parseTimeParam(s, "start") : undefined;
  const end = e ? parseTimeParam(e, "end") : undefined;
  return [start === MIN_TIME_MS ? undefined : start, end === MAX_TIME_MS ? undefined : end];
}

function send(res: ServerResponse, status: number, body: string, contentType = "application/json"): void {
  res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function success(res: ServerResponse, dataJson: string): void {
  send(res, 200, `{"status":"success","data":${dataJson}}`);
}

export function createMetricsHandler(opts: MetricsHandlerOptions): MetricsRequestHandler {
  const { store } = opts;
  const now = opts.now ?? Date.now;
  const evalOpts = { lookbackMs: opts.lookbackMs };
  const maxBody = opts.maxBodyBytes ?? 1 << 20;

  const routes: Record<string, (p: Params) => string> = {
    "/api/v1/query": (p) => {
      const q = p.get("query") ?? "";
      const t = p.get("time");
      const ts = t ? parseTimeParam(t, "time") : Math.floor(now());
      const expr = parseQuery(q);
      return queryResultJson(instantQuery(store, expr, ts, evalOpts));
    },
    "/api/v1/query_range": (p) => {
      const start = parseTimeParam(p.get("start") ?? "", "start");
      const end = parseTimeParam(p.get("end") ?? "", "end");
      if (end < start) throw paramError("end", "end timestamp must not be before start time");
      const step = parseDurationParam(p.get("step") ?? "", "step");
      if (step <= 0) {
        throw paramError(
          "step",
          "zero or negative query resolution step widths are not accepted. Try a positive integer",
        );
      }
      if ((end - start) / step > MAX_POINTS_PER_SERIES) {
        throw new ApiError(
          "bad_data",
          "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
          400,
        );
      }
      const expr = parseQuery(p.get("query") ?? "");
      return queryResultJson(rangeQuery(store, expr, start, end, step, evalOpts));
    },
    "/api/v1/series": (p) => {
      const matches = p.all("match[]");
      if (matches.length === 0) throw new ApiError("bad_data", "no match[] parameter provided", 400);
      const sets = matches.map(selectorMatchers);
      const [start, end] = timeRange(p);
      const series = store.selectUnion(sets, start, end);
      return `[${series.map((s) => labelsJson(s.labels)).join(",")}]`;
    },
    "/api/v1/labels": (p) => {
      const sets = p.all("match[]").map(selectorMatchers);
      const [start, end] = timeRange(p);
      return JSON.stringify(store.labelNames(sets, start, end));
    },
    "/api/v1/metadata": (p) => {
      const only = p.get("metric");
      const out: Record<string, { type: string; help: string; unit: string }[]> = {};
      for (const [name, m] of store.allMetadata()) {
        if (only && only !== name) continue;
        out[name] = [{ type: m.type === "untyped" ? "unknown" : m.type, help: m.help, unit: "" }];
      }
      return JSON.stringify(out);
    },
    "/api/v1/status/buildinfo": () =>
      JSON.stringify({
        version: "2.42.0",
        revision: "prophet-sandbox",
        branch: "sandbox",
        buildUser: "prophet",
        buildDate: "",
        goVersion: "none",
      }),
  };

  return async (req, res) => {
    const url = new URL(req.url ?? "/", "http://sandbox");
    const path = url.pathname;
    if (path === "/metrics") {
      if (req.method !== "GET" && req.method !== "HEAD") return (methodNotAllowed(res), true);
      send(res, 200, writeExposition(store), TEXT_CONTENT_TYPE);
      return true;
    }
    if (path === "/-/ready" || path === "/-/healthy") {
      send(
        res,
        200,
        path === "/-/ready" ? "Prometheus Server is Ready.\n" : "Prometheus Server is Healthy.\n",
        "text/plain",
      );
      return true;
    }
    const labelValues = /^\/api\/v1\/label\/([^/]+)\/values$/.exec(path);
    const route = routes[path];
    if (!route && !labelValues) {
      if (!path.startsWith("/api/v1/")) return false;
      send(res, 404, `{"status":"error","errorType":"not_found","error":"unknown API endpoint ${path}"}`);
      return true;
    }
    if (req.method !== "GET" && req.method !== "POST") return (methodNotAllowed(res), true);
    try {
      const p = await readParams(req, url, maxBody);
      let data: string;
      if (labelValues) {
        const name = decodeURIComponent(labelValues[1]!);
        if (!LABEL_NAME_RE.test(name))
          throw new ApiError("bad_data", `invalid label name: ${JSON.stringify(name)}`, 400);
        const sets = p.all("match[]").map(selectorMatchers);
        const [start, end] = timeRange(p);
        data = JSON.stringify(store.labelValues(name, sets, start, end));
      } else {
        data = route!(p);
      }
      success(res, data);
    } catch (err) {
      sendError(res, err);
    }
    return true;
  };
}

function parseQuery(q: string) {
  try {
    return parsePromQL(q);
  } catch (err) {
    if (err instanceof PromQLError) throw paramError("query", err.message);
    throw err;
  }
}

function methodNotAllowed(res: ServerResponse): void {
  res.setHeader("allow", "GET, POST");
  send(res, 405, `{"status":"error","errorType":"bad_data","error":"method not allowed"}`);
}

function sendError(res: ServerResponse, err: unknown): void {
  let status = 500;
  let errorType = "internal";
  let message = err instanceof Error ? err.message : String(err);
  if (err instanceof ApiError) {
    status = err.status;
    errorType = err.errorType;
  } else if (err instanceof PromQLError) {
    status = err.status;
    errorType = err.errorType;
    message = err.message;
  }
  send(res, status, JSON.stringify({ status: "error", errorType, error: message }));
}
