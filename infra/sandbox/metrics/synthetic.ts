// Deterministic synthetic cluster metrics (seeded): request counters with a reset, a latency histogram,
// memory gauges with a leak, restart counters, pods that appear and vanish, scrape phase and jitter.
// The tests compare the query engine with a real Prometheus on this data; the benchmark queries it at scale.

import { TimeSeriesStore } from "./tsdb.js";
import { seededRandom } from "../../../shared/random.js";

export interface SyntheticOptions {
  startMs: number;
  endMs: number;
  stepMs?: number;
  seed?: number;
  namespaces?: string[];
  podsPerNamespace?: number;
  store?: TimeSeriesStore;
}

export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, Infinity];

export { seededRandom };

interface Pod {
  namespace: string;
  name: string;
  phaseMs: number;
  jitterMs: number;
  baseRps: number;
  latencyMean: number;
  memBase: number;
  memLeakPerSec: number;
  memLimit: number;
  /** Fractions of the time range during which the pod exists. */
  from: number;
  to: number;
  /** Fraction of the time range at which its counters restart from zero, if they do. */
  resetAt: number | undefined;
}

export function describeSyntheticMetrics(store: TimeSeriesStore): void {
  store.describe("http_requests_total", { type: "counter", help: "HTTP requests served." });
  store.describe("http_request_duration_seconds", { type: "histogram", help: "HTTP request latency." });
  store.describe("container_memory_working_set_bytes", {
    type: "gauge",
    help: "Working set of the container.",
  });
  store.describe("container_cpu_usage_seconds_total", { type: "counter", help: "CPU time consumed." });
  store.describe("kube_pod_container_resource_limits", { type: "gauge", help: "Container resource limits." });
  store.describe("kube_pod_container_status_restarts_total", {
    type: "counter",
    help: "Container restarts.",
  });
}

/** Fills a store with synthetic samples in [startMs, endMs] every stepMs (15 s by default). */
export function generateSyntheticCluster(opts: SyntheticOptions): TimeSeriesStore {
  const step = opts.stepMs ?? 15_000;
  const rnd = seededRandom(opts.seed ?? 42);
  const span = opts.endMs - opts.startMs;
  const store = opts.store ?? new TimeSeriesStore({ retentionMs: Math.max(span * 2, 24 * 3600_000) });
  describeSyntheticMetrics(store);
  const namespaces = opts.namespaces ?? ["shop", "payments", "monitoring"];
  const perNs = opts.podsPerNamespace ?? 3;
  const pods: Pod[] = [];
  let n = 0;
  for (const ns of namespaces) {
    for (let i = 0; i < perNs; i++, n++) {
      const aligned = n % 4 === 0; // some pods scrape exactly on the evaluation grid
      pods.push({
        namespace: ns,
        name: `${ns}-api-${(n * 7919 + 1000).toString(36)}-${i}`,
        phaseMs: aligned ? 0 : Math.floor(rnd() * step),
        jitterMs: aligned ? 0 : 250,
        baseRps: 5 + rnd() * 60,
        latencyMean: 0.02 + rnd() * 0.3,
        memBase: 100e6 + rnd() * 400e6,
        memLeakPerSec: n === 1 ? 5000 + rnd() * 1000 : 0,
        memLimit: 1024 * 1024 * 1024 * (n % 2 === 0 ? 1 : 2),
        from: n === 2 ? 0.4 : 0,
        to: n === 3 ? 0.7 : 1.01,
        resetAt: n === 0 || n === 4 ? 0.3 + rnd() * 0.4 : undefined,
      });
    }
  }
  for (const pod of pods) emitPod(store, pod, opts.startMs, opts.endMs, step, rnd);
  return store;
}

const CODES = [
  ["200", 0.9],
  ["404", 0.05],
  ["500", 0.03],
  ["503", 0.02],
] as const;
const METHODS = [
  ["GET", 0.8],
  ["POST", 0.2],
] as const;

