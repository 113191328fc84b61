// The sandbox's PromQL engine answers the product's queries exactly as a real Prometheus 2.42 does.
// Same synthetic samples on both sides: our store directly, Prometheus via `promtool tsdb create-blocks-from
// openmetrics`. No wall-clock scraping: the data is two hours of history ending a few minutes ago.

import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeExposition, writeOpenMetrics } from "../../infra/sandbox/metrics/exposition.js";
import type { TimeSeriesStore } from "../../infra/sandbox/metrics/tsdb.js";
import { startMetricsServer, type RunningMetricsServer } from "../../infra/sandbox/metrics/server.js";
import { generateSyntheticCluster } from "../../infra/sandbox/metrics/synthetic.js";
import { freePort } from "../setup/postgres.js";

const run = promisify(execFile);
const PROMETHEUS = process.env.PROMETHEUS_BIN ?? "/usr/bin/prometheus";
const PROMTOOL = process.env.PROMTOOL_BIN ?? "/usr/bin/promtool";
const haveBinaries = existsSync(PROMETHEUS) && existsSync(PROMTOOL);
if (!haveBinaries && process.env.CI === "true") {
  throw new Error(
    `Prometheus 2.42 is required under CI=true (${PROMETHEUS}, ${PROMTOOL}): apt-get install -y prometheus`,
  );
}

const STEP = 15_000;
const END = Math.floor(Date.now() / STEP) * STEP - 5 * 60_000;
const START = END - 2 * 3600_000;
const sec = (ms: number) => String(ms / 1000);

