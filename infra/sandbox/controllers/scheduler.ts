// The kube-scheduler model: filter nodes (NodeUnschedulable, TaintToleration, NodeAffinity,
// NodeResourcesFit, VolumeZone), score by free capacity, bind, or record the FitError exactly as
// the real scheduler words it in the PodScheduled condition and the FailedScheduling event.
import type { KubeObject } from "../apiserver/types.js";
import { isTerminal, podRequests, rec, setCondition, arr, type SimContext, type Obj } from "./context.js";
import {
  insufficient,
  matchesNodeAffinity,
  taintsOf,
  tolerates,
  untoleratedTaint,
  type Capacity,
} from "./placement.js";
import { milliCpu, parseQuantity } from "./quantity.js";
import { checkClaims, provisionClaim } from "./volumes.js";

const SOURCE = { component: "default-scheduler" };
const RETRY_EVENT_MS = 60_000;

export interface NodeUsage {
  node: KubeObject;
  labels: Record<string, string>;
  allocatable: Capacity;
  free: Capacity;
}

export function allocatableOf(node: KubeObject): Capacity {
  const a = rec(rec(node.status).allocatable);
  return { cpu: milliCpu(a.cpu), memory: parseQuantity(a.memory), pods: parseQuantity(a.pods ?? 110) };
}

/** Free capacity per node after the requests of every non-terminal pod bound to it. */
export function nodeUsage(ctx: SimContext, pods: KubeObject[]): Map<string, NodeUsage> {
  const out = new Map<string, NodeUsage>();
  for (const node of ctx.store.list(ctx.rt.nodes)) {
    if (node.metadata.deletionTimestamp) continue;
    const allocatable = allocatableOf(node);
    out.set(node.metadata.name ?? "", {
      node,
      labels: node.metadata.labels ?? {},
      allocatable,
      free: { ...allocatable },
    });
  }
  for (const pod of pods) {
    const nodeName = rec(pod.spec).nodeName;
    if (typeof nodeName !== "string" || isTerminal(pod)) continue;
    const u = out.get(nodeName);
    if (!u) continue;
    const r = podRequests(pod);
    u.free.cpu -= r.cpu;
    u.free.memory -= r.memory;
    u.free.pods -= 1;
  }
  return out;
}

