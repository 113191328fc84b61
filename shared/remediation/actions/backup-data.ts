// backup_data: run the operator's backup Job (see job-from-template.ts), or take a CSI
// VolumeSnapshot of a PersistentVolumeClaim.
import { z } from "zod";
import {
  defineAction,
  remediationAnnotations,
  type ActionContext,
  type ActionTarget,
  type CheckResult,
} from "../action.js";
import { declaredJob, declaredJobNote, prophetName, runDeclaredJob, verifyJob } from "./job-from-template.js";

const params = z.strictObject({
  method: z
    .enum(["job", "snapshot"])
    .default("job")
    .describe(
      "job: run the CronJob the target declares (aiops.prophet.io/backup-data-cronjob); snapshot: a VolumeSnapshot of the target PersistentVolumeClaim",
    ),
  volumeSnapshotClassName: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
    .max(253)
    .optional()
    .describe(
      "snapshot only: the VolumeSnapshotClass; default: the claim's aiops.prophet.io/volume-snapshot-class annotation",
    ),
});

type Params = z.infer<typeof params>;

export const snapshotClassAnnotation = "aiops.prophet.io/volume-snapshot-class";
const snapshotCrd = "volumesnapshots.snapshot.storage.k8s.io";

/** Whether the API serves VolumeSnapshots; undefined when the CRDs cannot be read (RBAC). */
async function servesSnapshots(ctx: ActionContext): Promise<boolean | undefined> {
  try {
    return (await ctx.cluster.get("CustomResourceDefinition", undefined, snapshotCrd)) !== undefined;
  } catch {
    return undefined;
  }
}

async function checkSnapshot(ctx: ActionContext, t: ActionTarget, p: Params): Promise<CheckResult> {
  if (t.kind !== "PersistentVolumeClaim")
    return {
      ok: false,
      failure: "precondition",
      detail: `a snapshot needs a PersistentVolumeClaim target, not ${t.kind} ${t.namespace}/${t.name}`,
    };
  const pvc = await ctx.cluster.get("PersistentVolumeClaim", t.namespace, t.name);
  if (!pvc)
    return {
      ok: false,
      failure: "target_missing",
      detail: `PersistentVolumeClaim ${t.namespace}/${t.name} not found`,
    };
  if ((await servesSnapshots(ctx)) === false)
    return {
      ok: false,
      failure: "unsupported",
      detail: `the cluster does not serve snapshot.storage.k8s.io/v1 VolumeSnapshot (no CRD ${snapshotCrd}; install the CSI external-snapshotter)`,
    };
  const cls = p.volumeSnapshotClassName ?? pvc.metadata.annotations?.[snapshotClassAnnotation];
  if (!cls)
    return {
      ok: false,
      failure: "precondition",
      detail: `no VolumeSnapshotClass: pass volumeSnapshotClassName or annotate PersistentVolumeClaim ${t.namespace}/${t.name} with ${snapshotClassAnnotation}`,
    };
  if (!(await ctx.cluster.get("VolumeSnapshotClass", undefined, cls)))
    return { ok: false, failure: "precondition", detail: `VolumeSnapshotClass ${cls} not found` };
  if ((pvc.status as { phase?: string } | undefined)?.phase !== "Bound")
    return {
      ok: false,
      failure: "precondition",
      detail: `PersistentVolumeClaim ${t.namespace}/${t.name} is not Bound`,
    };
  return { ok: true, detail: `VolumeSnapshot of ${t.namespace}/${t.name} with class ${cls}` };
}

export const backupData = defineAction<Params>({
  name: "backup_data",
  description: `Backs up a workload's data, by default with the operator's backup Job, or with {method: "snapshot"} as a CSI VolumeSnapshot of a PersistentVolumeClaim (class from volumeSnapshotClassName or the claim's ${snapshotClassAnnotation} annotation). ${declaredJobNote} A snapshot is never deleted (that would lose the backup).`,
  whenToUse:
    "Before a risky data action (repair_database, failover_database, a migration) or when a volume or database shows early signs of corruption or failure.",
  whenNotToUse:
    "As a fix in itself (a backup changes nothing for the running system); when the target declares no backup CronJob and no VolumeSnapshotClass exists; during an incident where backup I/O would make things worse.",
  targetKinds: ["PersistentVolumeClaim", "StatefulSet", "Deployment"],
  scope: "data",
  requiresApproval: true,
  readOnly: false,
  params,
  async check(ctx, t, p) {
    if (p.method === "snapshot") return checkSnapshot(ctx, t, p);
    const found = await declaredJob(ctx, t, "backup_data");
    return found.ok
      ? { ok: true, detail: `run CronJob ${t.namespace}/${found.cronJob.metadata.name}'s jobTemplate` }
      : found.check;
  },
  async execute(ctx, t, p) {
    if (p.method === "job") return runDeclaredJob(ctx, t, "backup_data");
    const pvc = await ctx.cluster.get("PersistentVolumeClaim", t.namespace, t.name);
    const cls = p.volumeSnapshotClassName ?? pvc?.metadata.annotations?.[snapshotClassAnnotation];
    const name = prophetName(t.name, ctx.remediationId);
    const existing = await ctx.cluster.get("VolumeSnapshot", t.namespace, name);
    if (!existing)
      await ctx.cluster.create!("VolumeSnapshot", t.namespace, {
        apiVersion: "snapshot.storage.k8s.io/v1",
        kind: "VolumeSnapshot",
        metadata: { name, namespace: t.namespace, annotations: remediationAnnotations(ctx, "backup_data") },
        spec: { volumeSnapshotClassName: cls, source: { persistentVolumeClaimName: t.name } },
      });
    return {
      changes: [
        existing
          ? `VolumeSnapshot ${t.namespace}/${name} already created by this remediation`
          : `created VolumeSnapshot ${t.namespace}/${name} of PersistentVolumeClaim ${t.name} (class ${cls})`,
      ],
      undo: { snapshot: name },
      created: [`VolumeSnapshot/${t.namespace}/${name}`],
    };
  },
  async verify(ctx, t, p, result) {
    if (p.method === "job") return verifyJob(ctx, t.namespace, String(result.undo?.job ?? ""));
    const name = String(result.undo?.snapshot ?? "");
    const snap = await ctx.cluster.get("VolumeSnapshot", t.namespace, name);
    if (!snap) return { ok: false, detail: `VolumeSnapshot ${t.namespace}/${name} not found` };
    const status = (snap.status ?? {}) as { readyToUse?: boolean; error?: { message?: string } };
    if (status.readyToUse === true)
      return { ok: true, detail: `VolumeSnapshot ${t.namespace}/${name} is ready to use` };
    if (status.error)
      return {
        ok: false,
        detail: `VolumeSnapshot ${t.namespace}/${name} failed: ${status.error.message ?? ""}`,
      };
    return { ok: false, detail: `VolumeSnapshot ${t.namespace}/${name} is not ready yet` };
  },
});