/** The queries the product runs, plus the edges of the semantics they depend on. */
const INSTANT_QUERIES = [
  "http_requests_total",
  'http_requests_total{namespace="shop",code!="200"}',
  'http_requests_total{code=~"5..",method!~"P.*"}',
  'http_requests_total{pod=~"shop-.*|payments-api-.*-1"}',
  "sum by (namespace) (rate(http_requests_total[5m]))",
  'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
  'sum by (namespace) (rate(http_requests_total{code=~"5.."}[5m])) / ignoring(code) sum by (namespace) (rate(http_requests_total[5m]))',
  "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
  "histogram_quantile(0.5, sum by (namespace, le) (rate(http_request_duration_seconds_bucket[10m])))",
  "histogram_quantile(0.9, rate(http_request_duration_seconds_bucket[5m]))",
  'container_memory_working_set_bytes / on(pod) group_left kube_pod_container_resource_limits{resource="memory"}',
  'container_memory_working_set_bytes / on(namespace, pod, container) kube_pod_container_resource_limits{resource="memory"}',
  'kube_pod_container_resource_limits{resource="memory"} * on(pod) group_right(unit) container_memory_working_set_bytes',
  "increase(kube_pod_container_status_restarts_total[1h])",
  "increase(http_requests_total[15m])",
  "rate(container_cpu_usage_seconds_total[5m])",
  "irate(http_requests_total[1m])",
  "delta(container_memory_working_set_bytes[10m])",
  "deriv(container_memory_working_set_bytes[30m])",
  "avg_over_time(container_memory_working_set_bytes[10m])",
  "sum_over_time(container_memory_working_set_bytes[5m])",
  "min_over_time(container_memory_working_set_bytes[30m])",
  "max_over_time(container_memory_working_set_bytes[30m])",
  "count_over_time(http_requests_total[5m])",
  "last_over_time(container_memory_working_set_bytes[5m])",
  "quantile_over_time(0.95, container_memory_working_set_bytes[30m])",
  "stddev_over_time(container_memory_working_set_bytes[30m])",
  "predict_linear(container_memory_working_set_bytes[1h], 3600)",
  "holt_winters(container_memory_working_set_bytes[20m], 0.3, 0.6)",
  "topk(3, sum by (pod) (rate(http_requests_total[5m])))",
  "bottomk(2, rate(container_cpu_usage_seconds_total[5m]))",
  "quantile(0.9, rate(container_cpu_usage_seconds_total[5m]))",
  "avg by (namespace) (container_memory_working_set_bytes)",
  "min without (pod) (container_memory_working_set_bytes)",
  "max by (namespace) (container_memory_working_set_bytes)",
  "count by (namespace) (container_memory_working_set_bytes)",
  "count by (namespace) (rate(http_requests_total[5m]) > 1)",
  "stddev by (namespace) (container_memory_working_set_bytes)",
  "sum without (method, code) (rate(http_requests_total[5m]))",
  "rate(http_requests_total[5m]) > bool 2",
  "rate(http_requests_total[5m]) > 2",
  "1 < bool rate(http_requests_total[5m])",
  "3 > rate(http_requests_total[5m])",
  'container_memory_working_set_bytes > on(pod) group_left kube_pod_container_resource_limits{resource="memory"} * 0.2',
  'container_memory_working_set_bytes >= bool on(pod) group_left kube_pod_container_resource_limits{resource="memory"} * 0.2',
  "clamp_min(deriv(container_memory_working_set_bytes[30m]), 0)",
  "clamp_max(rate(http_requests_total[5m]), 1)",
  "abs(delta(container_memory_working_set_bytes[10m]))",
  "time() - 60",
  "vector(1) + 2",
  "scalar(sum(rate(http_requests_total[5m]))) * 2",
  "2 ^ 3 % 5",
  "-2 ^ 2 + 2 ^ -2 + 010 + 0x10",
  "1 % 0",
  "NaN == bool NaN",
  "-1 ^ 0.5",
  '-container_memory_working_set_bytes{namespace="shop"}',
  "rate(http_requests_total[5m] offset 10m)",
  'http_requests_total offset 30m and on(pod) http_requests_total{code="500"}',
  'rate(http_requests_total{code="200"}[5m]) or rate(http_requests_total{code="404"}[5m])',
  'container_memory_working_set_bytes unless on(pod) http_requests_total{namespace="shop"}',
  "sum(rate(http_requests_total[5m])) by (namespace, pod) / on(namespace) group_left sum by (namespace) (rate(http_requests_total[5m]))",
  'label_replace(container_memory_working_set_bytes, "app", "$1", "pod", "(.*)-api-.*")',
  "absent(nonexistent_metric)",
  'absent(nonexistent_metric{job="x", pod=~"y.*", ns="a", ns="b"})',
  'absent(http_requests_total{namespace="shop"})',
  'count_values("limit", kube_pod_container_resource_limits)',
  "sort_desc(sum by (namespace) (rate(http_requests_total[5m])))",
  "round(rate(http_requests_total[5m]), 0.1)",
  "changes(kube_pod_container_status_restarts_total[1h])",
  "resets(http_requests_total[1h])",
  "idelta(container_memory_working_set_bytes[2m])",
  "stdvar_over_time(container_memory_working_set_bytes[10m])",
  "present_over_time(container_memory_working_set_bytes[1m])",
  'absent_over_time(container_memory_working_set_bytes{pod="nope"}[5m])',
  "group by (namespace) (http_requests_total)",
  "avg without (code, method) (rate(http_requests_total[5m]))",
  "sqrt(ln(exp(2) * container_memory_working_set_bytes))",
  'label_join(kube_pod_container_resource_limits, "id", "/", "namespace", "pod", "resource")',
  "sort(rate(container_cpu_usage_seconds_total[5m]))",
  `rate(http_requests_total[5m] @ ${(END - 30 * 60_000) / 1000})`,
  `container_memory_working_set_bytes @ ${(START + 60 * 60_000) / 1000} offset 5m`,
  "min_over_time(container_memory_working_set_bytes[5m] offset -5m)",
  'http_requests_total{namespace="shop"} != 0',
  // Evaluation errors must be errors on both sides.
  "container_memory_working_set_bytes / on(pod) kube_pod_container_resource_limits",
  "container_memory_working_set_bytes / on(pod) group_left kube_pod_container_resource_limits",
  'rate(http_requests_total[5m]) or rate(container_cpu_usage_seconds_total[5m]) * 0 + label_replace(rate(container_cpu_usage_seconds_total[5m]), "pod", "x", "", "")',
];

const RANGE_QUERIES = [
  "sum by (namespace) (rate(http_requests_total[5m]))",
  'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
  "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
  'container_memory_working_set_bytes / on(pod) group_left kube_pod_container_resource_limits{resource="memory"}',
  "increase(kube_pod_container_status_restarts_total[1h])",
  "increase(http_requests_total[10m])",
  "avg_over_time(container_memory_working_set_bytes[15m])",
  "predict_linear(container_memory_working_set_bytes[1h], 3600)",
  "topk(3, rate(container_cpu_usage_seconds_total[5m]))",
  "count by (namespace) (http_requests_total)",
  "container_memory_working_set_bytes",
  "rate(http_requests_total[5m]) > bool 2",
  "irate(container_cpu_usage_seconds_total[2m])",
  "time()",
  "holt_winters(container_memory_working_set_bytes[10m], 0.5, 0.5)",
  "rate(http_requests_total[5m] @ end())",
  "container_memory_working_set_bytes @ start()",
  "deriv(container_memory_working_set_bytes[10m])",
];

