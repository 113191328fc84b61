// migrate_workload: evict a workload's pods from one node through the Eviction API, so the
// scheduler places their replacements (PodDisruptionBudgets are respected; a refusal stops it).
import { z } from "zod";
import type { KubeObject } from "../../diagnosis/objects.js";
import {
  defineAction,
  remediationAnnotations,
  type ActionContext,
  type ActionTarget,
  type CheckResult,
} from "../action.js";
import {
  cannotWrite,
  describeTarget,
  isPodReady,
  podsOf,
  readTarget,
  rec,
  targetMissing,
} from "./workload-helpers.js";

const params = z.strictObject({
  fromNode: z.string().min(1).describe("the node to move the workload's pods off"),
});

type Params = z.infer<typeof params>;

const kinds = ["Deployment", "StatefulSet"] as const;

const nodeOf = (pod: KubeObject) => String(rec(pod.spec).nodeName ?? "");

async function podsOnNode(
  ctx: ActionContext,
  t: ActionTarget,
  p: Params,
): Promise<{ obj: KubeObject; pods: KubeObject[] } | CheckResult> {
  const obj = await readTarget(ctx, t, kinds);
  if (!obj) return targetMissing(t);
  if (!(await ctx.cluster.get("Node", undefined, p.fromNode)))
    return { ok: false, failure: "target_missing", detail: `Node ${p.fromNode} not found` };
  const pods = (await podsOf(ctx, obj)).filter((pod) => nodeOf(pod) === p.fromNode);
  if (!pods.length)
    return {
      ok: false,
      failure: "precondition",
      detail: `${describeTarget(t)} has no pods on node ${p.fromNode}`,
    };
  return { obj, pods };
}

export const migrateWorkload = defineAction<Params>({
  name: "migrate_workload",
  description:
    "Evicts one workload's pods from one node (Eviction API, PodDisruptionBudgets respected) so they are rescheduled elsewhere; the node stays schedulable.",
  whenToUse:
    "A workload's pods suffer on one node (noisy neighbour, degraded disk or network, node about to be retired) while other nodes are fine.",
  whenNotToUse:
    "The whole node is bad (cordon_node/drain_node: otherwise pods may land on it again); DaemonSet pods (they belong on every node); single-replica workloads that cannot lose their pod.",
  targetKinds: kinds,
  scope: "workload",
  requiresApproval: false,
  readOnly: false,
  params,
  async check(ctx, t, p) {
    const r = await podsOnNode(ctx, t, p);
    if (!("pods" in r)) return r;
    const replicas = Number(rec(r.obj.spec).replicas ?? 1);
    const ready = (await podsOf(ctx, r.obj)).filter(isPodReady).length;
    const readyHere = r.pods.filter(isPodReady).length;
    const allowed = Math.max(0, replicas - ctx.limits.minHealthyReplicas);
    if (r.pods.length > allowed || ready - readyHere < ctx.limits.minHealthyReplicas)
      return {
        ok: false,
        failure: "blast_radius",
        detail: `${describeTarget(t)} has ${r.pods.length} of ${replicas} pods on ${p.fromNode}; evicting them would leave ${ready - readyHere} ready, below the minimum of ${ctx.limits.minHealthyReplicas}`,
      };
    return (
      cannotWrite(ctx, "evict") ?? { ok: true, detail: `evict ${r.pods.length} pod(s) from ${p.fromNode}` }
    );
  },
  async execute(ctx, t, p) {
    const r = await podsOnNode(ctx, t, p);
    if (!("pods" in r)) throw new Error(r.ok ? "nothing to migrate" : r.detail);
    await ctx.cluster.patch!(t.kind, t.namespace, t.name, {
      metadata: { annotations: remediationAnnotations(ctx, "migrate_workload") },
    });
    const changes: string[] = [];
    const evicted: string[] = [];
    for (const pod of r.pods) {
      const outcome = await ctx.cluster.evict!(t.namespace, pod.metadata.name);
      if (outcome === "blocked") {
        changes.push(
          `eviction of Pod ${t.namespace}/${pod.metadata.name} refused by a PodDisruptionBudget; stopped`,
        );
        break;
      }
      evicted.push(pod.metadata.uid ?? "");
      changes.push(
        `evicted Pod ${t.namespace}/${pod.metadata.name} from ${p.fromNode}${outcome === "gone" ? " (already gone)" : ""}`,
      );
    }
    // Not reversible; verify needs which pods went and how many were asked for.
    return { changes, undo: { evicted, wanted: r.pods.length } };
  },
  async verify(ctx, t, p, result) {
    const obj = await readTarget(ctx, t, kinds);
    if (!obj) return { ok: false, detail: `${describeTarget(t)} is gone` };
    const u = result.undo as { evicted: string[]; wanted: number };
    if (u.evicted.length < u.wanted)
      return {
        ok: false,
        detail: `only ${u.evicted.length} of ${u.wanted} pods were evicted (a PodDisruptionBudget refused)`,
      };
    const pods = await podsOf(ctx, obj);
    if (pods.some((pod) => u.evicted.includes(pod.metadata.uid ?? "")))
      return { ok: false, detail: "an evicted pod still exists" };
    const replicas = Number(rec(obj.spec).replicas ?? 1);
    const ready = pods.filter(isPodReady);
    if (ready.length < replicas) return { ok: false, detail: `${ready.length} of ${replicas} pods ready` };
    const back = ready.filter((pod) => nodeOf(pod) === p.fromNode).length;
    return back
      ? {
          ok: false,
          detail: `${back} replacement pod(s) were scheduled onto ${p.fromNode} again (cordon it to keep them off)`,
        }
      : { ok: true, detail: `${replicas} pods ready, none on ${p.fromNode}` };
  },
});
