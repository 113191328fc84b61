// The simulation loop: one level-triggered, deterministic step per clock tick that runs every
// controller in a fixed order over the object store.
import type { WorkloadController } from "./apiserver/controllers/workloads.js";
import { CapacityStats } from "./capacity-stats.js";
import type { ObjectStore } from "./apiserver/store.js";
import {
  SimContext,
  defaultSettings,
  type SimSettings,
  type UtilizationModel,
} from "./controllers/context.js";
import { reconcileDaemonSets } from "./controllers/daemonset.js";
import { EndpointsController } from "./controllers/endpoints.js";
import { EphemeralContainers } from "./controllers/ephemeral.js";
import { Autoscaler } from "./controllers/hpa.js";
import { reconcileCronJobs, reconcileJobs } from "./controllers/jobs.js";
import { Karpenter } from "./controllers/karpenter.js";
import { Kubelet } from "./controllers/kubelet.js";
import { NodeLifecycle } from "./controllers/nodes.js";
import { Scheduler } from "./controllers/scheduler.js";
import { reconcileStatefulSets } from "./controllers/statefulset.js";
import { reconcileVolumes } from "./controllers/volumes.js";
import type { Random } from "./random.js";

export interface SimulationOptions {
  store: ObjectStore;
  workloads: WorkloadController;
  random: Random;
  utilization: UtilizationModel;
  settings?: Partial<SimSettings>;
  onError?: (err: unknown) => void;
}

export class Simulation {
  readonly ctx: SimContext;
  readonly scheduler: Scheduler;
  readonly kubelet: Kubelet;
  readonly karpenter: Karpenter;
  readonly nodes: NodeLifecycle;
  readonly autoscaler: Autoscaler;
  readonly endpoints: EndpointsController;
  readonly ephemeral: EphemeralContainers;
  /** Pending pod-seconds, node-seconds and CPU-seconds per NodePool, integrated every step. */
  readonly capacity: CapacityStats;
  private lastMs: number | undefined;
  private lastExpiry = 0;
  private lastResync = 0;
  steps = 0;
  /** Wall milliseconds spent per phase since start (for benchmarks). */
  readonly phaseMs = new Map<string, number>();

  constructor(private readonly opts: SimulationOptions) {
    this.ctx = new SimContext(
      opts.store,
      opts.random,
      { ...defaultSettings, ...opts.settings },
      opts.utilization,
    );
    this.scheduler = new Scheduler(this.ctx);
    this.kubelet = new Kubelet(this.ctx);
    this.karpenter = new Karpenter(this.ctx);
    this.nodes = new NodeLifecycle(this.ctx);
    this.autoscaler = new Autoscaler(this.ctx);
    this.endpoints = new EndpointsController(this.ctx);
    this.ephemeral = new EphemeralContainers(this.ctx);
    this.capacity = new CapacityStats(this.ctx);
  }

  /** Runs every controller once at `now`. Safe to call twice with the same time. */
  step(now: Date): void {
    const ms = now.getTime();
    this.ctx.dtMs = this.lastMs === undefined ? 1000 : Math.max(0, ms - this.lastMs);
    this.lastMs = ms;
    this.ctx.nowMs = ms;
    this.steps++;
    if (ms - this.lastResync >= 30_000) {
      // Deployments are also re-read periodically: a progress deadline passes without any event.
      this.lastResync = ms;
      this.opts.workloads.resync();
    }
    const phases: [string, () => void][] = [
      ["workloads", () => this.opts.workloads.flush()],
      ["statefulsets", () => reconcileStatefulSets(this.ctx)],
      ["cronjobs", () => reconcileCronJobs(this.ctx)],
      ["jobs", () => reconcileJobs(this.ctx)],
      ["daemonsets", () => reconcileDaemonSets(this.ctx)],
      ["volumes", () => reconcileVolumes(this.ctx)],
      ["nodes", () => this.nodes.step()],
      ["scheduler", () => this.scheduler.step()],
      ["karpenter", () => this.karpenter.step()],
      ["daemonsets", () => reconcileDaemonSets(this.ctx)],
      ["kubelet", () => this.kubelet.step()],
      ["ephemeral", () => this.ephemeral.step()],
      ["hpa", () => this.autoscaler.step()],
      ["workloads", () => this.opts.workloads.flush()],
      ["endpoints", () => this.endpoints.step()],
    ];
    for (const [name, run] of phases) {
      const t0 = performance.now();
      try {
        run();
      } catch (err) {
        (this.opts.onError ?? ((e) => process.emitWarning(`sandbox ${name}: ${String(e)}`)))(err);
      }
      this.phaseMs.set(name, (this.phaseMs.get(name) ?? 0) + performance.now() - t0);
    }
    this.capacity.step();
    if (ms - this.lastExpiry >= 60_000) {
      this.lastExpiry = ms;
      this.ctx.expireEvents();
    }
  }
}