/** Instants: the end, a pod's appearance/disappearance, the very start, and off-grid times. */
const INSTANTS = [
  END,
  END - 37 * 60_000 - 7_500,
  START + 2 * 60_000,
  START + 48 * 60_000 + 1_234,
  START + 84 * 60_000,
  START + 89 * 60_000 + 999,
];

interface ApiResponse {
  status: "success" | "error";
  errorType?: string;
  error?: string;
  data?: unknown;
}

async function get(base: string, path: string, params: Record<string, string>): Promise<ApiResponse> {
  const res = await fetch(`${base}${path}?${new URLSearchParams(params)}`);
  return (await res.json()) as ApiResponse;
}

function closeEnough(a: string, b: string): boolean {
  if (a === b) return true;
  const x = Number(a);
  const y = Number(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return false;
  return Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y));
}

type Point = [number, string];
interface SeriesOut {
  metric: Record<string, string>;
  value?: Point;
  values?: Point[];
}

/** Compares two responses: same status and type; same series sets; same timestamps; values within 1e-9 relative. */
function diff(ours: ApiResponse, theirs: ApiResponse): string[] {
  const problems: string[] = [];
  if (ours.status !== theirs.status) {
    return [
      `status ${ours.status} (${ours.error ?? ""}) vs Prometheus ${theirs.status} (${theirs.error ?? ""})`,
    ];
  }
  if (ours.status === "error") {
    if (ours.errorType !== theirs.errorType)
      problems.push(`errorType ${ours.errorType} vs ${theirs.errorType}`);
    return problems;
  }
  const a = ours.data as { resultType: string; result: unknown };
  const b = theirs.data as { resultType: string; result: unknown };
  if (a.resultType !== b.resultType) return [`resultType ${a.resultType} vs ${b.resultType}`];
  if (a.resultType === "scalar" || a.resultType === "string") {
    const [ta, va] = a.result as Point;
    const [tb, vb] = b.result as Point;
    if (ta !== tb || !closeEnough(va, vb))
      problems.push(`scalar ${JSON.stringify(a.result)} vs ${JSON.stringify(b.result)}`);
    return problems;
  }
  const key = (s: SeriesOut) => JSON.stringify(Object.entries(s.metric).sort());
  const ma = new Map((a.result as SeriesOut[]).map((s) => [key(s), s]));
  const mb = new Map((b.result as SeriesOut[]).map((s) => [key(s), s]));
  if (ma.size !== (a.result as SeriesOut[]).length) problems.push("duplicate series in our answer");
  for (const k of mb.keys()) if (!ma.has(k)) problems.push(`missing series ${k}`);
  for (const k of ma.keys()) if (!mb.has(k)) problems.push(`extra series ${k}`);
  for (const [k, sa] of ma) {
    const sb = mb.get(k);
    if (!sb) continue;
    const pa = sa.values ?? [sa.value!];
    const pb = sb.values ?? [sb.value!];
    if (pa.length !== pb.length) {
      problems.push(`${k}: ${pa.length} points vs ${pb.length}`);
      continue;
    }
    for (let i = 0; i < pa.length; i++) {
      const [ta, va] = pa[i]!;
      const [tb, vb] = pb[i]!;
      if (ta !== tb || !closeEnough(va, vb)) {
        problems.push(`${k} @${ta}: ${va} vs Prometheus @${tb}: ${vb}`);
        break;
      }
    }
  }
  return problems.slice(0, 8);
}