/** Why one node cannot take the pod: the failing plugin's reasons and whether preemption could help. */
export function filterNode(
  pod: KubeObject,
  u: NodeUsage,
  zone?: string,
): { reasons: string[]; resolvable: boolean } | undefined {
  const spec = rec(u.node.spec);
  const tolerations = arr(rec(pod.spec).tolerations);
  if (
    spec.unschedulable &&
    !tolerates(tolerations, { key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" })
  )
    return { reasons: ["node(s) were unschedulable"], resolvable: false };
  const taint = untoleratedTaint(pod, taintsOf(u.node));
  if (taint) return { reasons: [taint], resolvable: false };
  if (!matchesNodeAffinity(pod, u.labels, u.node.metadata.name ?? ""))
    return { reasons: ["node(s) didn't match Pod's node affinity/selector"], resolvable: false };
  const short = insufficient(podRequests(pod), u.free);
  if (short.length) return { reasons: short, resolvable: true };
  if (zone && u.labels["topology.kubernetes.io/zone"] !== zone)
    return { reasons: ["node(s) had volume node affinity conflict"], resolvable: false };
  return undefined;
}

const isDaemon = (p: KubeObject) => p.metadata.ownerReferences?.some((o) => o.kind === "DaemonSet") ?? false;

function histogram(counts: Map<string, number>): string {
  return [...counts]
    .map(([reason, n]) => `${n} ${reason}`)
    .sort()
    .join(", ");
}

/** FitError.Error() followed by the DefaultPreemption PostFilter message (no victims are ever found). */
export function fitErrorMessage(
  total: number,
  filterReasons: Map<string, number>,
  resolvableNodes: number,
  preFilterMsg?: string,
): string {
  if (total === 0) return "no nodes available to schedule pods";
  let msg = `0/${total} nodes are available:`;
  msg += preFilterMsg ? ` ${preFilterMsg}.` : ` ${histogram(filterReasons)}.`;
  const post = new Map<string, number>();
  if (total - resolvableNodes > 0)
    post.set("Preemption is not helpful for scheduling", total - resolvableNodes);
  if (resolvableNodes > 0) post.set("No preemption victims found for incoming pod", resolvableNodes);
  return `${msg} preemption: 0/${total} nodes are available: ${histogram(post)}.`;
}

function score(u: NodeUsage): number {
  const cpu = u.allocatable.cpu ? u.free.cpu / u.allocatable.cpu : 0;
  const mem = u.allocatable.memory ? u.free.memory / u.allocatable.memory : 0;
  return Math.min(cpu, mem);
}

export class Scheduler {
  private readonly lastFailure = new Map<string, { message: string; at: number }>();

  constructor(private readonly ctx: SimContext) {}

  /** Pending pods this scheduler owns, oldest first (the active queue's FIFO order). */
  private pending(pods: KubeObject[]): KubeObject[] {
    return pods
      .filter((p) => {
        const spec = rec(p.spec);
        return (
          !spec.nodeName &&
          !p.metadata.deletionTimestamp &&
          !isTerminal(p) &&
          (spec.schedulerName ?? "default-scheduler") === "default-scheduler"
        );
      })
      .sort(
        (a, b) =>
          // Daemon pods typically run at system-node-critical priority, ahead of the queue.
          Number(!isDaemon(a)) - Number(!isDaemon(b)) ||
          String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)) ||
          `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(
            `${b.metadata.namespace}/${b.metadata.name}`,
          ),
      );
  }

  step(): void {
    const ctx = this.ctx;
    const pods = ctx.store.list(ctx.rt.pods);
    const queue = this.pending(pods);
    if (!queue.length) {
      this.lastFailure.clear();
      return;
    }
    const usage = nodeUsage(ctx, pods);
    const nodes = [...usage.values()];
    for (const pod of queue) this.scheduleOne(pod, nodes);
  }

  private scheduleOne(pod: KubeObject, nodes: NodeUsage[]): void {
    const ctx = this.ctx;
    const claims = checkClaims(ctx, pod);
    if (!claims.ok) return this.fail(pod, fitErrorMessage(nodes.length, new Map(), 0, claims.message));
    const reasons = new Map<string, number>();
    let resolvable = 0;
    let best: NodeUsage | undefined;
    for (const u of nodes) {
      const verdict = filterNode(pod, u, claims.zone);
      if (verdict) {
        for (const r of verdict.reasons) reasons.set(r, (reasons.get(r) ?? 0) + 1);
        if (verdict.resolvable) resolvable++;
        continue;
      }
      if (
        !best ||
        score(u) > score(best) ||
        (score(u) === score(best) && (u.node.metadata.name ?? "") < (best.node.metadata.name ?? ""))
      )
        best = u;
    }
    if (!best) return this.fail(pod, fitErrorMessage(nodes.length, reasons, resolvable));
    this.bind(pod, best, claims.waiting);
  }

  private bind(pod: KubeObject, u: NodeUsage, waiting: KubeObject[]): void {
    const ctx = this.ctx;
    const nodeName = u.node.metadata.name ?? "";
    for (const claim of waiting) provisionClaim(ctx, claim, u.labels["topology.kubernetes.io/zone"]);
    const status = rec(pod.status);
    const conditions = setCondition(
      arr(status.conditions),
      { type: "PodScheduled", status: "True", lastProbeTime: null },
      ctx.stamp,
    );
    ctx.store.update(ctx.rt.pods, {
      ...pod,
      spec: { ...rec(pod.spec), nodeName },
      status: { ...status, conditions },
    });
    const r = podRequests(pod);
    u.free.cpu -= r.cpu;
    u.free.memory -= r.memory;
    u.free.pods -= 1;
    this.lastFailure.delete(pod.metadata.uid ?? "");
    ctx.event(
      pod,
      "Normal",
      "Scheduled",
      `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${nodeName}`,
      SOURCE,
    );
  }

  private fail(pod: KubeObject, message: string): void {
    const ctx = this.ctx;
    const uid = pod.metadata.uid ?? "";
    const last = this.lastFailure.get(uid);
    if (last && last.message === message && ctx.nowMs - last.at < RETRY_EVENT_MS) return;
    this.lastFailure.set(uid, { message, at: ctx.nowMs });
    const status = rec(pod.status);
    const conditions: Obj[] = setCondition(
      arr(status.conditions),
      { type: "PodScheduled", status: "False", lastProbeTime: null, reason: "Unschedulable", message },
      ctx.stamp,
    );
    ctx.store.update(
      ctx.rt.pods,
      { ...pod, status: { ...status, phase: "Pending", conditions } },
      { subresource: "status" },
    );
    ctx.event(pod, "Warning", "FailedScheduling", message, SOURCE);
  }
}
