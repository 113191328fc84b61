// The sandbox's metrics pipeline: every scrape interval of simulated time, one pass over the cluster
// writes cAdvisor, kube-state-metrics, Karpenter and application series into a TimeSeriesStore —
// what a Prometheus scraping those exporters in a real cluster would hold.
import type { KubeObject } from "../apiserver/types.js";
import { rec, type SimContext } from "../controllers/context.js";
import type { DemandRate } from "../demand.js";
import { TimeSeriesStore, type MetricType } from "../metrics/index.js";
import {
  containerCounters,
  containerMetadata,
  writeContainers,
  type ContainerCounters,
} from "./containers.js";
import { ClusterObjectState, kubeStateMetadata, writeKarpenterPod, writePodState } from "./kube-state.js";
import { SeriesWriter, recording, type SeriesEntry } from "./series-writer.js";
import { ServiceTraffic, trafficMetadata } from "./traffic.js";
import { volumeMetadata, writeVolumes } from "./volumes.js";

export interface ClusterTelemetryOptions {
  ctx: SimContext;
  /** Requests/s per workload; undefined: no application metrics. */
  demand?: DemandRate;
  /** Simulated time between scrapes and rule evaluations (default 30 s, kube-prometheus' interval). */
  scrapeIntervalMs?: number;
  /** How much history the store keeps (default 6 h). */
  retentionMs?: number;
}

export class ClusterTelemetry {
  readonly store: TimeSeriesStore;
  readonly scrapeIntervalMs: number;
  private readonly writer: SeriesWriter;
  private readonly traffic = new ServiceTraffic();
  private readonly objects: ClusterObjectState;
  private lastScrape: number | undefined;
  /** What each pod's last scrape derived from it; object-state series are replayed while the pod is unchanged. */
  private readonly pods = new Map<string, PodRecord>();
  /** Wall milliseconds spent scraping (for benchmarks). */
  wallMs = 0;
  scrapes = 0;

  constructor(private readonly opts: ClusterTelemetryOptions) {
    this.store = new TimeSeriesStore({ retentionMs: opts.retentionMs ?? 6 * 3600_000 });
    this.scrapeIntervalMs = opts.scrapeIntervalMs ?? 30_000;
    this.writer = new SeriesWriter(this.store);
    this.objects = new ClusterObjectState(opts.ctx);
    const families: Record<string, readonly [MetricType, string]> = {
      ...kubeStateMetadata,
      ...containerMetadata,
      ...trafficMetadata,
      ...volumeMetadata,
    };
    for (const [name, [type, help]] of Object.entries(families)) this.store.describe(name, { type, help });
  }

  /** The pod's record, re-deriving its object-state series when the pod (or its node's pool) changed. */
  private record(pod: KubeObject, nodePools: Map<string, string>): PodRecord {
    const { ctx } = this.opts;
    const uid = pod.metadata.uid ?? "";
    const rv = pod.metadata.resourceVersion ?? "";
    const pool = nodePools.get(String(rec(pod.spec).nodeName ?? "")) ?? "";
    let r = this.pods.get(uid);
    if (r && r.rv === rv && r.pool === pool && r.scrape === this.scrapes - 1) {
      for (const [e, v] of r.entries) this.writer.rewrite(e, v);
      r.scrape = this.scrapes;
      return r;
    }
    const entries: [SeriesEntry, number][] = [];
    const w = recording(this.writer, entries);
    writePodState(w, pod);
    writeKarpenterPod(w, pod, (n) => nodePools.get(n) ?? "");
    const fresh = r === undefined;
    r ??= {
      rv,
      pool,
      entries,
      scrape: this.scrapes,
      workload: ctx.runtimes.get(uid)?.workload ?? ctx.workloadOf(pod),
      ready: false,
      containers: containerCounters(pod),
      containersAt: -1,
      images: [],
    };
    if (!fresh) Object.assign(r, { rv, pool, entries, scrape: this.scrapes });
    r.images = containerImages(pod);
    r.ready = isReady(pod);
    r.workload ??= ctx.runtimes.get(uid)?.workload ?? ctx.workloadOf(pod);
    return r;
  }