describe.skipIf(!haveBinaries)("PromQL answers match a real Prometheus 2.42", () => {
  let dir = "";
  let prometheus: ChildProcess | undefined;
  let promUrl = "";
  let sandbox: RunningMetricsServer | undefined;
  let promLog = "";
  let store: TimeSeriesStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "prophet-promql-"));
    store = generateSyntheticCluster({ startMs: START, endMs: END, seed: 7 });
    sandbox = await startMetricsServer({ store, now: () => END });
    const omFile = join(dir, "samples.om.txt");
    writeFileSync(omFile, writeOpenMetrics(store));
    const data = join(dir, "data");
    await run(PROMTOOL, ["tsdb", "create-blocks-from", "openmetrics", omFile, data], { maxBuffer: 1 << 24 });
    const config = join(dir, "prometheus.yml");
    // Prometheus also scrapes the sandbox's /metrics (latest values, stamped with scrape time).
    const target = new URL(sandbox.url).host;
    writeFileSync(
      config,
      [
        "global:",
        "  scrape_interval: 1s",
        "scrape_configs:",
        "  - job_name: sandbox",
        "    honor_labels: true",
        "    static_configs:",
        `      - targets: ["${target}"]`,
        "",
      ].join("\n"),
    );
    const port = await freePort();
    prometheus = spawn(
      PROMETHEUS,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${data}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--storage.tsdb.retention.time=30d",
        "--query.lookback-delta=5m",
        "--log.level=warn",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    prometheus.stderr!.on("data", (d: Buffer) => {
      promLog = (promLog + d.toString()).slice(-4000);
    });
    promUrl = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (prometheus.exitCode !== null) throw new Error(`prometheus exited: ${promLog}`);
      const ready = await fetch(`${promUrl}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`prometheus not ready after 20 s: ${promLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);

  afterAll(async () => {
    if (prometheus?.pid && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus!.once("exit", r));
      process.kill(prometheus.pid, "SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (prometheus.exitCode === null) process.kill(prometheus.pid, "SIGKILL");
    }
    await sandbox?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("has the backfilled data (sanity)", async () => {
    const r = await get(promUrl, "/api/v1/query", { query: "count(http_requests_total)", time: sec(END) });
    expect(r.status).toBe("success");
    const result = (r.data as { result: SeriesOut[] }).result;
    expect(Number(result[0]?.value?.[1])).toBeGreaterThan(50);
  });

  it("instant queries agree at several instants", async () => {
    const failures: string[] = [];
    for (const query of INSTANT_QUERIES) {
      for (const t of INSTANTS) {
        const params = { query, time: sec(t) };
        const [ours, theirs] = await Promise.all([
          get(sandbox!.url, "/api/v1/query", params),
          get(promUrl, "/api/v1/query", params),
        ]);
        const d = diff(ours, theirs);
        if (d.length) failures.push(`${query} @ ${sec(t)}:\n    ${d.join("\n    ")}`);
      }
    }
    expect(failures, failures.join("\n")).toEqual([]);
  });

  it("range queries agree, on and off the sample grid", async () => {
    const failures: string[] = [];
    const windows = [
      { start: sec(START), end: sec(END), step: "60" },
      { start: sec(START + 3_333), end: sec(END - 1_000), step: "47" },
      { start: sec(START + 40 * 60_000), end: sec(START + 100 * 60_000), step: "15s" },
    ];
    for (const query of RANGE_QUERIES) {
      for (const w of windows) {
        const params = { query, ...w };
        const [ours, theirs] = await Promise.all([
          get(sandbox!.url, "/api/v1/query_range", params),
          get(promUrl, "/api/v1/query_range", params),
        ]);
        const d = diff(ours, theirs);
        if (d.length)
          failures.push(`${query} [${w.start}..${w.end} step ${w.step}]:\n    ${d.join("\n    ")}`);
      }
    }
    expect(failures, failures.join("\n")).toEqual([]);
  });

  it("series, label names and label values agree", async () => {
    const range = { start: sec(START), end: sec(END) };
    const cases: [string, Record<string, string>][] = [
      ["/api/v1/series", { "match[]": 'http_requests_total{namespace="shop",code="500"}', ...range }],
      ["/api/v1/series", { "match[]": "kube_pod_container_resource_limits", ...range }],
      ["/api/v1/labels", range],
      ["/api/v1/labels", { "match[]": "container_memory_working_set_bytes", ...range }],
      ["/api/v1/label/namespace/values", range],
      ["/api/v1/label/__name__/values", range],
      ["/api/v1/label/pod/values", { "match[]": 'http_requests_total{namespace="payments"}', ...range }],
    ];
    for (const [path, params] of cases) {
      const [ours, theirs] = await Promise.all([get(sandbox!.url, path, params), get(promUrl, path, params)]);
      const sortJson = (d: unknown) => (Array.isArray(d) ? d.map((x) => JSON.stringify(x)).sort() : d);
      expect({ path, status: ours.status, data: sortJson(ours.data) }).toEqual({
        path,
        status: theirs.status,
        data: sortJson(theirs.data),
      });
    }
  });

  it("rejects the same malformed requests with the same error types", async () => {
    const cases: [string, Record<string, string>][] = [
      ["/api/v1/query", { query: "sum(", time: sec(END) }],
      ["/api/v1/query", { query: "rate(http_requests_total)", time: sec(END) }],
      ["/api/v1/query", { query: "up", time: "yesterday" }],
      ["/api/v1/query_range", { query: "up", start: sec(END), end: sec(START), step: "60" }],
      ["/api/v1/query_range", { query: "up", start: sec(START), end: sec(END), step: "0" }],
      ["/api/v1/query_range", { query: "up", start: sec(START), end: sec(END), step: "0.1" }],
      [
        "/api/v1/query_range",
        { query: "http_requests_total[5m]", start: sec(START), end: sec(END), step: "60" },
      ],
      ["/api/v1/series", {}],
      ["/api/v1/query_range", { query: '"text"', start: sec(START), end: sec(END), step: "60" }],
      ["/api/v1/query", { time: sec(END) }],
      ["/api/v1/query", { query: "histogram_quantile(0.9, http_requests_total", time: sec(END) }],
      ["/api/v1/query", { query: 'http_requests_total{code=~"("}', time: sec(END) }],
      [
        "/api/v1/query",
        { query: "holt_winters(container_memory_working_set_bytes[5m], 2, 0.5)", time: sec(END) },
      ],
    ];
    for (const [path, params] of cases) {
      const [ours, theirs] = await Promise.all([get(sandbox!.url, path, params), get(promUrl, path, params)]);
      expect({ path, params, status: ours.status, errorType: ours.errorType }).toEqual({
        path,
        params,
        status: theirs.status,
        errorType: theirs.errorType,
      });
    }
  });

  // Last, so the scrape (Prometheus starts scraping ~5 s after start-up) has happened meanwhile.
  it("scrapes /metrics: promtool lints it clean and Prometheus stores exactly the latest values", async () => {
    const text = writeExposition(store);
    const lint = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(PROMTOOL, ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
      let out = "";
      p.stdout.on("data", (d: Buffer) => (out += d.toString()));
      p.stderr.on("data", (d: Buffer) => (out += d.toString()));
      p.on("close", (code) => resolve({ code, out }));
      p.stdin.end(text);
    });
    expect(lint, lint.out).toEqual({ code: 0, out: "" });

    // Wait for a successful scrape (scrape interval 1 s).
    let scraped: SeriesOut[] = [];
    const deadline = Date.now() + 15_000;
    for (;;) {
      const up = await get(promUrl, "/api/v1/query", { query: 'up{job="sandbox"} == 1' });
      // Everything scraped from the target except the series Prometheus synthesises (up, scrape_*).
      const r = await get(promUrl, "/api/v1/query", { query: '{instance!="", __name__!~"up|scrape_.*"}' });
      scraped = (r.data as { result: SeriesOut[] } | undefined)?.result ?? [];
      if ((up.data as { result: unknown[] }).result.length === 1 && scraped.length > 0) break;
      if (Date.now() > deadline) throw new Error(`no successful scrape of the sandbox: ${promLog}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const lines = text.split("\n").filter((l) => l && !l.startsWith("#"));
    const expected = new Map(
      lines.map((l) => {
        const i = l.lastIndexOf(" ");
        return [l.slice(0, i), l.slice(i + 1)];
      }),
    );
    const got = new Map(
      scraped.map((s) => {
        // Series without a job label get the target's job="sandbox".
        const { __name__: name, instance: _instance, ...rest } = s.metric;
        if (rest.job === "sandbox") delete rest.job;
        const labels = Object.entries(rest)
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(",");
        return [`${name}{${labels}}`, s.value![1]];
      }),
    );
    expect(got.size).toBe(expected.size);
    for (const [series, value] of expected)
      expect(closeEnough(got.get(series) ?? "missing", value), series).toBe(true);
  });
});

if (!haveBinaries) {
  describe("PromQL answers match a real Prometheus 2.42", () => {
    it.skip(`skipped: ${PROMETHEUS} and ${PROMTOOL} are not installed (apt-get install -y prometheus)`, () => {});
  });
}
