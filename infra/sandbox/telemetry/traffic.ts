// Application metrics of each Service-fronted workload: http_requests_total{code} and the
// http_request_duration_seconds histogram, driven by demand. Requests beyond what the ready pods can
// serve are shed with 503; latency grows with utilisation (an M/M/1-like 1/(1−ρ) curve) and with
// faults that make the application itself slow (a leaking heap, failing probes). Ready pods running an
// image with a bug (bad-rollout) add their share of 500s, so a rollback ends them pod by pod. A pod
// serves up to BURST × perPodRps (perPodRps is what it serves at 100 % of its CPU request). Like a
// scrape of the application's own pods, a Service has no series until one of its pods has been ready.
import type { WorkloadBehaviour } from "../controllers/context.js";
import type { SeriesWriter } from "./series-writer.js";

export const trafficMetadata = {
  http_requests_total: ["counter", "Total HTTP requests by status code."],
  http_request_duration_seconds: ["histogram", "HTTP request latency in seconds."],
} as const;

export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
const BASE_LATENCY_S = 0.02;
const BURST = 2;
// A healthy service fails 0.02 % of requests: a fifth of a 99.9 % objective's budget.
const BASE_ERROR_RATIO = 0.0002;
const SHED_LATENCY_S = 0.002;

export interface TrafficInput {
  namespace: string;
  service: string;
  rps: number;
  perPodRps: number;
  ready: number;
  /**
   * Extra share of served requests answered with 500 because ready pods run a bad image: each such
   * pod's ratio summed and divided by `ready` (traffic is spread evenly over ready pods).
   */
  imageErrorRatio?: number;
  behaviour: WorkloadBehaviour;
}

interface ServiceCounters {
  ok: number;
  errors: number;
  shed: number;
  buckets: number[];
  sum: number;
  count: number;
}

/** Mean latency (seconds) at utilisation `rho` of the ready capacity, with fault slow-downs. */
export function meanLatency(rho: number, behaviour: WorkloadBehaviour): number {
  const queueing = 1 / Math.max(0.04, 1 - Math.min(rho, 0.96));
  const slow = behaviour.memoryLeakBytesPerMinute ? 8 : behaviour.livenessFailing ? 4 : 1;
  return Math.min(20, BASE_LATENCY_S * queueing * slow);
}

export class ServiceTraffic {
  private readonly counters = new Map<string, ServiceCounters>();

  write(w: SeriesWriter, input: TrafficInput, dtS: number): void {
    const { namespace, service, behaviour } = input;
    const key = `${namespace}/${service}`;
    let k = this.counters.get(key);
    if (!k && input.ready === 0) return;
    if (!k)
      this.counters.set(
        key,
        (k = { ok: 0, errors: 0, shed: 0, buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 }),
      );
    const capacity = input.ready * input.perPodRps * BURST;
    const total = input.rps * dtS;
    const served = Math.min(input.rps, capacity) * dtS;
    const shed = total - served;
    const rho = capacity > 0 ? input.rps / capacity : 1;
    const errorRatio = Math.min(
      1,
      BASE_ERROR_RATIO +
        (behaviour.readinessFailing || behaviour.livenessFailing ? 0.1 : 0) +
        (input.imageErrorRatio ?? 0),
    );
    const mean = meanLatency(rho, behaviour);
    k.errors += served * errorRatio;
    k.ok += served * (1 - errorRatio);
    k.shed += shed;
    // Exponentially distributed latencies: P(latency ≤ le) = 1 − e^(−le/mean).
    LATENCY_BUCKETS.forEach((le, i) => {
      k.buckets[i] =
        (k.buckets[i] ?? 0) + served * (1 - Math.exp(-le / mean)) + (le >= SHED_LATENCY_S ? shed : 0);
    });
    k.sum += served * mean + shed * SHED_LATENCY_S;
    k.count += total;
    const base = { namespace, service };
    const codes: [string, number][] = [
      ["200", k.ok],
      ["500", k.errors],
      ["503", k.shed],
    ];
    for (const [code, v] of codes)
      w.write(
        `http|${key}|${code}`,
        () => ({ __name__: "http_requests_total", ...base, code }),
        Math.round(v),
      );
    LATENCY_BUCKETS.forEach((le, i) =>
      w.write(
        `http|${key}|le|${le}`,
        () => ({ __name__: "http_request_duration_seconds_bucket", ...base, le: String(le) }),
        Math.round(k.buckets[i] ?? 0),
      ),
    );
    w.write(
      `http|${key}|le|+Inf`,
      () => ({ __name__: "http_request_duration_seconds_bucket", ...base, le: "+Inf" }),
      Math.round(k.count),
    );
    w.write(`http|${key}|sum`, () => ({ __name__: "http_request_duration_seconds_sum", ...base }), k.sum);
    w.write(
      `http|${key}|count`,
      () => ({ __name__: "http_request_duration_seconds_count", ...base }),
      Math.round(k.count),
    );
  }
}
