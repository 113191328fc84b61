// The in-memory store and the exposition formats: what a workload model writes is what queries and
// scrapes read back, old samples age out, and the text is what Prometheus' parsers expect.

import { describe, expect, it } from "vitest";
import { writeExposition, writeOpenMetrics } from "../../infra/sandbox/metrics/exposition.js";
import { newMatcher } from "../../infra/sandbox/metrics/matchers.js";
import { SampleRejectedError, TimeSeriesStore } from "../../infra/sandbox/metrics/tsdb.js";

describe("TimeSeriesStore", () => {
  it("identifies a series by its label set whatever the order the labels come in", () => {
    const store = new TimeSeriesStore();
    store.append({ __name__: "m", b: "2", a: "1" }, 1000, 1);
    store.append(
      [
        ["a", "1"],
        ["__name__", "m"],
        ["b", "2"],
      ],
      2000,
      2,
    );
    expect(store.seriesCount).toBe(1);
    const [s] = store.select([newMatcher("__name__", "=", "m")]);
    expect(s!.labels).toEqual([
      ["__name__", "m"],
      ["a", "1"],
      ["b", "2"],
    ]);
    expect(Array.from(s!.v.subarray(s!.start, s!.end))).toEqual([1, 2]);
  });

  it("rejects out-of-order samples and conflicting duplicates, accepts identical re-sends", () => {
    const store = new TimeSeriesStore();
    store.append({ __name__: "m" }, 2000, 1);
    expect(() => store.append({ __name__: "m" }, 1000, 1)).toThrow(SampleRejectedError);
    expect(() => store.append({ __name__: "m" }, 2000, 5)).toThrow(/duplicate sample/);
    expect(() => store.append({ __name__: "m" }, 2000, 1)).not.toThrow();
    expect(() => store.append({ job: "x" }, 2000, 1)).toThrow(/__name__/);
  });

  it("reads ranges by binary search across buffer growth", () => {
    const store = new TimeSeriesStore();
    for (let i = 0; i < 1000; i++) store.append({ __name__: "m" }, i * 15_000, i);
    const [s] = store.select([newMatcher("__name__", "=", "m")]);
    expect(s!.lowerBound(15_000 * 10)).toBe(s!.start + 10);
    expect(s!.upperBound(15_000 * 10)).toBe(s!.start + 11);
    expect(s!.upperBound(15_000 * 10 - 1)).toBe(s!.start + 10);
  });

  it("selects with every matcher type and time bounds, sorted by labels", () => {
    const store = new TimeSeriesStore();
    store.append({ __name__: "m", pod: "b-1" }, 1000, 1);
    store.append({ __name__: "m", pod: "a-1" }, 5000, 1);
    store.append({ __name__: "m", pod: "a-2", extra: "x" }, 9000, 1);
    const pods = (ms: Parameters<TimeSeriesStore["select"]>[0], mint?: number, maxt?: number) =>
      store.select(ms, mint, maxt).map((s) => s.labels.find(([n]) => n === "pod")![1]);
    const name = newMatcher("__name__", "=", "m");
    // Prometheus' order: label pairs compared in turn, so {extra="x"} sorts before {pod=…}.
    expect(pods([name])).toEqual(["a-2", "a-1", "b-1"]);
    expect(pods([name, newMatcher("pod", "!=", "a-1")])).toEqual(["a-2", "b-1"]);
    expect(pods([newMatcher("pod", "=~", "a-.")])).toEqual(["a-2", "a-1"]);
    expect(pods([name, newMatcher("pod", "!~", "a-.")])).toEqual(["b-1"]);
    expect(pods([name, newMatcher("extra", "=", "")])).toEqual(["a-1", "b-1"]);
    expect(pods([name], 2000, 8000)).toEqual(["a-1"]);
    expect(store.labelNames()).toEqual(["__name__", "extra", "pod"]);
    expect(store.labelValues("pod", [[newMatcher("extra", "=", "x")]])).toEqual(["a-2"]);
  });

  it("drops samples older than the retention and forgets series left empty", () => {
    const store = new TimeSeriesStore({ retentionMs: 60_000 });
    store.append({ __name__: "old" }, 0, 1);
    const live = store.seriesFor({ __name__: "live" });
    for (let t = 0; t <= 200_000; t += 10_000) store.appendTo(live, t, t);
    store.applyRetention();
    expect(store.select([newMatcher("__name__", "=", "old")])).toEqual([]);
    const [s] = store.select([newMatcher("__name__", "=", "live")]);
    expect(s!.t[s!.start]).toBe(140_000);
    expect(store.labelValues("__name__")).toEqual(["live"]);
    // A handle kept by a workload keeps working after its series aged out.
    const old = store.seriesFor({ __name__: "again" });
    store.appendTo(old, 0, 1);
    store.appendTo(live, 400_000, 1);
    store.applyRetention();
    store.appendTo(old, 500_000, 2);
    expect(store.select([newMatcher("__name__", "=", "again")])).toHaveLength(1);
  });
});

describe("exposition", () => {
  function sampleStore(): TimeSeriesStore {
    const store = new TimeSeriesStore();
    store.describe("http_requests_total", { type: "counter", help: "Requests.\nServed by \\ app." });
    store.describe("latency_seconds", { type: "histogram", help: "Latency." });
    store.append({ __name__: "http_requests_total", code: "200", path: 'a"b\\c\nd' }, 1000, 5);
    store.append({ __name__: "http_requests_total", code: "200", path: 'a"b\\c\nd' }, 2000, 7);
    for (const [le, v] of [
      ["+Inf", 10],
      ["0.5", 8],
      ["0.1", 3],
    ] as const) {
      store.append({ __name__: "latency_seconds_bucket", le }, 2000, v);
    }
    store.append({ __name__: "latency_seconds_sum" }, 2000, 2.5);
    store.append({ __name__: "latency_seconds_count" }, 2000, 10);
    store.append({ __name__: "temperature" }, 2000, Infinity);
    store.append({ __name__: "gone" }, 1000, 1);
    store.markStale({ __name__: "gone" }, 2000);
    return store;
  }

  it("writes the latest values in the text format with HELP, TYPE, escaping and ordered buckets", () => {
    expect(writeExposition(sampleStore())).toBe(
      [
        "# HELP http_requests_total Requests.\\nServed by \\\\ app.",
        "# TYPE http_requests_total counter",
        'http_requests_total{code="200",path="a\\"b\\\\c\\nd"} 7',
        "# HELP latency_seconds Latency.",
        "# TYPE latency_seconds histogram",
        'latency_seconds_bucket{le="0.1"} 3',
        'latency_seconds_bucket{le="0.5"} 8',
        'latency_seconds_bucket{le="+Inf"} 10',
        "latency_seconds_count 10",
        "latency_seconds_sum 2.5",
        "temperature +Inf",
        "",
      ].join("\n"),
    );
    expect(writeExposition(sampleStore(), { withTimestamps: true })).toContain("temperature +Inf 2000\n");
  });

  it("dumps history as OpenMetrics with second timestamps, counters named without _total", () => {
    const om = writeOpenMetrics(sampleStore());
    expect(om).toContain("# TYPE http_requests counter\n");
    expect(om).toContain('http_requests_total{code="200",path="a\\"b\\\\c\\nd"} 5 1\n');
    expect(om).toContain('http_requests_total{code="200",path="a\\"b\\\\c\\nd"} 7 2\n');
    expect(om).toContain("gone 1 1\n");
    expect(om).not.toContain("gone NaN");
    expect(om.endsWith("# EOF\n")).toBe(true);
  });
});
