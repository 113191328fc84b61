// The morning-ramp experiment shared by the sandbox test and `npm run bench:capacity`: the
// sandbox's morning-ramp scenario (shop/web, HPA 2–40, traffic 20 → 500 req/s in 30 minutes from
// 07:00 UTC, Karpenter nodes Ready 60 s after launch), simulated day by day. Day 1 always runs
// without forecast-scaling (the history it learns from, and the "off" measurement); on later days
// forecast-scaling may tick every simulated minute with a PredictiveScale for web. Each day's
// ramp window (06:30–09:30) is measured with the sandbox's capacity accounting.
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { forecastScaling } from "../../functions/forecast-scaling/index.js";
import { scheduleTick } from "../../infra/local/cron.js";
import { startSandbox, type Sandbox } from "../../infra/sandbox/index.js";
import type { CapacityStatsSnapshot } from "../../infra/sandbox/capacity-stats.js";
import type { KubeObject } from "../../shared/diagnosis/objects.js";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import type { Deps } from "../../shared/function.js";
import { kubeClusterPort } from "../../shared/kube/cluster-port.js";
import { prometheusMetrics } from "../../shared/metrics/prometheus.js";
import { silentLogger } from "../../shared/ports/log.js";
import type { Store } from "../../shared/ports/store.js";
import { openStore } from "../../shared/store/open.js";

const scenarioPath = new URL("../../infra/sandbox/scenarios/morning-ramp.yaml", import.meta.url).pathname;
const DAY = 86_400;

export const webScale: KubeObject = {
  apiVersion: "aiops.prophet.io/v1alpha1",
  kind: "PredictiveScale",
  metadata: { name: "web", namespace: "shop" },
  spec: {
    forecastQuery: 'sum(kube_deployment_spec_replicas{namespace="shop",deployment="web"})',
    unit: "replicas",
    targetRef: { kind: "Deployment", name: "web" },
    nodePoolRef: { name: "general" },
    history: "2d",
    step: "1m",
    horizon: "30m",
    action: "provision",
  },
};

export interface RampWindow {
  day: number;
  forecast: boolean;
  /** Pod-seconds web pods waited for a node (PodScheduled False/Unschedulable). */
  pendingPodSeconds: number;
  /** The part of it spent by pods that had already preempted a balloon (waiting for it to go). */
  preemptingPodSeconds: number;
  maxPendingPods: number;
  /** Ramp minutes (desired replicas rose) at whose end a web pod was still waiting for a node. */
  rampMinutes: number;
  rampMinutesWithWaiting: number;
  /** Node-hours of the general pool in the window, and CPU-hours held by balloon pods. */
  nodeHours: number;
  placeholderCpuHours: number;
  requestedCpuHours: number;
  allocatableCpuHours: number;
  /** The same over the whole day. */
  dayNodeHours: number;
  dayPlaceholderCpuHours: number;
  dayPendingPodSeconds: number;
}

export interface RampRun {
  sb: Sandbox;
  deps: Deps;
  events: ProphetEvent[];
  /** Simulates one day from the current time (midnight), forecast-scaling on or off. */
  day(forecast: boolean): Promise<RampWindow>;
  close(): Promise<void>;
}

