// Capacity accounting for provisioning benchmarks, integrated over simulated time: pod-seconds
// Pending for lack of capacity, Ready node-seconds per NodePool, requested vs allocatable CPU.
// Kept incrementally from the store's change feed, so a step costs a few additions, not a scan.
import type { StoreEvent } from "./apiserver/store.js";
import type { KubeObject } from "./apiserver/types.js";
import {
  arr,
  isTerminal,
  nodeReady,
  podPriority,
  podRequests,
  rec,
  type SimContext,
} from "./controllers/context.js";
import { milliCpu } from "./controllers/quantity.js";

const POOL = "karpenter.sh/nodepool";
/** The pool of nodes without a karpenter.sh/nodepool label. */
export const NO_POOL = "(none)";

export interface PoolCapacityStats {
  /** Ready nodes now. */
  readyNodes: number;
  /** Σ Ready nodes × seconds. */
  nodeSeconds: number;
  /** Σ allocatable CPU of Ready nodes × seconds, in core-seconds. */
  allocatableCpuSeconds: number;
  /** Σ CPU requests of bound, running pods with priority ≥ 0 × seconds, in core-seconds. */
  requestedCpuSeconds: number;
  /** The same for pods with negative priority (placeholders, balloons). */
  placeholderCpuSeconds: number;
}

export interface CapacityStatsSnapshot {
  /** Start of the accounting window (sandbox start or the last reset), RFC 3339. */
  since: string;
  now: string;
  seconds: number;
  /**
   * Σ pods × seconds with priority ≥ 0 whose PodScheduled condition is False/Unschedulable
   * (placeholders with negative priority are not counted).
   */
  pendingPodSeconds: number;
  /** The part of pendingPodSeconds spent by pods nominated to a node after preempting others. */
  preemptingPodSeconds: number;
  pendingPodsNow: number;
  maxPendingPods: number;
  nodeSeconds: number;
  allocatableCpuSeconds: number;
  requestedCpuSeconds: number;
  placeholderCpuSeconds: number;
  pools: Record<string, PoolCapacityStats>;
}

interface PodState {
  pending: boolean;
  preempting: boolean;
  pool?: string;
  milli: number;
  placeholder: boolean;
}

interface NodeState {
  pool: string;
  ready: boolean;
  milli: number;
}

/** Current rates; CPU in millicores so that adding and removing pods stays exact. */
interface PoolRates {
  readyNodes: number;
  allocatable: number;
  requested: number;
  placeholder: number;
}

type PoolTotals = Omit<PoolCapacityStats, "readyNodes">;

const zeroTotals = (): PoolTotals => ({
  nodeSeconds: 0,
  allocatableCpuSeconds: 0,
  requestedCpuSeconds: 0,
  placeholderCpuSeconds: 0,
});

export class CapacityStats {
  private readonly pods = new Map<string, PodState>();
  private readonly nodes = new Map<string, NodeState>();
  private readonly rates = new Map<string, PoolRates>();
  private readonly milliByUid = new Map<string, number>();
  private pendingNow = 0;
  private preemptingNow = 0;
  private sinceMs: number;
  private lastMs: number | undefined;
  private pendingPodSeconds = 0;
  private preemptingPodSeconds = 0;
  private maxPending = 0;
  private totals = new Map<string, PoolTotals>();

  constructor(private readonly ctx: SimContext) {
    this.sinceMs = ctx.nowMs;
    // Nodes first: a pod's pool is its node's.
    for (const n of ctx.store.list(ctx.rt.nodes)) this.setNode(n.metadata.name ?? "", n);
    for (const p of ctx.store.list(ctx.rt.pods)) this.setPod(key(p), p);
    ctx.store.subscribe(ctx.rt.nodes.storageKey, (e) => this.onNode(e));
    ctx.store.subscribe(ctx.rt.pods.storageKey, (e) => this.onPod(e));
  }

  /** Adds the current state over the simulated time since the previous step. */
  step(): void {
    const now = this.ctx.nowMs;
    if (this.lastMs === undefined) this.sinceMs = now;
    const dt = this.lastMs === undefined ? 0 : Math.max(0, now - this.lastMs) / 1000;
    this.lastMs = now;
    this.maxPending = Math.max(this.maxPending, this.pendingNow);
    if (!dt) return;
    this.pendingPodSeconds += this.pendingNow * dt;
    this.preemptingPodSeconds += this.preemptingNow * dt;
    for (const [pool, r] of this.rates) {
      let t = this.totals.get(pool);
      if (!t) this.totals.set(pool, (t = zeroTotals()));
      t.nodeSeconds += r.readyNodes * dt;
      t.allocatableCpuSeconds += (r.allocatable / 1000) * dt;
      t.requestedCpuSeconds += (r.requested / 1000) * dt;
      t.placeholderCpuSeconds += (r.placeholder / 1000) * dt;
    }
  }

  /** Starts a new accounting window now (e.g. after a warm-up). */
  reset(): void {
    this.sinceMs = this.ctx.nowMs;
    this.pendingPodSeconds = 0;
    this.preemptingPodSeconds = 0;
    this.maxPending = this.pendingNow;
    this.totals = new Map();
  }

