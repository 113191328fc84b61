// update_hpa: change a HorizontalPodAutoscaler's replica bounds.
import { z } from "zod";
import {
  defineAction,
  remediationAnnotations,
  specHash,
  type ActionContext,
  type ActionTarget,
} from "../action.js";
import { cannotWrite, targetMissing } from "./workload-helpers.js";

const params = z
  .strictObject({
    minReplicas: z.number().int().min(1).optional().describe("new spec.minReplicas (unchanged when omitted)"),
    maxReplicas: z.number().int().min(1).optional().describe("new spec.maxReplicas (unchanged when omitted)"),
  })
  .refine((p) => p.minReplicas !== undefined || p.maxReplicas !== undefined, {
    message: "give minReplicas, maxReplicas or both",
  });

type Params = z.infer<typeof params>;

interface Bounds {
  minReplicas: number;
  maxReplicas: number;
}

async function readHpa(ctx: ActionContext, t: ActionTarget) {
  const obj = await ctx.cluster.get("HorizontalPodAutoscaler", t.namespace, t.name);
  if (!obj) return undefined;
  const spec = (obj.spec ?? {}) as { minReplicas?: number; maxReplicas?: number };
  const status = (obj.status ?? {}) as { currentReplicas?: number; desiredReplicas?: number };
  const bounds: Bounds = { minReplicas: spec.minReplicas ?? 1, maxReplicas: spec.maxReplicas ?? 1 };
  return { obj, bounds, current: status.currentReplicas };
}

const wanted = (cur: Bounds, p: Params): Bounds => ({
  minReplicas: p.minReplicas ?? cur.minReplicas,
  maxReplicas: p.maxReplicas ?? cur.maxReplicas,
});

const show = (b: Bounds) => `min ${b.minReplicas}, max ${b.maxReplicas}`;

export const updateHpa = defineAction<Params>({
  name: "update_hpa",
  description: "Changes a HorizontalPodAutoscaler's minReplicas and/or maxReplicas.",
  whenToUse:
    "An HPA pinned at maxReplicas while load keeps rising (raise max), or a minimum too low for the baseline traffic (raise min).",
  whenNotToUse:
    "Saturation that more pods do not fix (a slow dependency, crash loops, OOM kills); workloads without an HPA (scale_deployment).",
  targetKinds: ["HorizontalPodAutoscaler"],
  scope: "workload",
  requiresApproval: false,
  readOnly: false,
  params,
  async check(ctx, t, p) {
    const cur = await readHpa(ctx, t);
    if (!cur) return targetMissing(t);
    const next = wanted(cur.bounds, p);
    const name = `HorizontalPodAutoscaler ${t.namespace}/${t.name}`;
    if (next.minReplicas === cur.bounds.minReplicas && next.maxReplicas === cur.bounds.maxReplicas)
      return { ok: false, failure: "precondition", detail: `${name} already has ${show(cur.bounds)}` };
    if (next.minReplicas > next.maxReplicas)
      return {
        ok: false,
        failure: "precondition",
        detail: `${name}: minReplicas ${next.minReplicas} would exceed maxReplicas ${next.maxReplicas}`,
      };
    if (next.maxReplicas > ctx.limits.maxReplicas)
      return {
        ok: false,
        failure: "blast_radius",
        detail: `${name}: maxReplicas ${next.maxReplicas} is above the limit of ${ctx.limits.maxReplicas}`,
      };
    if (next.minReplicas < ctx.limits.minHealthyReplicas && next.minReplicas < cur.bounds.minReplicas)
      return {
        ok: false,
        failure: "blast_radius",
        detail: `${name}: minReplicas ${next.minReplicas} is below the minimum of ${ctx.limits.minHealthyReplicas} healthy replicas`,
      };
    return cannotWrite(ctx, "patch") ?? { ok: true, detail: `${show(cur.bounds)} → ${show(next)}` };
  },
  async execute(ctx, t, p) {
    const cur = await readHpa(ctx, t);
    if (!cur) throw new Error(`HorizontalPodAutoscaler ${t.namespace}/${t.name} not found`);
    const next = wanted(cur.bounds, p);
    const after = await ctx.cluster.patch!("HorizontalPodAutoscaler", t.namespace, t.name, {
      metadata: { annotations: remediationAnnotations(ctx, "update_hpa") },
      spec: next,
    });
    return {
      changes: [`HorizontalPodAutoscaler ${t.namespace}/${t.name} ${show(cur.bounds)} → ${show(next)}`],
      specHashBefore: specHash(cur.obj),
      specHashAfter: specHash(after),
      undo: { ...cur.bounds },
    };
  },
  async verify(ctx, t, p) {
    const cur = await readHpa(ctx, t);
    if (!cur) return { ok: false, detail: "the HorizontalPodAutoscaler is gone" };
    const b = cur.bounds;
    if (
      (p.minReplicas ?? b.minReplicas) !== b.minReplicas ||
      (p.maxReplicas ?? b.maxReplicas) !== b.maxReplicas
    )
      return { ok: false, detail: `spec has ${show(b)}, not the requested bounds` };
    const n = cur.current;
    if (n !== undefined && (n < b.minReplicas || n > b.maxReplicas))
      return { ok: false, detail: `${show(b)} set; ${n} replicas running, not yet within the bounds` };
    return { ok: true, detail: `${show(b)}${n !== undefined ? `, ${n} replicas running` : ""}` };
  },
  async undo(ctx, t, result) {
    const prev = {
      minReplicas: Number(result.undo?.minReplicas),
      maxReplicas: Number(result.undo?.maxReplicas),
    };
    await ctx.cluster.patch!("HorizontalPodAutoscaler", t.namespace, t.name, { spec: prev });
    return { changes: [`HorizontalPodAutoscaler ${t.namespace}/${t.name} back to ${show(prev)}`] };
  },
});
