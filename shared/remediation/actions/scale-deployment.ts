// scale_deployment: set a Deployment's replicas (through the scale subresource, as kubectl does).
import { z } from "zod";
import {
  defineAction,
  remediationAnnotations,
  specHash,
  type ActionContext,
  type ActionTarget,
  type CheckResult,
} from "../action.js";

/** The parameters of both scale actions. */
export const replicaParams = z.strictObject({
  replicas: z.number().int().min(0).describe("the new replica count"),
  allowZero: z
    .boolean()
    .default(false)
    .describe("scaling to zero must be asked for explicitly; without it 0 is refused"),
});
const params = replicaParams;

type Params = z.infer<typeof params>;

/** A Deployment's or StatefulSet's spec and ready replicas. */
export async function readReplicas(ctx: ActionContext, t: ActionTarget, kind = "Deployment") {
  const obj = await ctx.cluster.get(kind, t.namespace, t.name);
  if (!obj) return undefined;
  const spec = (obj.spec ?? {}) as { replicas?: number };
  const status = (obj.status ?? {}) as { readyReplicas?: number };
  return { obj, replicas: spec.replicas ?? 1, ready: status.readyReplicas ?? 0 };
}

export function checkReplicas(
  ctx: ActionContext,
  kind: string,
  current: number,
  p: { replicas: number; allowZero: boolean },
): CheckResult {
  if (p.replicas === current)
    return { ok: false, failure: "precondition", detail: `${kind} already has ${current} replicas` };
  if (p.replicas === 0 && !p.allowZero)
    return { ok: false, failure: "blast_radius", detail: "scaling to zero was not asked for (allowZero)" };
  if (p.replicas > 0 && p.replicas < ctx.limits.minHealthyReplicas && p.replicas < current)
    return {
      ok: false,
      failure: "blast_radius",
      detail: `${p.replicas} replicas is below the minimum of ${ctx.limits.minHealthyReplicas} healthy replicas`,
    };
  if (p.replicas > ctx.limits.maxReplicas)
    return {
      ok: false,
      failure: "blast_radius",
      detail: `${p.replicas} replicas is above the limit of ${ctx.limits.maxReplicas}`,
    };
  return { ok: true, detail: `${current} → ${p.replicas} replicas` };
}

export const scaleDeployment = defineAction<Params>({
  name: "scale_deployment",
  description: "Sets a Deployment's replica count.",
  whenToUse:
    "Load beyond what the current replicas serve (latency, CPU saturation) with no HPA, or an HPA pinned at its maximum where raising the HPA is not wanted.",
  whenNotToUse:
    "Crash loops, bad images or OOM kills (more replicas of a broken pod do not help); Deployments managed by an HPA (the HPA overwrites replicas — use update_hpa).",
  targetKinds: ["Deployment"],
  scope: "workload",
  requiresApproval: false,
  readOnly: false,
  params,
  async check(ctx, t, p) {
    const cur = await readReplicas(ctx, t);
    if (!cur)
      return {
        ok: false,
        failure: "target_missing",
        detail: `Deployment ${t.namespace}/${t.name} not found`,
      };
    return checkReplicas(ctx, "Deployment", cur.replicas, p);
  },
  async execute(ctx, t, p) {
    const cur = await readReplicas(ctx, t);
    const before = specHash(cur?.obj);
    await ctx.cluster.patch!("Deployment", t.namespace, t.name, {
      metadata: { annotations: remediationAnnotations(ctx, "scale_deployment") },
      spec: { replicas: p.replicas },
    });
    const after = await ctx.cluster.get("Deployment", t.namespace, t.name);
    return {
      changes: [`Deployment ${t.namespace}/${t.name} replicas ${cur?.replicas ?? "?"} → ${p.replicas}`],
      specHashBefore: before,
      specHashAfter: specHash(after),
      undo: { replicas: cur?.replicas ?? 1 },
    };
  },
  async verify(ctx, t, p) {
    const cur = await readReplicas(ctx, t);
    if (!cur) return { ok: false, detail: "the Deployment is gone" };
    return cur.replicas === p.replicas
      ? { ok: true, detail: `spec.replicas is ${p.replicas} (${cur.ready} ready)` }
      : { ok: false, detail: `spec.replicas is ${cur.replicas}, expected ${p.replicas}` };
  },
  async undo(ctx, t, result) {
    const replicas = Number(result.undo?.replicas ?? 1);
    await ctx.cluster.patch!("Deployment", t.namespace, t.name, { spec: { replicas } });
    return { changes: [`Deployment ${t.namespace}/${t.name} replicas back to ${replicas}`] };
  },
});
