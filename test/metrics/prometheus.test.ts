// The metrics port's Prometheus adapter against real servers: a Prometheus 2.42 (Debian) on
// loopback serving an hour of series backfilled with promtool (fixed timestamps, nothing scraped),
// and the sandbox's /prometheus API on its simulated clock. A small loopback server stands in only
// where a real one cannot misbehave on demand: a proxy with a path prefix and credentials, a
// server that never answers, and one that answers something other than Prometheus JSON.
import { execFile } from "node:child_process";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../infra/sandbox/index.js";
import { metricsPort } from "../../infra/runtime/deps.js";
import { loadConfig } from "../../shared/config.js";
import { prometheusMetrics } from "../../shared/metrics/prometheus.js";
import { MetricsError, type MetricsErrorCode, type Sample } from "../../shared/ports/metrics.js";
import {
  PROMETHEUS_BIN,
  PROMTOOL_BIN,
  missingBinaries,
  startPrometheus,
  type RunningProcess,
} from "../integration/support-processes.js";
import { freePort } from "../setup/postgres.js";

const run = promisify(execFile);
const missing = missingBinaries(PROMETHEUS_BIN, PROMTOOL_BIN);

/** 2024-03-01T00:00:00Z; one sample every 15 s for an hour. */
const BASE = 1_709_251_200;
const STEP = 15;
const at = (minutes: number) => new Date((BASE + minutes * 60) * 1000);

/** queue depth: instance a = i, instance b = 2i at the i-th step; ratio: NaN at i = 40, +Inf at 41. */
function openMetrics(): string {
  const lines = ["# TYPE prophet_test_queue_depth gauge"];
  for (const [instance, k] of [
    ["a", 1],
    ["b", 2],
  ] as const)
    for (let i = 0; i < 240; i++)
      lines.push(`prophet_test_queue_depth{job="api",instance="${instance}"} ${k * i} ${BASE + i * STEP}`);
  lines.push("# TYPE prophet_test_ratio gauge");
  for (let i = 0; i < 240; i++)
    lines.push(
      `prophet_test_ratio{job="api"} ${i === 40 ? "NaN" : i === 41 ? "+Inf" : "0.5"} ${BASE + i * STEP}`,
    );
  return `${lines.join("\n")}\n# EOF\n`;
}

async function failure(p: Promise<unknown>): Promise<MetricsError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MetricsError);
  return err as MetricsError;
}

async function expectCode(
  p: Promise<unknown>,
  code: MetricsErrorCode,
  message: RegExp,
): Promise<MetricsError> {
  const err = await failure(p);
  expect({ code: err.code, message: err.message }).toEqual({ code, message: expect.stringMatching(message) });
  return err;
}

const byInstance = (a: Sample, b: Sample) => (a.labels.instance ?? "").localeCompare(b.labels.instance ?? "");

/**
 * Loopback stand-in: /mimir/prometheus/* forwards to `upstream` when the Authorization header is
 * one of `accepted` (401 otherwise); /hang/* never answers; /html/* and /garbled/* answer 200 with
 * a body that is not a Prometheus answer.
 */