function emitPod(
  store: TimeSeriesStore,
  pod: Pod,
  startMs: number,
  endMs: number,
  step: number,
  rnd: () => number,
): void {
  const base = { namespace: pod.namespace, pod: pod.name, job: "api" };
  const container = { namespace: pod.namespace, pod: pod.name, container: "app" };
  const reqSeries = METHODS.flatMap(([method, mShare]) =>
    CODES.map(([code, cShare]) => ({
      s: store.seriesFor({ __name__: "http_requests_total", ...base, method, code }),
      share: mShare * cShare,
      value: 0,
    })),
  );
  const buckets = LATENCY_BUCKETS.map((le) => ({
    s: store.seriesFor({
      __name__: "http_request_duration_seconds_bucket",
      ...base,
      le: le === Infinity ? "+Inf" : String(le),
    }),
    le,
    value: 0,
  }));
  const hSum = store.seriesFor({ __name__: "http_request_duration_seconds_sum", ...base });
  const hCount = store.seriesFor({ __name__: "http_request_duration_seconds_count", ...base });
  const mem = store.seriesFor({ __name__: "container_memory_working_set_bytes", ...container });
  const cpu = store.seriesFor({ __name__: "container_cpu_usage_seconds_total", ...container });
  const restarts = store.seriesFor({ __name__: "kube_pod_container_status_restarts_total", ...container });
  const memLimit = store.seriesFor({
    __name__: "kube_pod_container_resource_limits",
    ...container,
    resource: "memory",
    unit: "byte",
  });
  const cpuLimit = store.seriesFor({
    __name__: "kube_pod_container_resource_limits",
    ...container,
    resource: "cpu",
    unit: "core",
  });
  let sum = 0;
  let count = 0;
  let cpuTotal = 0;
  let restartCount = 0;
  let didReset = false;
  const span = endMs - startMs;
  for (let t0 = startMs; t0 <= endMs; t0 += step) {
    const frac = (t0 - startMs) / span;
    if (frac < pod.from || frac > pod.to) continue;
    const t = t0 + pod.phaseMs + (pod.jitterMs ? Math.round((rnd() - 0.5) * 2 * pod.jitterMs) : 0);
    if (t > endMs) continue;
    if (pod.resetAt !== undefined && !didReset && frac >= pod.resetAt) {
      didReset = true;
      restartCount++;
      for (const r of reqSeries) r.value = 0;
      for (const b of buckets) b.value = 0;
      sum = 0;
      count = 0;
      cpuTotal = 0;
    }
    const seasonal = 1 + 0.4 * Math.sin((2 * Math.PI * (t0 - startMs)) / 3_600_000 + pod.phaseMs);
    const rps = pod.baseRps * seasonal * (0.8 + 0.4 * rnd());
    let stepCount = 0;
    for (const r of reqSeries) {
      const inc = Math.floor(rps * (step / 1000) * r.share * (0.7 + 0.6 * rnd()));
      r.value += inc;
      stepCount += inc;
      store.appendTo(r.s, t, r.value);
    }
    // Latencies ~ exponential(mean); bucket counts are cumulative and monotonic.
    const mean = pod.latencyMean * (0.8 + 0.4 * rnd());
    let prevCum = 0;
    for (const b of buckets) {
      const cdf = b.le === Infinity ? 1 : 1 - Math.exp(-b.le / mean);
      const cum = Math.max(prevCum, Math.min(stepCount, Math.round(stepCount * cdf)));
      b.value += cum;
      prevCum = cum;
      store.appendTo(b.s, t, b.value);
    }
    count += stepCount;
    sum += stepCount * mean * (0.9 + 0.2 * rnd());
    store.appendTo(hSum, t, sum);
    store.appendTo(hCount, t, count);
    const memValue = Math.round(
      pod.memBase * (1 + 0.1 * Math.sin(2 * Math.PI * frac * 3 + pod.phaseMs)) +
        pod.memLeakPerSec * ((t - startMs) / 1000) +
        rnd() * 5e6,
    );
    store.appendTo(mem, t, memValue);
    cpuTotal += (step / 1000) * (0.05 + rps / 200) * (0.8 + 0.4 * rnd());
    store.appendTo(cpu, t, cpuTotal);
    if (rnd() < 0.01) restartCount++;
    store.appendTo(restarts, t, restartCount);
    store.appendTo(memLimit, t, pod.memLimit);
    store.appendTo(cpuLimit, t, 0.5);
  }
}