  snapshot(): CapacityStatsSnapshot {
    const pools: Record<string, PoolCapacityStats> = {};
    const sum = zeroTotals();
    const names = [...new Set([...this.totals.keys(), ...this.rates.keys()])].sort();
    for (const name of names) {
      const t = this.totals.get(name) ?? zeroTotals();
      pools[name] = { readyNodes: this.rates.get(name)?.readyNodes ?? 0, ...t };
      for (const k of Object.keys(sum) as (keyof PoolTotals)[]) sum[k] += t[k];
    }
    const now = this.lastMs ?? this.ctx.nowMs;
    return {
      since: new Date(this.sinceMs).toISOString(),
      now: new Date(now).toISOString(),
      seconds: Math.max(0, now - this.sinceMs) / 1000,
      pendingPodSeconds: this.pendingPodSeconds,
      preemptingPodSeconds: this.preemptingPodSeconds,
      pendingPodsNow: this.pendingNow,
      maxPendingPods: this.maxPending,
      ...sum,
      pools,
    };
  }

  // ---- incremental state ---------------------------------------------------------------------------

  private rate(pool: string): PoolRates {
    let r = this.rates.get(pool);
    if (!r) this.rates.set(pool, (r = { readyNodes: 0, allocatable: 0, requested: 0, placeholder: 0 }));
    return r;
  }

  private onNode(e: StoreEvent): void {
    const name = e.object.metadata.name ?? "";
    this.setNode(name, e.type === "DELETED" ? undefined : e.object);
  }

  private setNode(name: string, node: KubeObject | undefined): void {
    const before = this.nodes.get(name);
    if (before?.ready) {
      const r = this.rate(before.pool);
      r.readyNodes -= 1;
      r.allocatable -= before.milli;
    }
    if (!node) {
      this.nodes.delete(name);
      return;
    }
    const state: NodeState = {
      pool: node.metadata.labels?.[POOL] ?? NO_POOL,
      ready: nodeReady(node) && !node.metadata.deletionTimestamp,
      milli: milliCpu(rec(rec(node.status).allocatable).cpu),
    };
    this.nodes.set(name, state);
    if (state.ready) {
      const r = this.rate(state.pool);
      r.readyNodes += 1;
      r.allocatable += state.milli;
    }
  }

  private onPod(e: StoreEvent): void {
    const deleted = e.type === "DELETED";
    if (deleted) this.milliByUid.delete(e.object.metadata.uid ?? "");
    this.setPod(key(e.object), deleted ? undefined : e.object);
  }

  private setPod(k: string, pod: KubeObject | undefined): void {
    const before = this.pods.get(k);
    if (before) {
      if (before.pending) this.pendingNow -= 1;
      if (before.preempting) this.preemptingNow -= 1;
      if (before.pool !== undefined) {
        const r = this.rate(before.pool);
        if (before.placeholder) r.placeholder -= before.milli;
        else r.requested -= before.milli;
      }
    }
    if (!pod) {
      this.pods.delete(k);
      return;
    }
    const spec = rec(pod.spec);
    const live = !isTerminal(pod) && !pod.metadata.deletionTimestamp;
    const placeholder = podPriority(pod) < 0;
    const nodeName = typeof spec.nodeName === "string" ? spec.nodeName : "";
    let pending = false;
    if (live && !nodeName && !placeholder) {
      const sched = arr(rec(pod.status).conditions).find((c) => c.type === "PodScheduled");
      pending = sched?.status === "False" && sched.reason === "Unschedulable";
    }
    const preempting = pending && Boolean(rec(pod.status).nominatedNodeName);
    const state: PodState = { pending, preempting, milli: 0, placeholder };
    if (live && nodeName) {
      state.pool = this.nodes.get(nodeName)?.pool ?? NO_POOL;
      state.milli = this.milli(pod);
      const r = this.rate(state.pool);
      if (placeholder) r.placeholder += state.milli;
      else r.requested += state.milli;
    }
    if (pending) this.pendingNow += 1;
    if (preempting) this.preemptingNow += 1;
    this.pods.set(k, state);
  }

  private milli(pod: KubeObject): number {
    const uid = pod.metadata.uid ?? "";
    let milli = this.milliByUid.get(uid);
    if (milli === undefined) this.milliByUid.set(uid, (milli = podRequests(pod).cpu));
    return milli;
  }
}

function key(pod: KubeObject): string {
  return `${pod.metadata.namespace}/${pod.metadata.name}`;
}

/** Anything that carries the simulation's stats: a Sandbox (`sb.simulation`) or a Simulation. */
export type CapacityStatsSource = { capacity: CapacityStats } | { simulation: { capacity: CapacityStats } };

/** The capacity accounting of a sandbox or simulation since its start or last reset. */
export function capacityStats(source: CapacityStatsSource): CapacityStatsSnapshot {
  return ("capacity" in source ? source.capacity : source.simulation.capacity).snapshot();
}
