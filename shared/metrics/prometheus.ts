// The metrics port over the Prometheus HTTP API (/api/v1/query, /api/v1/query_range), which
// Thanos, Mimir, VictoriaMetrics and the sandbox's /prometheus speak too. Queries are POSTed
// form-encoded, as Grafana does, so long PromQL never meets a URL length limit. Credentials
// (a bearer token, or basic auth from the options or the URL's user info) go in the
// Authorization header and never into a message or the port's name.
import { z } from "zod";
import { MetricsError, type MetricsPort, type Sample, type Series } from "../ports/metrics.js";

export interface PrometheusOptions {
  /** Base URL of the API, path prefix included: http://prometheus:9090, https://mimir/prometheus. */
  url: string;
  bearerToken?: string;
  /** Basic auth; `https://user:pass@host/` in `url` means the same. A bearer token wins over both. */
  basicAuth?: { username: string; password: string };
  /** Deadline of one query, reading the answer included; also sent as Prometheus' `timeout`. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Prometheus writes sample values as strings: "1.5", "NaN", "+Inf", "-Inf". */
function sampleValue(s: string): number | undefined {
  if (s === "NaN") return NaN;
  if (s === "+Inf" || s === "Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  const v = Number(s);
  return s.trim() !== "" && !Number.isNaN(v) ? v : undefined;
}

const value = z
  .string()
  .refine((s) => sampleValue(s) !== undefined, { error: "expected a sample value" })
  .transform((s) => sampleValue(s)!);
const point = z.tuple([z.number(), value]);
const labels = z.record(z.string(), z.string()).default({});

const queryData = z.discriminatedUnion("resultType", [
  z.object({ resultType: z.literal("vector"), result: z.array(z.object({ metric: labels, value: point })) }),
  z.object({
    resultType: z.literal("matrix"),
    result: z.array(z.object({ metric: labels, values: z.array(point) })),
  }),
  z.object({ resultType: z.literal("scalar"), result: point }),
  z.object({ resultType: z.literal("string"), result: z.tuple([z.number(), z.string()]) }),
]);
type QueryData = z.infer<typeof queryData>;

const envelope = z.discriminatedUnion("status", [
  z.object({ status: z.literal("success"), data: queryData }),
  z.object({ status: z.literal("error"), errorType: z.string().default(""), error: z.string().default("") }),
]);

function unixSeconds(d: Date, what: string): string {
  const ms = d.getTime();
  if (Number.isNaN(ms)) throw new MetricsError("bad_query", `${what} is not a valid time`);
  return (ms / 1000).toFixed(3);
}

function snippet(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, 200);
}

export function prometheusMetrics(opts: PrometheusOptions): MetricsPort {
  const u = new URL(opts.url);
  const base = `${u.origin}${u.pathname.replace(/\/+$/, "")}`;
  const basic =
    opts.basicAuth ??
    (u.username || u.password
      ? { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) }
      : undefined);
  const authorization = opts.bearerToken
    ? `Bearer ${opts.bearerToken}`
    : basic
      ? `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString("base64")}`
      : undefined;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const doFetch = opts.fetch ?? fetch;
  const where = `Prometheus at ${base}`;

  function transportError(err: unknown): MetricsError {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === "TimeoutError" || e.name === "AbortError")
      return new MetricsError("timeout", `${where} did not answer within ${timeoutMs} ms`, { cause: err });
    const why = e.cause?.code ?? e.cause?.message ?? e.message;
    return new MetricsError("unavailable", `${where} could not be reached: ${why}`, { cause: err });
  }

  /** A Prometheus error answer: bad_data and execution are the query's fault. */
  function apiError(status: number, errorType: string, error: string): MetricsError {
    if (errorType === "bad_data" || errorType === "execution") return new MetricsError("bad_query", error);
    if (errorType === "timeout") return new MetricsError("timeout", `${where}: ${error}`);
    if (errorType === "not_found" || status === 404)
      return new MetricsError("bad_response", `${where}: ${error} (is the URL's path prefix right?)`);
    return new MetricsError("unavailable", `${where}: ${errorType || `HTTP ${status}`}: ${error}`);
  }

  /** An answer that is not Prometheus JSON: a proxy, a login page, a wrong path. */
  function httpError(status: number, text: string): MetricsError {
    const answer = `HTTP ${status}${text ? ` ${snippet(text)}` : ""}`;
    if (status === 401 || status === 403)
      return new MetricsError("unavailable", `${where} refused the credentials (${answer})`);
    if (status === 429 || status >= 500) return new MetricsError("unavailable", `${where}: ${answer}`);
    return new MetricsError(
      "bad_response",
      `${where} did not answer as a Prometheus API (${answer}); check the URL and its path prefix`,
    );
  }

  async function query(path: string, params: Record<string, string>): Promise<QueryData> {
    let status: number;
    let text: string;
    try {
      const res = await doFetch(`${base}${path}`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
          ...(authorization ? { authorization } : {}),
        },
        body: new URLSearchParams({ ...params, timeout: `${timeoutMs}ms` }).toString(),
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      throw transportError(err);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw httpError(status, text);
    }
    const parsed = envelope.safeParse(json);
    const ok = status >= 200 && status <= 299;
    if (!parsed.success) {
      if (!ok) throw httpError(status, text);
      const issue = parsed.error.issues[0];
      throw new MetricsError(
        "bad_response",
        `${where} answered ${path} with an unexpected body (${issue?.path.join(".") || "(root)"}: ${issue?.message})`,
      );
    }
    if (parsed.data.status === "error") throw apiError(status, parsed.data.errorType, parsed.data.error);
    if (!ok) throw httpError(status, text);
    return parsed.data.data;
  }

  return {
    name: base,
    async instant(promql: string, at?: Date): Promise<Sample[]> {
      const data = await query("/api/v1/query", {
        query: promql,
        ...(at ? { time: unixSeconds(at, "the query time") } : {}),
      });
      switch (data.resultType) {
        case "vector":
          return data.result.map((s) => ({ labels: s.metric, value: s.value[1] }));
        case "scalar":
          return [{ labels: {}, value: data.result[1] }];
        case "matrix":
          throw new MetricsError(
            "bad_query",
            `${promql} is a range vector; an instant query needs an instant vector or a scalar`,
          );
        case "string":
          throw new MetricsError("bad_query", `${promql} is a string, not a number`);
      }
    },
    async range(promql: string, start: Date, end: Date, stepSeconds: number): Promise<Series[]> {
      if (!(Number.isFinite(stepSeconds) && stepSeconds > 0))
        throw new MetricsError(
          "bad_query",
          `the step must be a positive number of seconds, got ${stepSeconds}`,
        );
      const params = {
        query: promql,
        start: unixSeconds(start, "the range start"),
        end: unixSeconds(end, "the range end"),
        step: String(stepSeconds),
      };
      if (end.getTime() < start.getTime())
        throw new MetricsError("bad_query", "the range ends before it starts");
      const data = await query("/api/v1/query_range", params);
      if (data.resultType !== "matrix")
        throw new MetricsError("bad_response", `${where} answered a range query with a ${data.resultType}`);
      return data.result.map((s) => ({ labels: s.metric, points: s.values }));
    },
  };
}
