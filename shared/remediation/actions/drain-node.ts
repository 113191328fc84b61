// drain_node: cordon a node and evict its pods through the Eviction API (`kubectl drain
// --ignore-daemonsets`), so PodDisruptionBudgets are honoured. An eviction a budget refuses (429)
// is reported as blocked, not retried here: running the action again later evicts what is left.
import { z } from "zod";
import type { KubeObject } from "../../diagnosis/objects.js";
import { defineAction, specHash, type ActionContext } from "../action.js";
import {
  checkNodeBlastRadius,
  isUnschedulable,
  nodeMissing,
  readNode,
  setUnschedulable,
} from "./node-scheduling.js";

const params = z.strictObject({});

type Params = z.infer<typeof params>;

const mirrorAnnotation = "kubernetes.io/config.mirror";

/** Pods a drain must move: not DaemonSet pods, not static (mirror) pods, not already leaving. */
export function podsToEvict(pods: KubeObject[], node: string): KubeObject[] {
  return pods.filter(
    (p) =>
      (p.spec as { nodeName?: string } | undefined)?.nodeName === node &&
      !p.metadata.deletionTimestamp &&
      !p.metadata.annotations?.[mirrorAnnotation] &&
      !p.metadata.ownerReferences?.some((o) => o.kind === "DaemonSet"),
  );
}

const podRef = (p: KubeObject) => `${p.metadata.namespace}/${p.metadata.name}`;

async function remaining(ctx: ActionContext, node: string): Promise<KubeObject[]> {
  const phase = (p: KubeObject) => (p.status as { phase?: string } | undefined)?.phase ?? "";
  return podsToEvict(await ctx.cluster.list("Pod"), node).filter(
    (p) => !["Succeeded", "Failed"].includes(phase(p)),
  );
}

export const drainNode = defineAction<Params>({
  name: "drain_node",
  description:
    "Cordons a Node and evicts every pod on it except DaemonSet and static pods, honouring PodDisruptionBudgets; evictions a budget blocks are reported, and running it again later evicts the rest. Undo uncordons the node (evicted pods are not moved back).",
  whenToUse:
    "A node that is failing or degraded (pressure conditions, hardware or kernel errors, about to be terminated) whose pods should be rescheduled elsewhere now, with enough spare capacity or autoscaling to take them.",
  whenNotToUse:
    "Problems of one workload rather than of the node; a NotReady node whose pods are already being evicted by the control plane; when the cluster has no room for the pods (they would stay Pending); single-replica workloads that cannot tolerate a restart.",
  targetKinds: ["Node"],
  scope: "node",
  requiresApproval: true,
  readOnly: false,
  params,
  async check(ctx, t) {
    const node = await readNode(ctx, t);
    if (!node) return nodeMissing(t);
    const radius = await checkNodeBlastRadius(ctx, t);
    if (!radius.ok) return radius;
    const pods = await remaining(ctx, t.name);
    return { ok: true, detail: `drain Node ${t.name}: ${pods.length} pod(s) to evict` };
  },
  async execute(ctx, t) {
    const before = await readNode(ctx, t);
    const wasUnschedulable = before ? isUnschedulable(before) : false;
    const changes: string[] = [];
    const after = await setUnschedulable(ctx, t.name, true, "drain_node");
    changes.push(
      wasUnschedulable
        ? `Node ${t.name} was already cordoned`
        : `Node ${t.name} cordoned (spec.unschedulable=true)`,
    );
    const evicted: string[] = [];
    const blocked: string[] = [];
    for (const pod of podsToEvict(await ctx.cluster.list("Pod"), t.name)) {
      const outcome = await ctx.cluster.evict!(pod.metadata.namespace ?? "", pod.metadata.name);
      if (outcome === "evicted") evicted.push(podRef(pod));
      if (outcome === "blocked") blocked.push(podRef(pod));
    }
    for (const p of evicted) changes.push(`evicted pod ${p}`);
    for (const p of blocked)
      changes.push(`blocked: pod ${p} (a PodDisruptionBudget refused the eviction; retry later)`);
    return {
      changes,
      specHashBefore: specHash(before),
      specHashAfter: specHash(after),
      undo: { wasUnschedulable, evicted, blocked },
    };
  },
  async verify(ctx, t) {
    const node = await readNode(ctx, t);
    if (!node) return { ok: true, detail: `Node ${t.name} is gone (nothing left on it)` };
    if (!isUnschedulable(node)) return { ok: false, detail: `Node ${t.name} is schedulable again` };
    const left = await remaining(ctx, t.name);
    return left.length
      ? { ok: false, detail: `${left.length} pod(s) still on Node ${t.name}: ${left.map(podRef).join(", ")}` }
      : { ok: true, detail: `Node ${t.name} is cordoned and runs only DaemonSet/static pods` };
  },
  async undo(ctx, t, result) {
    if (result.undo?.wasUnschedulable === true)
      return { changes: [`Node ${t.name} was already cordoned; left as is`] };
    await setUnschedulable(ctx, t.name, false, "drain_node");
    return { changes: [`Node ${t.name} uncordoned (evicted pods are not moved back)`] };
  },
});