async function startStandIn(upstream: string, accepted: string[]): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    if (path.startsWith("/hang/")) return; // the client's deadline ends it
    if (path.startsWith("/html/")) {
      res.writeHead(200, { "content-type": "text/html" });
      return void res.end("<html><body>Sign in</body></html>");
    }
    if (path.startsWith("/garbled/")) {
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end(
        JSON.stringify({
          status: "success",
          data: { resultType: "vector", result: [{ metric: {}, value: [BASE, "many"] }] },
        }),
      );
    }
    if (!path.startsWith("/mimir/prometheus/")) {
      res.writeHead(404);
      return void res.end();
    }
    if (!accepted.includes(req.headers.authorization ?? "")) {
      res.writeHead(401, { "content-type": "text/plain" });
      return void res.end("no org id / unauthorized\n");
    }
    const up = new URL(upstream);
    const fwd = request(
      {
        host: up.hostname,
        port: up.port,
        method: req.method,
        path: path.slice("/mimir/prometheus".length),
        headers: { "content-type": req.headers["content-type"] ?? "" },
      },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    req.pipe(fwd);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe.skipIf(missing.length > 0)("the Prometheus adapter against a real Prometheus 2.42", () => {
  let dir = "";
  let prometheus: RunningProcess | undefined;
  let standIn: { url: string; server: Server } | undefined;
  const bearer = "s3cret-token";
  const basic = `Basic ${Buffer.from("grafana:p@ss word").toString("base64")}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "prophet-metrics-"));
    writeFileSync(join(dir, "samples.om.txt"), openMetrics());
    await run(PROMTOOL_BIN, [
      "tsdb",
      "create-blocks-from",
      "openmetrics",
      join(dir, "samples.om.txt"),
      join(dir, "prometheus"),
    ]);
    prometheus = await startPrometheus(dir, [], "groups: []\n");
    standIn = await startStandIn(prometheus.url, [`Bearer ${bearer}`, basic]);
  });

  afterAll(async () => {
    await prometheus?.stop();
    if (standIn) {
      const closed = new Promise<void>((r) => standIn!.server.close(() => r()));
      standIn.server.closeAllConnections();
      await closed;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("answers an instant query with one sample per series, labels included", async () => {
    const port = prometheusMetrics({ url: prometheus!.url });
    const samples = await port.instant("prophet_test_queue_depth", at(10));
    expect(samples.sort(byInstance)).toEqual([
      { labels: { __name__: "prophet_test_queue_depth", job: "api", instance: "a" }, value: 40 },
      { labels: { __name__: "prophet_test_queue_depth", job: "api", instance: "b" }, value: 80 },
    ]);
    expect(await port.instant("sum(prophet_test_queue_depth)", at(10))).toEqual([{ labels: {}, value: 120 }]);
  });

  it("answers a scalar as one sample without labels", async () => {
    const port = prometheusMetrics({ url: prometheus!.url });
    expect(await port.instant("scalar(sum(prophet_test_queue_depth)) * 2", at(10))).toEqual([
      { labels: {}, value: 240 },
    ]);
  });

  it("reads NaN and ±Inf, stored or computed", async () => {
    const port = prometheusMetrics({ url: prometheus!.url });
    expect(await port.instant("prophet_test_ratio", at(10))).toEqual([
      { labels: { __name__: "prophet_test_ratio", job: "api" }, value: NaN },
    ]);
    expect((await port.instant("prophet_test_ratio", new Date((BASE + 41 * STEP) * 1000)))[0]?.value).toBe(
      Infinity,
    );
    expect(await port.instant("-vector(1) / 0", at(10))).toEqual([{ labels: {}, value: -Infinity }]);
  });

  it("answers a range query with [unix seconds, value] points at every step", async () => {
    const port = prometheusMetrics({ url: prometheus!.url });
    const series = await port.range('prophet_test_queue_depth{instance="a"}', at(10), at(12), 60);
    expect(series).toEqual([
      {
        labels: { __name__: "prophet_test_queue_depth", job: "api", instance: "a" },
        points: [
          [BASE + 600, 40],
          [BASE + 660, 44],
          [BASE + 720, 48],
        ],
      },
    ]);
    const ratio = await port.range("prophet_test_ratio", at(9.75), at(10.5), 15);
    expect(ratio[0]?.points.map(([, v]) => v)).toEqual([0.5, NaN, Infinity, 0.5]);
  });

  it("maps a parse error to bad_query with Prometheus' own message", async () => {
    const port = prometheusMetrics({ url: prometheus!.url });
    const raw = (await (
      await fetch(`${prometheus!.url}/api/v1/query?${new URLSearchParams({ query: "sum(" })}`)
    ).json()) as { error: string };
    const err = await expectCode(port.instant("sum(", at(10)), "bad_query", /parse error/);
    expect(err.message).toBe(raw.error);
    await expectCode(port.range("rate(", at(0), at(1), 15), "bad_query", /parse error/);
  });

  it("maps an execution error and a range vector at an instant to bad_query", async () => {
    const port = prometheusMetrics({ url: prometheus!.url });
    await expectCode(
      port.instant("prophet_test_queue_depth / on() prophet_test_queue_depth", at(10)),
      "bad_query",
      /many-to-many|duplicate series/,
    );
    await expectCode(port.instant("prophet_test_queue_depth[1m]", at(10)), "bad_query", /range vector/);
    await expectCode(port.range("up", at(1), at(0), 15), "bad_query", /ends before it starts/);
    await expectCode(port.range("up", at(0), at(1), 0), "bad_query", /positive number of seconds/);
  });

  it("sends a bearer token or basic auth to an API under a path prefix, never naming them", async () => {
    const base = `${standIn!.url}/mimir/prometheus/`;
    const withToken = prometheusMetrics({ url: base, bearerToken: bearer });
    expect(withToken.name).toBe(`${standIn!.url}/mimir/prometheus`);
    expect(await withToken.instant("sum(prophet_test_queue_depth)", at(10))).toEqual([
      { labels: {}, value: 120 },
    ]);
    const withUserInfo = prometheusMetrics({
      url: `http://grafana:${encodeURIComponent("p@ss word")}@${new URL(standIn!.url).host}/mimir/prometheus`,
    });
    expect(withUserInfo.name).toBe(`${standIn!.url}/mimir/prometheus`);
    expect(await withUserInfo.range("sum(prophet_test_queue_depth)", at(10), at(10), 60)).toEqual([
      { labels: {}, points: [[BASE + 600, 120]] },
    ]);
    const wrong = prometheusMetrics({ url: base, bearerToken: "not-it" });
    const err = await expectCode(wrong.instant("up", at(10)), "unavailable", /refused the credentials.*401/);
    expect(err.message).not.toContain("not-it");
  });

  it("maps a wrong path prefix to bad_response", async () => {
    const port = prometheusMetrics({ url: `${prometheus!.url}/prometheus` });
    await expectCode(port.instant("up"), "bad_response", /HTTP 404.*path prefix/);
  });

  it("maps connection refused to unavailable and no answer within the deadline to timeout", async () => {
    const closed = prometheusMetrics({ url: `http://127.0.0.1:${await freePort()}` });
    await expectCode(closed.instant("up"), "unavailable", /could not be reached: ECONNREFUSED/);
    const hanging = prometheusMetrics({ url: `${standIn!.url}/hang`, timeoutMs: 300 });
    await expectCode(hanging.instant("up"), "timeout", /did not answer within 300 ms/);
  });

  it("maps answers that are not Prometheus JSON to bad_response", async () => {
    await expectCode(
      prometheusMetrics({ url: `${standIn!.url}/html` }).instant("up"),
      "bad_response",
      /HTTP 200 <html>/,
    );
    await expectCode(
      prometheusMetrics({ url: `${standIn!.url}/garbled` }).instant("up"),
      "bad_response",
      /unexpected body \(data\.result\.0\.value\.1: expected a sample value\)/,
    );
  });
});

