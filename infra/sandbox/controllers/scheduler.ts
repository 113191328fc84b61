// The kube-scheduler model: a priority-ordered queue; filter nodes (NodeUnschedulable,
// TaintToleration, NodeAffinity, NodeResourcesFit, VolumeZone), score by free capacity, bind, or
// record the FitError exactly as the real scheduler words it in the PodScheduled condition and the
// FailedScheduling event. DefaultPreemption: a pod that fits nowhere deletes pods of strictly lower
// priority on the node where that costs least, is nominated there, and binds on a later step.
import type { KubeObject } from "../apiserver/types.js";
import {
  isTerminal,
  podPriority,
  podRequests,
  rec,
  setCondition,
  arr,
  type SimContext,
  type Obj,
  type PodRequests,
} from "./context.js";
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
  /** Pending pods nominated here by a preemption: their requests are held for them. */
  nominated: Nomination[];
}

interface Nomination {
  uid: string;
  priority: number;
  req: PodRequests;
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
      nominated: [],
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

/** FitError.Error() without a PostFilter message: what a pod that preempted others is told. */
export function fitErrorHead(
  total: number,
  filterReasons: Map<string, number>,
  preFilterMsg?: string,
): string {
  if (total === 0) return "no nodes available to schedule pods";
  const msg = `0/${total} nodes are available:`;
  return msg + (preFilterMsg ? ` ${preFilterMsg}.` : ` ${histogram(filterReasons)}.`);
}

/** FitError.Error() followed by the DefaultPreemption PostFilter message when no victims were found. */
export function fitErrorMessage(
  total: number,
  filterReasons: Map<string, number>,
  resolvableNodes: number,
  preFilterMsg?: string,
): string {
  if (total === 0) return "no nodes available to schedule pods";
  const msg = fitErrorHead(total, filterReasons, preFilterMsg);
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

/** The node as `pod` sees it: minus what is held for nominated pods of at least its priority. */
function viewFor(pod: KubeObject, u: NodeUsage): NodeUsage {
  if (!u.nominated.length) return u;
  const uid = pod.metadata.uid;
  const priority = podPriority(pod);
  const free = { ...u.free };
  for (const n of u.nominated) {
    if (n.uid === uid || n.priority < priority) continue;
    free.cpu -= n.req.cpu;
    free.memory -= n.req.memory;
    free.pods -= 1;
  }
  return { ...u, free };
}

function take(free: Capacity, r: PodRequests, sign: 1 | -1): Capacity {
  return { cpu: free.cpu + sign * r.cpu, memory: free.memory + sign * r.memory, pods: free.pods + sign };
}

/** Prefers the candidate whose victims matter least (pickOneNodeForPreemption without PDBs). */
interface Candidate {
  u: NodeUsage;
  victims: KubeObject[];
  highest: number;
  /** Sum of victim priorities, each offset by 2^31 so negative priorities still add up. */
  sum: number;
}

function better(a: Candidate, b: Candidate | undefined): boolean {
  if (!b) return true;
  if (a.highest !== b.highest) return a.highest < b.highest;
  if (a.sum !== b.sum) return a.sum < b.sum;
  if (a.victims.length !== b.victims.length) return a.victims.length < b.victims.length;
  return (a.u.node.metadata.name ?? "") < (b.u.node.metadata.name ?? "");
}

/** What one scheduling step shares between pods: node usage, and the bound pods per node (lazily). */
interface Round {
  nodes: NodeUsage[];
  usage: Map<string, NodeUsage>;
  pods: KubeObject[];
  byNode?: Map<string, KubeObject[]>;
  lowest?: number;
}

const nominatedNodeOf = (pod: KubeObject): string | undefined => {
  const n = rec(pod.status).nominatedNodeName;
  return typeof n === "string" && n ? n : undefined;
};

export class Scheduler {
  private readonly lastFailure = new Map<string, { message: string; at: number }>();

  constructor(private readonly ctx: SimContext) {}

  /** Pending pods this scheduler owns in the active queue's order: priority, then FIFO. */
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
          podPriority(b) - podPriority(a) ||
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
    for (const pod of queue) {
      const u = usage.get(nominatedNodeOf(pod) ?? "");
      u?.nominated.push({ uid: pod.metadata.uid ?? "", priority: podPriority(pod), req: podRequests(pod) });
    }
    const round: Round = { nodes: [...usage.values()], usage, pods };
    for (const pod of queue) this.scheduleOne(pod, round);
  }

  private scheduleOne(pod: KubeObject, round: Round): void {
    const ctx = this.ctx;
    const nodes = round.nodes;
    const claims = checkClaims(ctx, pod);
    if (!claims.ok) return this.fail(pod, round, fitErrorMessage(nodes.length, new Map(), 0, claims.message));
    const reasons = new Map<string, number>();
    const nominated = nominatedNodeOf(pod);
    let resolvable = 0;
    const preemptable: NodeUsage[] = [];
    let best: NodeUsage | undefined;
    for (const u of nodes) {
      const verdict = filterNode(pod, viewFor(pod, u), claims.zone);
      if (verdict) {
        for (const r of verdict.reasons) reasons.set(r, (reasons.get(r) ?? 0) + 1);
        if (verdict.resolvable) {
          resolvable++;
          if (!claims.zone || u.labels["topology.kubernetes.io/zone"] === claims.zone) preemptable.push(u);
        }
        continue;
      }
      // The node a preemption cleared for this pod comes first, as evaluateNominatedNode does.
      if (best && (best.node.metadata.name ?? "") === nominated) continue;
      if (
        !best ||
        (u.node.metadata.name ?? "") === nominated ||
        score(u) > score(best) ||
        (score(u) === score(best) && (u.node.metadata.name ?? "") < (best.node.metadata.name ?? ""))
      )
        best = u;
    }
    if (best) return this.bind(pod, best, claims.waiting, round);
    if (rec(pod.spec).preemptionPolicy === "Never")
      return this.fail(
        pod,
        round,
        `${fitErrorHead(nodes.length, reasons)} preemption: not eligible due to preemptionPolicy=Never.`,
      );
    const candidate = this.selectCandidate(pod, preemptable, round);
    if (!candidate) return this.fail(pod, round, fitErrorMessage(nodes.length, reasons, resolvable));
    this.preempt(pod, candidate, round);
    this.fail(pod, round, fitErrorHead(nodes.length, reasons), candidate.u.node.metadata.name);
  }

  /** Bound, live pods per node and the lowest priority among them, built once per step on demand. */
  private index(round: Round): Map<string, KubeObject[]> {
    if (round.byNode) return round.byNode;
    const byNode = new Map<string, KubeObject[]>();
    let lowest = Infinity;
    for (const p of round.pods) {
      const nodeName = rec(p.spec).nodeName;
      if (typeof nodeName !== "string" || !nodeName || isTerminal(p) || p.metadata.deletionTimestamp)
        continue;
      let list = byNode.get(nodeName);
      if (!list) byNode.set(nodeName, (list = []));
      list.push(p);
      lowest = Math.min(lowest, podPriority(p));
    }
    round.byNode = byNode;
    round.lowest = lowest;
    return byNode;
  }

  /**
   * SelectVictimsOnNode on every node where only resources are short: remove all pods of lower
   * priority, then reprieve the most important ones while the pod still fits; the node whose
   * victims matter least wins.
   */
  private selectCandidate(pod: KubeObject, nodes: NodeUsage[], round: Round): Candidate | undefined {
    if (!nodes.length) return undefined;
    const byNode = this.index(round);
    const priority = podPriority(pod);
    // Usual case: nothing in the cluster runs below this pod's priority.
    if ((round.lowest ?? Infinity) >= priority) return undefined;
    const req = podRequests(pod);
    let best: Candidate | undefined;
    for (const u of nodes) {
      const lower = (byNode.get(u.node.metadata.name ?? "") ?? []).filter((p) => podPriority(p) < priority);
      if (!lower.length) continue;
      let free = viewFor(pod, u).free;
      for (const p of lower) free = take(free, podRequests(p), 1);
      if (insufficient(req, free).length) continue;
      lower.sort(
        (a, b) =>
          podPriority(b) - podPriority(a) ||
          String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)),
      );
      const victims: KubeObject[] = [];
      for (const p of lower) {
        const kept = take(free, podRequests(p), -1);
        if (insufficient(req, kept).length) victims.push(p);
        else free = kept;
      }
      if (!victims.length) continue;
      const candidate: Candidate = {
        u,
        victims,
        highest: Math.max(...victims.map(podPriority)),
        sum: victims.reduce((s, p) => s + podPriority(p) + 2 ** 31, 0),
      };
      if (better(candidate, best)) best = candidate;
    }
    return best;
  }

  /** Deletes the victims (Preempted event, DisruptionTarget condition) and holds the space for `pod`. */
  private preempt(pod: KubeObject, c: Candidate, round: Round): void {
    const ctx = this.ctx;
    const nodeName = c.u.node.metadata.name ?? "";
    const onNode = round.byNode?.get(nodeName) ?? [];
    for (const victim of c.victims) {
      const st = rec(victim.status);
      const conditions = setCondition(
        arr(st.conditions),
        {
          type: "DisruptionTarget",
          status: "True",
          reason: "PreemptionByScheduler",
          message: "default-scheduler: preempting to accommodate a higher priority pod",
        },
        ctx.stamp,
      );
      ctx.event(
        victim,
        "Normal",
        "Preempted",
        `Preempted by pod ${pod.metadata.uid} on node ${nodeName}`,
        SOURCE,
      );
      try {
        ctx.store.update(
          ctx.rt.pods,
          { ...victim, status: { ...st, conditions } },
          { subresource: "status" },
        );
        ctx.store.delete(ctx.rt.pods, victim.metadata.namespace, victim.metadata.name ?? "");
      } catch {
        // Already gone: its space is free all the same.
      }
      c.u.free = take(c.u.free, podRequests(victim), 1);
      const i = onNode.indexOf(victim);
      if (i >= 0) onNode.splice(i, 1);
    }
    this.release(pod, round);
    c.u.nominated.push({ uid: pod.metadata.uid ?? "", priority: podPriority(pod), req: podRequests(pod) });
  }

  /** Drops what was held for `pod` on its nominated node. */
  private release(pod: KubeObject, round: Round): void {
    const u = round.usage.get(nominatedNodeOf(pod) ?? "");
    if (u) u.nominated = u.nominated.filter((n) => n.uid !== pod.metadata.uid);
  }

  private bind(pod: KubeObject, u: NodeUsage, waiting: KubeObject[], round: Round): void {
    const ctx = this.ctx;
    const nodeName = u.node.metadata.name ?? "";
    for (const claim of waiting) provisionClaim(ctx, claim, u.labels["topology.kubernetes.io/zone"]);
    const { nominatedNodeName: _held, ...status } = rec(pod.status);
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
    this.release(pod, round);
    u.free = take(u.free, podRequests(pod), -1);
    round.byNode?.get(nodeName)?.push(pod);
    this.lastFailure.delete(pod.metadata.uid ?? "");
    ctx.event(
      pod,
      "Normal",
      "Scheduled",
      `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${nodeName}`,
      SOURCE,
    );
  }

  /** Records the failure; `nominatedNode` is set after a preemption and cleared otherwise. */
  private fail(pod: KubeObject, round: Round, message: string, nominatedNode?: string): void {
    const ctx = this.ctx;
    const uid = pod.metadata.uid ?? "";
    const was = nominatedNodeOf(pod);
    if (!nominatedNode && was) this.release(pod, round);
    const last = this.lastFailure.get(uid);
    if (was === nominatedNode && last && last.message === message && ctx.nowMs - last.at < RETRY_EVENT_MS)
      return;
    this.lastFailure.set(uid, { message, at: ctx.nowMs });
    const { nominatedNodeName: _was, ...status } = rec(pod.status);
    const conditions: Obj[] = setCondition(
      arr(status.conditions),
      { type: "PodScheduled", status: "False", lastProbeTime: null, reason: "Unschedulable", message },
      ctx.stamp,
    );
    ctx.store.update(
      ctx.rt.pods,
      {
        ...pod,
        status: {
          ...status,
          phase: "Pending",
          conditions,
          ...(nominatedNode ? { nominatedNodeName: nominatedNode } : {}),
        },
      },
      { subresource: "status" },
    );
    ctx.event(pod, "Warning", "FailedScheduling", message, SOURCE);
  }
}
