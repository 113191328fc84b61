// What a Karpenter NodePool can hold, read from the cluster: the pod shape the buffer is made of,
// the nodes of the pool and their free room for that shape, the room left under the pool's
// `limits`, and how long a NodeClaim takes from launch to Ready (the node lead time).
import type { KubeObject } from "../diagnosis/objects.js";
import { milliCpu, parseQuantity } from "../kube/quantity.js";

export const POOL_LABEL = "karpenter.sh/nodepool";
/** Label on every object forecast-scaling creates; its value is the PredictiveScale's name. */
export const SCALE_LABEL = "aiops.prophet.io/predictivescale";

type Obj = Record<string, unknown>;
const rec = (v: unknown): Obj => (v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

export interface Resources {
  /** millicores */
  cpu: number;
  /** bytes */
  memory: number;
}

/** The pod the buffer reserves room for: requests and placement copied from the workload. */
export interface PodShape extends Resources {
  nodeSelector: Record<string, string>;
  tolerations: Obj[];
  affinity?: Obj;
}

/** Sum of the containers' requests (init containers run before, so their max counts too). */
export function podSpecRequests(spec: unknown): Resources {
  const sum = { cpu: 0, memory: 0 };
  for (const c of arr(rec(spec).containers)) {
    const r = rec(rec(c.resources).requests);
    sum.cpu += milliCpu(r.cpu ?? 0);
    sum.memory += parseQuantity(r.memory ?? 0);
  }
  for (const c of arr(rec(spec).initContainers)) {
    const r = rec(rec(c.resources).requests);
    sum.cpu = Math.max(sum.cpu, milliCpu(r.cpu ?? 0));
    sum.memory = Math.max(sum.memory, parseQuantity(r.memory ?? 0));
  }
  return sum;
}

export function podShape(
  template: { cpu?: string | number; memory?: string | number } | undefined,
  target: KubeObject | undefined,
): PodShape {
  const podSpec = rec(rec(rec(target?.spec).template).spec);
  const req = podSpecRequests(podSpec);
  return {
    cpu: template?.cpu !== undefined ? milliCpu(template.cpu) : req.cpu,
    memory: template?.memory !== undefined ? parseQuantity(template.memory) : req.memory,
    nodeSelector: { ...(rec(podSpec.nodeSelector) as Record<string, string>) },
    tolerations: arr(podSpec.tolerations),
    ...(podSpec.affinity ? { affinity: rec(podSpec.affinity) } : {}),
  };
}

export interface PoolView {
  name: string;
  /** A static pool (`spec.replicas`): its node count is the capacity. */
  staticReplicas?: number;
  nodes: number;
  /** Pods of the shape one node of the pool holds (from its nodes' allocatable); 0 when no node exists. */
  podsPerNode: number;
  /** Pods of the shape that fit in the pool's nodes now, counting buffer pods as free room. */
  freeSlots: number;
  /** New nodes the pool's limits still allow (Infinity without limits). */
  newNodesAllowed: number;
  /** Most buffer pods the pool can hold: free room plus the nodes its limits allow. */
  maxBufferPods: number;
}

function fits(free: Resources, shape: Resources): number {
  const byCpu = shape.cpu > 0 ? Math.floor(free.cpu / shape.cpu) : Infinity;
  const byMem = shape.memory > 0 ? Math.floor(free.memory / shape.memory) : Infinity;
  const n = Math.min(byCpu, byMem);
  return Number.isFinite(n) ? Math.max(0, n) : 0;
}

const terminal = (p: KubeObject) => {
  const phase = rec(p.status).phase;
  return phase === "Succeeded" || phase === "Failed";
};

export function poolView(
  pool: KubeObject,
  nodes: readonly KubeObject[],
  pods: readonly KubeObject[],
  shape: Resources,
): PoolView {
  const name = pool.metadata.name;
  const mine = nodes.filter((n) => n.metadata.labels?.[POOL_LABEL] === name && !n.metadata.deletionTimestamp);
  const names = new Set(mine.map((n) => n.metadata.name));
  const used = new Map<string, Resources>();
  for (const p of pods) {
    const node = rec(p.spec).nodeName;
    if (typeof node !== "string" || !names.has(node) || terminal(p)) continue;
    if (p.metadata.labels?.[SCALE_LABEL] !== undefined) continue; // buffer pods are free room
    const r = podSpecRequests(p.spec);
    const u = used.get(node) ?? { cpu: 0, memory: 0 };
    u.cpu += r.cpu;
    u.memory += r.memory;
    used.set(node, u);
  }
  let freeSlots = 0;
  let podsPerNode = 0;
  const total = { cpu: 0, memory: 0 };
  for (const n of mine) {
    const a = rec(rec(n.status).allocatable);
    const alloc = { cpu: milliCpu(a.cpu ?? 0), memory: parseQuantity(a.memory ?? 0) };
    const cap = rec(rec(n.status).capacity);
    total.cpu += milliCpu(cap.cpu ?? a.cpu ?? 0);
    total.memory += parseQuantity(cap.memory ?? a.memory ?? 0);
    const u = used.get(n.metadata.name) ?? { cpu: 0, memory: 0 };
    freeSlots += fits({ cpu: alloc.cpu - u.cpu, memory: alloc.memory - u.memory }, shape);
    podsPerNode = Math.max(podsPerNode, fits(alloc, shape));
  }
  const spec = rec(pool.spec);
  const limits = rec(spec.limits);
  const status = rec(rec(pool.status).resources);
  const provisioned = {
    cpu: status.cpu !== undefined ? milliCpu(status.cpu) : total.cpu,
    memory: status.memory !== undefined ? parseQuantity(status.memory) : total.memory,
  };
  // The node size new nodes will have: the largest seen in the pool (Karpenter picks per batch).
  const nodeSize = mine.reduce<Resources>(
    (m, n) => {
      const c = rec(rec(n.status).capacity);
      return {
        cpu: Math.max(m.cpu, milliCpu(c.cpu ?? 0)),
        memory: Math.max(m.memory, parseQuantity(c.memory ?? 0)),
      };
    },
    { cpu: 0, memory: 0 },
  );
  let newNodesAllowed = Infinity;
  if (limits.cpu !== undefined && nodeSize.cpu > 0)
    newNodesAllowed = Math.min(
      newNodesAllowed,
      Math.floor((milliCpu(limits.cpu) - provisioned.cpu) / nodeSize.cpu),
    );
  if (limits.memory !== undefined && nodeSize.memory > 0)
    newNodesAllowed = Math.min(
      newNodesAllowed,
      Math.floor((parseQuantity(limits.memory) - provisioned.memory) / nodeSize.memory),
    );
  newNodesAllowed = Math.max(0, newNodesAllowed);
  const staticReplicas = typeof spec.replicas === "number" ? spec.replicas : undefined;
  const maxBufferPods =
    staticReplicas !== undefined || podsPerNode === 0 || !Number.isFinite(newNodesAllowed)
      ? Infinity
      : freeSlots + newNodesAllowed * podsPerNode;
  return {
    name,
    ...(staticReplicas !== undefined ? { staticReplicas } : {}),
    nodes: mine.length,
    podsPerNode,
    freeSlots,
    newNodesAllowed,
    maxBufferPods,
  };
}

/** Launch-to-Ready seconds of the pool's NodeClaims that became Ready. */
export function launchToReady(
  claims: readonly KubeObject[],
  pool: string,
): { claim: string; seconds: number }[] {
  const out: { claim: string; seconds: number }[] = [];
  for (const c of claims) {
    if (c.metadata.labels?.[POOL_LABEL] !== pool || !c.metadata.creationTimestamp) continue;
    const ready = arr(rec(c.status).conditions).find((x) => x.type === "Ready" && x.status === "True");
    if (!ready || typeof ready.lastTransitionTime !== "string") continue;
    const s = (Date.parse(ready.lastTransitionTime) - Date.parse(c.metadata.creationTimestamp)) / 1000;
    if (Number.isFinite(s) && s >= 0) out.push({ claim: c.metadata.name, seconds: s });
  }
  return out;
}
