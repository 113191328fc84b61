// The HTTP edge: Prometheus' response shapes byte for byte, GET and POST forms, and errors a client can act on.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetricsHandler } from "../../infra/sandbox/metrics/http.js";
import { startMetricsServer, type RunningMetricsServer } from "../../infra/sandbox/metrics/server.js";
import { TimeSeriesStore } from "../../infra/sandbox/metrics/tsdb.js";

function seeded(): TimeSeriesStore {
  const store = new TimeSeriesStore();
  store.describe("http_requests_total", { type: "counter", help: "Requests." });
  for (let t = 0; t <= 600; t += 15) {
    store.append({ __name__: "http_requests_total", pod: "a", code: "200" }, t * 1000, t * 2);
    store.append({ __name__: "http_requests_total", pod: "b", code: "500" }, t * 1000, t);
  }
  store.append({ __name__: "tiny" }, 600_000, 1.5e-7);
  return store;
}

describe("Prometheus HTTP API", () => {
  let server: RunningMetricsServer;
  const get = async (path: string) => {
    const res = await fetch(`${server.url}${path}`);
    return { status: res.status, body: await res.text(), type: res.headers.get("content-type") };
  };

  beforeAll(async () => {
    server = await startMetricsServer({ store: seeded(), now: () => 600_500 });
  });
  afterAll(async () => {
    await server.close();
  });

  it("answers an instant vector query in Prometheus' exact shape", async () => {
    const r = await get(
      `/api/v1/query?query=${encodeURIComponent('http_requests_total{pod="a"}')}&time=600.25`,
    );
    expect(r.status).toBe(200);
    expect(r.type).toBe("application/json");
    expect(r.body).toBe(
      '{"status":"success","data":{"resultType":"vector","result":[' +
        '{"metric":{"__name__":"http_requests_total","code":"200","pod":"a"},"value":[600.250,"1200"]}]}}',
    );
  });

  it("uses the injected clock without `time` and prints floats without exponents", async () => {
    const r = await get(`/api/v1/query?query=tiny`);
    expect(JSON.parse(r.body)).toEqual({
      status: "success",
      data: {
        resultType: "vector",
        result: [{ metric: { __name__: "tiny" }, value: [600.5, "0.00000015"] }],
      },
    });
  });

  it("answers scalars, strings and range vectors", async () => {
    expect(JSON.parse((await get("/api/v1/query?query=1%2B1&time=10")).body).data).toEqual({
      resultType: "scalar",
      result: [10, "2"],
    });
    expect(JSON.parse((await get('/api/v1/query?query="hi"&time=10')).body).data).toEqual({
      resultType: "string",
      result: [10, "hi"],
    });
    const m = JSON.parse(
      (await get(`/api/v1/query?query=${encodeURIComponent('http_requests_total{pod="b"}[30s]')}&time=600`))
        .body,
    );
    expect(m.data.result[0].values).toEqual([
      [570, "570"],
      [585, "585"],
      [600, "600"],
    ]);
  });

  it("accepts POSTed form bodies for query_range and returns a sorted matrix", async () => {
    const res = await fetch(`${server.url}/api/v1/query_range`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        query: "sum by (pod) (rate(http_requests_total[1m]))",
        start: "300",
        end: "420",
        step: "1m",
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: "success",
      data: {
        resultType: "matrix",
        result: [
          {
            metric: { pod: "a" },
            values: [
              [300, "2"],
              [360, "2"],
              [420, "2"],
            ],
          },
          {
            metric: { pod: "b" },
            values: [
              [300, "1"],
              [360, "1"],
              [420, "1"],
            ],
          },
        ],
      },
    });
  });

  it("lists series, label names and label values", async () => {
    const series = JSON.parse(
      (await get(`/api/v1/series?match[]=${encodeURIComponent('{code="500"}')}`)).body,
    );
    expect(series).toEqual({
      status: "success",
      data: [{ __name__: "http_requests_total", code: "500", pod: "b" }],
    });
    expect(JSON.parse((await get("/api/v1/labels")).body).data).toEqual(["__name__", "code", "pod"]);
    expect(JSON.parse((await get("/api/v1/label/pod/values")).body).data).toEqual(["a", "b"]);
    expect(JSON.parse((await get("/api/v1/label/__name__/values?start=0&end=1")).body).data).toEqual([
      "http_requests_total",
    ]);
  });

  it("answers bad and unsupported queries with 400 bad_data naming the problem", async () => {
    const sub = await get(`/api/v1/query?query=${encodeURIComponent("max_over_time(rate(x[1m])[5m:1m])")}`);
    expect(sub.status).toBe(400);
    expect(JSON.parse(sub.body)).toEqual({
      status: "error",
      errorType: "bad_data",
      error:
        'invalid parameter "query": unsupported PromQL construct in the sandbox query engine: subquery "rate(x[1m])[5m:1m]"',
    });
    const fn = JSON.parse((await get(`/api/v1/query?query=${encodeURIComponent("histogram_avg(x)")}`)).body);
    expect(fn.error).toMatch(/function "histogram_avg"/);
    const t = await get("/api/v1/query?query=up&time=tomorrow");
    expect(t.status).toBe(400);
    expect(JSON.parse(t.body).error).toBe(
      'invalid parameter "time": cannot parse "tomorrow" to a valid timestamp',
    );
    const step = await get("/api/v1/query_range?query=up&start=0&end=100&step=0");
    expect(JSON.parse(step.body).error).toMatch(/zero or negative query resolution step/);
    const many = await get("/api/v1/query_range?query=up&start=0&end=100000&step=1");
    expect(JSON.parse(many.body).error).toMatch(/exceeded maximum resolution of 11,000 points/);
    expect((await get("/api/v1/series")).status).toBe(400);
    expect((await get("/api/v1/label/bad-name/values")).status).toBe(400);
  });

  it("answers evaluation failures with 422 execution", async () => {
    const r = await get(
      `/api/v1/query?query=${encodeURIComponent("http_requests_total / on() http_requests_total")}&time=600`,
    );
    expect(r.status).toBe(422);
    expect(JSON.parse(r.body)).toMatchObject({ status: "error", errorType: "execution" });
  });

  it("serves /metrics in the text format and 404s unknown API paths", async () => {
    const m = await get("/metrics");
    expect(m.type).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(m.body).toContain("# TYPE http_requests_total counter\n");
    expect(m.body).toContain('http_requests_total{code="500",pod="b"} 600\n');
    expect((await get("/api/v1/nothing")).status).toBe(404);
    expect((await fetch(`${server.url}/api/v1/query`, { method: "DELETE" })).status).toBe(405);
  });
});

describe("mounting into another server", () => {
  let url = "";
  const server = createServer((req, res) => {
    void handle(req, res).then((handled) => {
      if (!handled) {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("the host app");
      }
    });
  });
  const handle = createMetricsHandler({ store: seeded() });

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it("handles its own paths and leaves the rest to the host", async () => {
    expect(await (await fetch(`${url}/console`)).text()).toBe("the host app");
    const labels = (await (await fetch(`${url}/api/v1/labels`)).json()) as { status: string };
    expect(labels.status).toBe("success");
  });
});
