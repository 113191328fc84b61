// scale_statefulset: set a StatefulSet's replicas; ordinals are added and removed from the top.
import type { z } from "zod";
import {
  defineAction,
  remediationAnnotations,
  specHash,
  type ActionContext,
  type ActionTarget,
} from "../action.js";
import { checkReplicas, readReplicas as readSet, replicaParams } from "./scale-deployment.js";
import { cannotWrite, targetMissing } from "./workload-helpers.js";

const params = replicaParams;
type Params = z.infer<typeof params>;
const readReplicas = (ctx: ActionContext, t: ActionTarget) => readSet(ctx, t, "StatefulSet");

export const scaleStatefulset = defineAction<Params>({
  name: "scale_statefulset",
  description:
    "Sets a StatefulSet's replica count (new ordinals get new PersistentVolumeClaims; removed ordinals keep theirs).",
  whenToUse:
    "A stateful tier (database replicas, brokers, caches) that needs more or fewer members and whose software handles membership changes.",
  whenNotToUse:
    "Crash loops or OOM kills; clustered software that needs a manual join/leave (quorum systems); StatefulSets managed by an HPA (use update_hpa).",
  targetKinds: ["StatefulSet"],
  scope: "workload",
  requiresApproval: true,
  readOnly: false,
  params,
  async check(ctx, t, p) {
    const cur = await readReplicas(ctx, t);
    if (!cur) return targetMissing(t);
    return cannotWrite(ctx, "patch") ?? checkReplicas(ctx, "StatefulSet", cur.replicas, p);
  },
  async execute(ctx, t, p) {
    const cur = await readReplicas(ctx, t);
    const after = await ctx.cluster.patch!("StatefulSet", t.namespace, t.name, {
      metadata: { annotations: remediationAnnotations(ctx, "scale_statefulset") },
      spec: { replicas: p.replicas },
    });
    return {
      changes: [`StatefulSet ${t.namespace}/${t.name} replicas ${cur?.replicas ?? "?"} → ${p.replicas}`],
      specHashBefore: specHash(cur?.obj),
      specHashAfter: specHash(after),
      undo: { replicas: cur?.replicas ?? 1 },
    };
  },
  async verify(ctx, t, p) {
    const cur = await readReplicas(ctx, t);
    if (!cur) return { ok: false, detail: "the StatefulSet is gone" };
    if (cur.replicas !== p.replicas)
      return { ok: false, detail: `spec.replicas is ${cur.replicas}, expected ${p.replicas}` };
    return cur.ready === p.replicas
      ? { ok: true, detail: `${p.replicas} replicas, all ready` }
      : { ok: false, detail: `${cur.ready} of ${p.replicas} replicas ready (ordinals start one at a time)` };
  },
  async undo(ctx, t, result) {
    const replicas = Number(result.undo?.replicas ?? 1);
    await ctx.cluster.patch!("StatefulSet", t.namespace, t.name, { spec: { replicas } });
    return { changes: [`StatefulSet ${t.namespace}/${t.name} replicas back to ${replicas}`] };
  },
});