export async function startRamp(opts: { seed?: number } = {}): Promise<RampRun> {
  const sb = await startSandbox({
    scenario: scenarioPath,
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    flowLog: false,
    metrics: { retentionMs: 3 * DAY * 1000 },
  });
  const store: Store = await openStore({ dataDir: "memory" });
  const kube = kubeClusterPort({ kubeconfig: sb.kubeconfigPath });
  const deps: Deps = {
    store,
    clock: sb.clock,
    log: silentLogger,
    cluster: "sandbox",
    kube,
    metrics: prometheusMetrics({ url: sb.prometheusUrl }),
  };
  const crd = parse(
    readFileSync(new URL("../../manifests/crds/predictivescale.yaml", import.meta.url), "utf8"),
  );
  await kube.create!("CustomResourceDefinition", undefined, crd as KubeObject);
  const events: ProphetEvent[] = [];
  let dayNo = 0;
  let scaleCreated = false;

  const desiredReplicas = () => {
    const d = sb.api.store.get(sb.api.store.resource("deployments.apps"), "shop", "web");
    return Number((d?.spec as { replicas?: number } | undefined)?.replicas ?? 0);
  };

  return {
    sb,
    deps,
    events,
    async day(forecast) {
      dayNo++;
      if (forecast && !scaleCreated) {
        await kube.create!("PredictiveScale", "shop", webScale);
        scaleCreated = true;
      }
      if (!forecast && scaleCreated) {
        await kube.delete!("PredictiveScale", "shop", "web");
        scaleCreated = false;
      }
      // A day from now (00:05 after the scenario's warm-up) to the same time tomorrow; the ramp
      // window is measured by time of day.
      const windowStart = 6.5 * 3600;
      const windowEnd = 9.5 * 3600;
      const dayStart = sb.capacityStats();
      let before: CapacityStatsSnapshot | undefined;
      let after: CapacityStatsSnapshot | undefined;
      let rampMinutes = 0;
      let waiting = 0;
      let lastDesired = desiredReplicas();
      for (let minute = 0; minute < 1440; minute++) {
        const s = Math.round(sb.clock.now().getTime() / 1000) % DAY;
        if (s === windowStart) before = sb.capacityStats();
        if (s === windowEnd) after = sb.capacityStats();
        if (forecast || scaleCreated) {
          const out = await forecastScaling.handle(
            scheduleTick("forecast-scaling", sb.clock.now(), "sandbox"),
            deps,
          );
          events.push(...out.filter((e) => e.type === "io.prophet.capacity.changed"));
        }
        sb.clock.advance(60_000);
        if (s >= windowStart && s < windowEnd) {
          const d = desiredReplicas();
          if (d > lastDesired) {
            rampMinutes++;
            if (sb.capacityStats().pendingPodsNow > 0) waiting++;
          }
          lastDesired = d;
        } else lastDesired = desiredReplicas();
      }
      const b = before!;
      const a = after!;
      const dayEnd = sb.capacityStats();
      const pool = (x: CapacityStatsSnapshot) =>
        x.pools.general ?? {
          nodeSeconds: 0,
          placeholderCpuSeconds: 0,
          requestedCpuSeconds: 0,
          allocatableCpuSeconds: 0,
        };
      return {
        day: dayNo,
        forecast,
        pendingPodSeconds: a.pendingPodSeconds - b.pendingPodSeconds,
        preemptingPodSeconds: a.preemptingPodSeconds - b.preemptingPodSeconds,
        maxPendingPods: a.maxPendingPods,
        rampMinutes,
        rampMinutesWithWaiting: waiting,
        nodeHours: (pool(a).nodeSeconds - pool(b).nodeSeconds) / 3600,
        placeholderCpuHours: (pool(a).placeholderCpuSeconds - pool(b).placeholderCpuSeconds) / 3600,
        requestedCpuHours: (pool(a).requestedCpuSeconds - pool(b).requestedCpuSeconds) / 3600,
        allocatableCpuHours: (pool(a).allocatableCpuSeconds - pool(b).allocatableCpuSeconds) / 3600,
        dayNodeHours: (pool(dayEnd).nodeSeconds - pool(dayStart).nodeSeconds) / 3600,
        dayPlaceholderCpuHours:
          (pool(dayEnd).placeholderCpuSeconds - pool(dayStart).placeholderCpuSeconds) / 3600,
        dayPendingPodSeconds: dayEnd.pendingPodSeconds - dayStart.pendingPodSeconds,
      };
    },
    async close() {
      await sb.close();
      await store.close();
    },
  };
}
