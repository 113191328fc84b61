// cAdvisor series (job="kubelet", metrics_path="/metrics/cadvisor" in kube-prometheus): CPU usage from
// the demand model's utilisation (capped by the CPU limit, which then throttles), and the working set
// the kubelet model keeps (which a memory-leak fault grows up to the limit).
import { arr, rec, type PodRuntime } from "../controllers/context.js";
import { milliCpu } from "../controllers/quantity.js";
import type { KubeObject } from "../apiserver/types.js";
import type { SeriesEntry, SeriesWriter } from "./series-writer.js";

export const containerMetadata = {
  container_cpu_usage_seconds_total: ["counter", "Cumulative cpu time consumed in seconds."],
  container_memory_working_set_bytes: ["gauge", "Current working set in bytes."],
  container_cpu_cfs_periods_total: ["counter", "Number of elapsed enforcement period intervals."],
  container_cpu_cfs_throttled_periods_total: ["counter", "Number of throttled period intervals."],
} as const;

const CFS_PERIOD_S = 0.1;
/** CPU a container without a workload (or without demand) burns: 5 % of its request. */
const IDLE_UTILISATION = 5;

/** One container's counters and series handles, kept on the pod's record between scrapes. */
export interface ContainerCounters {
  name: string;
  cpuSeconds: number;
  periods: number;
  throttled: number;
  /** Static per container (the pod spec cannot change): parsed once. */
  request: number;
  limit: number;
  /** Series handles, valid while written in every scrape (cleared when a scrape skipped them). */
  series?: SeriesEntry[];
}

export function containerCounters(pod: KubeObject): ContainerCounters[] {
  return arr(rec(pod.spec).containers).map((c) => {
    const resources = rec(c.resources);
    return {
      name: String(c.name),
      cpuSeconds: 0,
      periods: 0,
      throttled: 0,
      request: milliCpu(rec(resources.requests).cpu ?? rec(resources.limits).cpu ?? "100m") / 1000,
      limit: milliCpu(rec(resources.limits).cpu) / 1000,
    };
  });
}

const NAMES = [
  "container_cpu_usage_seconds_total",
  "container_memory_working_set_bytes",
  "container_cpu_cfs_periods_total",
  "container_cpu_cfs_throttled_periods_total",
] as const;

/**
 * Writes one pod's container series. `utilisation` is percent of the CPU request the pod's workload
 * runs at; `dtS` the simulated seconds since the previous scrape; `continued` whether the previous
 * scrape wrote this pod's containers (their handles are then still live).
 */
export function writeContainers(
  w: SeriesWriter,
  pod: KubeObject,
  counters: ContainerCounters[],
  runtime: PodRuntime | undefined,
  utilisation: number | undefined,
  dtS: number,
  continued: boolean,
): boolean {
  if (!runtime) return false;
  const uid = pod.metadata.uid ?? "";
  for (const k of counters) {
    const cr = runtime.containers.get(k.name);
    if (!continued || !cr) delete k.series;
    if (!cr) continue;
    const { request, limit } = k;
    const running = cr.phase === "running";
    if (running) {
      const wanted = (request * (utilisation ?? IDLE_UTILISATION)) / 100;
      const used = limit > 0 ? Math.min(wanted, limit) : wanted;
      k.cpuSeconds += used * dtS;
      if (limit > 0) {
        const periods = dtS / CFS_PERIOD_S;
        k.periods += periods;
        if (wanted > limit) k.throttled += periods * Math.min(1, (wanted - limit) / wanted + 0.5);
      }
    }
    const values = [k.cpuSeconds, running ? Math.round(cr.memoryBytes) : 0];
    if (limit > 0) values.push(k.periods, k.throttled);
    if (k.series) {
      for (let i = 0; i < values.length; i++) w.rewrite(k.series[i]!, values[i]!);
      continue;
    }
    const labels = {
      job: "kubelet",
      metrics_path: "/metrics/cadvisor",
      namespace: pod.metadata.namespace ?? "",
      pod: pod.metadata.name ?? "",
      container: k.name,
      node: runtime.node,
    };
    k.series = values.map((v, i) =>
      w.write(`${uid}|${k.name}|${NAMES[i]}`, () => ({ __name__: NAMES[i]!, ...labels }), v),
    );
  }
  return true;
}
