// expand_pvc: raise a PersistentVolumeClaim's storage request; the CSI driver grows the volume
// and the kubelet the filesystem. Volumes cannot shrink, so there is no undo.
import { z } from "zod";
import type { KubeObject } from "../../diagnosis/objects.js";
import { formatBytes, parseQuantity } from "../../kube/quantity.js";
import {
  defineAction,
  remediationAnnotations,
  specHash,
  type ActionContext,
  type ActionTarget,
  type CheckResult,
} from "../action.js";

const params = z
  .strictObject({
    factor: z
      .number()
      .gt(1)
      .max(10)
      .optional()
      .describe("grow the current request by this factor (default 1.5 when no size is given)"),
    size: z
      .string()
      .regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti)$/)
      .optional()
      .describe('the new size as a Kubernetes quantity, e.g. "30Gi"; instead of factor'),
  })
  .refine((p) => !(p.factor !== undefined && p.size !== undefined), {
    message: "give either factor or size, not both",
  });

type Params = z.infer<typeof params>;

const GI = 2 ** 30;

interface Claim {
  obj: KubeObject;
  requested: number;
  capacity: number;
  storageClass?: string;
  phase?: string;
}

async function readClaim(ctx: ActionContext, t: ActionTarget): Promise<Claim | undefined> {
  const obj = await ctx.cluster.get("PersistentVolumeClaim", t.namespace, t.name);
  if (!obj) return undefined;
  const spec = (obj.spec ?? {}) as {
    storageClassName?: string;
    resources?: { requests?: { storage?: string } };
  };
  const status = (obj.status ?? {}) as { phase?: string; capacity?: { storage?: string } };
  return {
    obj,
    requested: parseQuantity(spec.resources?.requests?.storage),
    capacity: parseQuantity(status.capacity?.storage),
    storageClass: spec.storageClassName,
    phase: status.phase,
  };
}

/** The new request in bytes: an explicit size, or the factor rounded up to whole GiB. */
export function targetBytes(requested: number, p: Params): number {
  if (p.size) return parseQuantity(p.size);
  return Math.ceil((requested * (p.factor ?? 1.5)) / GI) * GI;
}

async function checkClaim(ctx: ActionContext, t: ActionTarget, p: Params, c: Claim): Promise<CheckResult> {
  const name = `PersistentVolumeClaim ${t.namespace}/${t.name}`;
  if (c.phase !== "Bound")
    return { ok: false, failure: "precondition", detail: `${name} is not Bound (${c.phase ?? "no phase"})` };
  if (c.capacity < c.requested)
    return {
      ok: false,
      failure: "precondition",
      detail: `${name} is already being resized (capacity ${formatBytes(c.capacity)}, requested ${formatBytes(c.requested)})`,
    };
  if (!c.storageClass)
    return {
      ok: false,
      failure: "precondition",
      detail: `${name} has no StorageClass (statically provisioned)`,
    };
  const sc = await ctx.cluster.get("StorageClass", undefined, c.storageClass);
  if (!sc)
    return {
      ok: false,
      failure: "precondition",
      detail: `StorageClass ${c.storageClass} of ${name} not found`,
    };
  if ((sc as { allowVolumeExpansion?: boolean }).allowVolumeExpansion !== true)
    return {
      ok: false,
      failure: "precondition",
      detail: `StorageClass ${c.storageClass} does not allow volume expansion (allowVolumeExpansion is not true)`,
    };
  const next = targetBytes(c.requested, p);
  if (next <= c.requested)
    return {
      ok: false,
      failure: "precondition",
      detail: `${formatBytes(next)} is not larger than the current ${formatBytes(c.requested)} (volumes cannot shrink)`,
    };
  if (next > c.requested * ctx.limits.maxPvcGrowthFactor)
    return {
      ok: false,
      failure: "blast_radius",
      detail: `${formatBytes(c.requested)} → ${formatBytes(next)} is more than ${ctx.limits.maxPvcGrowthFactor}× in one step`,
    };
  return { ok: true, detail: `${name}: ${formatBytes(c.requested)} → ${formatBytes(next)}` };
}

export const expandPvc = defineAction<Params>({
  name: "expand_pvc",
  description:
    "Raises a PersistentVolumeClaim's storage request (by a factor, default 1.5, or to a size) so the volume and its filesystem grow online. Cannot be undone: volumes never shrink.",
  whenToUse:
    "A volume filling up (KubePersistentVolumeFillingUp, disk-full errors in a database or queue) whose StorageClass allows expansion, when the data is legitimately growing.",
  whenNotToUse:
    "Runaway logs or temporary files (clean up instead: cleanup_storage); classes without allowVolumeExpansion; claims already being resized; growth beyond the per-step limit.",
  targetKinds: ["PersistentVolumeClaim"],
  scope: "storage",
  requiresApproval: true,
  readOnly: false,
  params,
  async check(ctx, t, p) {
    const c = await readClaim(ctx, t);
    if (!c)
      return {
        ok: false,
        failure: "target_missing",
        detail: `PersistentVolumeClaim ${t.namespace}/${t.name} not found`,
      };
    return checkClaim(ctx, t, p, c);
  },
  async execute(ctx, t, p) {
    const c = await readClaim(ctx, t);
    const next = formatBytes(targetBytes(c?.requested ?? 0, p));
    await ctx.cluster.patch!("PersistentVolumeClaim", t.namespace, t.name, {
      metadata: { annotations: remediationAnnotations(ctx, "expand_pvc") },
      spec: { resources: { requests: { storage: next } } },
    });
    const after = await ctx.cluster.get("PersistentVolumeClaim", t.namespace, t.name);
    return {
      changes: [
        `PersistentVolumeClaim ${t.namespace}/${t.name} storage ${formatBytes(c?.requested ?? 0)} → ${next} (no undo: volumes cannot shrink)`,
      ],
      specHashBefore: specHash(c?.obj),
      specHashAfter: specHash(after),
    };
  },
  async verify(ctx, t) {
    const c = await readClaim(ctx, t);
    if (!c) return { ok: false, detail: "the PersistentVolumeClaim is gone" };
    return c.capacity >= c.requested
      ? { ok: true, detail: `capacity is ${formatBytes(c.capacity)}` }
      : {
          ok: false,
          detail: `resize in progress: capacity ${formatBytes(c.capacity)}, requested ${formatBytes(c.requested)}`,
        };
  },
});