if (missing.length > 0)
  describe("the Prometheus adapter against a real Prometheus 2.42", () => {
    it.skip(`skipped: ${missing.join(", ")} not installed (apt-get install -y prometheus)`, () => {});
  });

describe("the Prometheus adapter against the sandbox's /prometheus", () => {
  let dir = "";
  let sb: Sandbox | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "prophet-metrics-sandbox-"));
    sb = await startSandbox({ seed: 1, kubeconfigPath: join(dir, "kubeconfig"), flowLog: false });
    sb.clock.advance(5 * 60_000);
  });

  afterAll(async () => {
    await sb?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("reads the simulated cluster's pods at the sandbox's now", async () => {
    const port = prometheusMetrics({ url: sb!.prometheusUrl });
    expect(port.name).toBe(sb!.prometheusUrl);
    const now = sb!.clock.now();
    const running = await port.instant('kube_pod_status_phase{phase="Running"} == 1', now);
    const pods = (
      sb!.snapshot().items as { kind?: string; metadata: { namespace?: string; name?: string } }[]
    )
      .filter((o) => o.kind === "Pod")
      .map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
    expect(running.length).toBeGreaterThan(0);
    for (const s of running) {
      expect(s.value).toBe(1);
      expect(pods).toContain(`${s.labels.namespace}/${s.labels.pod}`);
    }
    // Without a time the server's clock decides: the simulated one.
    expect((await port.instant('count(kube_pod_status_phase{phase="Running"} == 1)'))[0]?.value).toBe(
      running.length,
    );
  });

  it("answers a range query on the simulated clock", async () => {
    const port = prometheusMetrics({ url: sb!.prometheusUrl });
    const end = new Date(Math.floor(sb!.clock.now().getTime() / 60_000) * 60_000);
    const start = new Date(end.getTime() - 3 * 60_000);
    const series = await port.range("count(kube_pod_status_phase)", start, end, 60);
    expect(series).toHaveLength(1);
    expect(series[0]!.labels).toEqual({});
    expect(series[0]!.points.map(([t]) => t)).toEqual(
      [0, 60, 120, 180].map((d) => start.getTime() / 1000 + d),
    );
    for (const [, v] of series[0]!.points) expect(v).toBeGreaterThan(0);
  });

  it("maps bad PromQL to bad_query with the server's message, and the Kubernetes /api/v1 to bad_response", async () => {
    const port = prometheusMetrics({ url: sb!.prometheusUrl });
    await expectCode(
      port.instant("sum(kube_pod_status_phase"),
      "bad_query",
      /^invalid parameter "query": .+/,
    );
    const noPrefix = prometheusMetrics({ url: sb!.url });
    await expectCode(noPrefix.instant("up"), "bad_response", /path prefix/);
  });
});

describe("metrics wiring", () => {
  it("uses PROMETHEUS_URL with its token, else the sandbox's URL without the token", async () => {
    const cfg = loadConfig({ PROMETHEUS_URL: "http://prom:9090/", PROMETHEUS_BEARER_TOKEN: "tok" });
    expect((await metricsPort(cfg, "http://127.0.0.1:1/prometheus"))?.name).toBe("http://prom:9090");
    const local = loadConfig({ PROMETHEUS_BEARER_TOKEN: "tok" });
    expect((await metricsPort(local, "http://127.0.0.1:1/prometheus"))?.name).toBe(
      "http://127.0.0.1:1/prometheus",
    );
    expect(await metricsPort(loadConfig({}))).toBeUndefined();
  });

  it("never shows the URL or the token in a configuration error", () => {
    expect(() =>
      loadConfig({ PROMETHEUS_URL: "user:secret@prom", PROMETHEUS_BEARER_TOKEN: "", PORT: "x" }),
    ).toThrowError(/PROMETHEUS_URL: expected an http\(s\) URL \(Prometheus-compatible API\); got \(hidden\)/);
  });
});