  /** Scrapes when a scrape interval has passed since the last one (call after every simulation step). */
  maybeScrape(nowMs: number): void {
    if (this.lastScrape !== undefined && nowMs - this.lastScrape < this.scrapeIntervalMs) return;
    this.scrape(nowMs);
  }

  scrape(nowMs: number): void {
    if (this.lastScrape !== undefined && nowMs <= this.lastScrape) return;
    const t0 = performance.now();
    const dtS = this.lastScrape === undefined ? 0 : (nowMs - this.lastScrape) / 1000;
    this.lastScrape = nowMs;
    const { ctx } = this.opts;
    const w = this.writer;
    w.begin(nowMs);
    const nodePools = new Map<string, string>();
    for (const n of ctx.store.list(ctx.rt.nodes))
      nodePools.set(n.metadata.name ?? "", n.metadata.labels?.["karpenter.sh/nodepool"] ?? "");
    const pods = ctx.store.list(ctx.rt.pods).map((pod) => [pod, this.record(pod, nodePools)] as const);
    for (const [uid, r] of this.pods) if (r.scrape !== this.scrapes) this.pods.delete(uid);
    for (const [pod, r] of pods) this.pods.set(pod.metadata.uid ?? "", r);
    // Ready pods per workload: utilisation and capacity depend on them.
    const ready = new Map<string, number>();
    for (const [, r] of pods)
      if (r.workload) ready.set(r.workload, (ready.get(r.workload) ?? 0) + (r.ready ? 1 : 0));
    // Extra 500s from ready pods running an image with a bug (bad-rollout), summed per workload.
    const imageErrors = new Map<string, number>();
    if (ctx.badImages.size > 0)
      for (const [, r] of pods) {
        if (!r.workload || !r.ready) continue;
        let extra = 0;
        for (const image of r.images) extra = Math.max(extra, ctx.badImages.get(image) ?? 0);
        if (extra > 0) imageErrors.set(r.workload, (imageErrors.get(r.workload) ?? 0) + extra);
      }
    const now = new Date(nowMs);
    const utilisation = new Map<string, number>();
    for (const [workload, n] of ready) utilisation.set(workload, ctx.utilization(workload, now, n));
    for (const [pod, r] of pods) {
      const continued = r.containersAt === this.scrapes - 1;
      const util = r.workload ? utilisation.get(r.workload) : undefined;
      const runtime = ctx.runtimes.get(pod.metadata.uid ?? "");
      if (writeContainers(w, pod, r.containers, runtime, util, dtS, continued)) r.containersAt = this.scrapes;
    }
    this.objects.write(w);
    writeVolumes(
      w,
      ctx,
      pods.map(([pod]) => pod),
    );
    if (this.opts.demand) {
      for (const [workload, n] of ready) {
        const [namespace = "", kind, name = ""] = workload.split("/");
        if (kind === "Job" || !ctx.store.get(ctx.rt.services, namespace, name)) continue;
        const { rps, perPodRps } = this.opts.demand(workload, now);
        this.traffic.write(
          w,
          {
            namespace,
            service: name,
            rps,
            perPodRps,
            ready: n,
            imageErrorRatio: n > 0 ? (imageErrors.get(workload) ?? 0) / n : 0,
            behaviour: ctx.behaviour.get(workload) ?? {},
          },
          dtS,
        );
      }
    }
    w.end();
    this.scrapes++;
    this.wallMs += performance.now() - t0;
  }
}

interface PodRecord {
  rv: string;
  pool: string;
  /** The object-state series and values written for this resourceVersion. */
  entries: [SeriesEntry, number][];
  /** The scrape that last saw the pod. */
  scrape: number;
  workload: string | undefined;
  ready: boolean;
  containers: ContainerCounters[];
  /** The scrape that last wrote the container series. */
  containersAt: number;
  /** The pod's container images (a bad-rollout fault keys its errors on them). */
  images: string[];
}

function containerImages(pod: KubeObject): string[] {
  const containers = rec(pod.spec).containers;
  return Array.isArray(containers) ? containers.map((c) => String(rec(c).image ?? "")) : [];
}

function isReady(pod: KubeObject): boolean {
  const conditions = rec(pod.status).conditions;
  return (
    Array.isArray(conditions) && conditions.some((c) => rec(c).type === "Ready" && rec(c).status === "True")
  );
}
