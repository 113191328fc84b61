/*
 * Operator-declared Jobs: cleanup_storage, backup_data, compact_storage, failover_database and
 * repair_database run a procedure the operator wrote, never one Prophet invents.
 *
 * The target (a workload or a PersistentVolumeClaim) carries the annotation
 * `aiops.prophet.io/<action>-cronjob: <CronJob name>` — <action> is the action's name in kebab
 * case, e.g. `aiops.prophet.io/backup-data-cronjob: postgres-backup` — naming a CronJob in the
 * same namespace, usually suspended, whose jobTemplate does the work. The action creates a Job
 * from that template exactly as `kubectl create job --from=cronjob/<name>` does (annotation
 * cronjob.kubernetes.io/instantiate=manual, ownerReference to the CronJob) named
 * `<cronjob>-prophet-<short id of the remediation>`, so running the same remediation twice
 * creates one Job. verify passes when the Job has succeeded. There is no undo: a Job's effects
 * are the operator's procedure's to reverse.
 */
import { createHash } from "node:crypto";
import type { KubeObject } from "../../diagnosis/objects.js";
import {
  remediationAnnotations,
  type ActionContext,
  type ActionDefinition,
  type ActionScope,
  type ActionTarget,
  type CheckResult,
  type ExecutionResult,
  type VerifyResult,
} from "../action.js";

export const cronJobAnnotation = (action: string) => `aiops.prophet.io/${action.replace(/_/g, "-")}-cronjob`;

const MAX_NAME = 63;

/** `<base>-prophet-<6 hex of the remediation id>`, shortened to a valid object name. */
export function prophetName(base: string, remediationId: string): string {
  const suffix = `-prophet-${createHash("sha256").update(remediationId).digest("hex").slice(0, 6)}`;
  return base.slice(0, MAX_NAME - suffix.length).replace(/-+$/, "") + suffix;
}

export type DeclaredJob =
  { ok: true; target: KubeObject; cronJob: KubeObject } | { ok: false; check: CheckResult & { ok: false } };

/** The target and the CronJob its annotation names, or why there is none. */
export async function declaredJob(ctx: ActionContext, t: ActionTarget, action: string): Promise<DeclaredJob> {
  const target = await ctx.cluster.get(t.kind, t.namespace, t.name);
  const ref = `${t.kind} ${t.namespace}/${t.name}`;
  if (!target)
    return { ok: false, check: { ok: false, failure: "target_missing", detail: `${ref} not found` } };
  const key = cronJobAnnotation(action);
  const name = target.metadata.annotations?.[key];
  if (!name)
    return {
      ok: false,
      check: {
        ok: false,
        failure: "unsupported",
        detail: `${ref} declares no ${action} procedure: annotate it with ${key}: <CronJob name> naming a CronJob in ${t.namespace}`,
      },
    };
  const cronJob = await ctx.cluster.get("CronJob", t.namespace, name);
  if (!cronJob)
    return {
      ok: false,
      check: {
        ok: false,
        failure: "unsupported",
        detail: `CronJob ${t.namespace}/${name} named by ${key} on ${ref} not found`,
      },
    };
  const tpl = (cronJob.spec as { jobTemplate?: { spec?: { template?: unknown } } } | undefined)?.jobTemplate;
  if (!tpl?.spec?.template)
    return {
      ok: false,
      check: {
        ok: false,
        failure: "unsupported",
        detail: `CronJob ${t.namespace}/${name} has no jobTemplate`,
      },
    };
  return { ok: true, target, cronJob };
}

/** The Job `kubectl create job --from=cronjob/<name>` would create, plus Prophet's annotations. */
export function jobFromCronJob(ctx: ActionContext, cronJob: KubeObject, action: string): KubeObject {
  const tpl = (cronJob.spec as { jobTemplate: { metadata?: KubeObject["metadata"]; spec: unknown } })
    .jobTemplate;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: prophetName(cronJob.metadata.name, ctx.remediationId),
      namespace: cronJob.metadata.namespace,
      labels: { ...tpl.metadata?.labels },
      annotations: {
        ...tpl.metadata?.annotations,
        "cronjob.kubernetes.io/instantiate": "manual",
        ...remediationAnnotations(ctx, action),
      },
      ownerReferences: [
        {
          apiVersion: "batch/v1",
          kind: "CronJob",
          name: cronJob.metadata.name,
          uid: cronJob.metadata.uid,
          controller: true,
        },
      ],
    },
    spec: structuredClone(tpl.spec),
  };
}

/** Creates the Job (once per remediation) and reports it. */
export async function runDeclaredJob(
  ctx: ActionContext,
  t: ActionTarget,
  action: string,
): Promise<ExecutionResult> {
  const found = await declaredJob(ctx, t, action);
  if (!found.ok) throw new Error(found.check.detail);
  const job = jobFromCronJob(ctx, found.cronJob, action);
  const ref = `Job/${t.namespace}/${job.metadata.name}`;
  const existing = await ctx.cluster.get("Job", t.namespace, job.metadata.name);
  if (!existing) await ctx.cluster.create!("Job", t.namespace, job);
  return {
    changes: [
      existing
        ? `Job ${t.namespace}/${job.metadata.name} already created by this remediation`
        : `created Job ${t.namespace}/${job.metadata.name} from CronJob ${found.cronJob.metadata.name} for ${t.kind} ${t.name}`,
    ],
    undo: { job: job.metadata.name, cronJob: found.cronJob.metadata.name },
    created: [ref],
  };
}

export async function verifyJob(ctx: ActionContext, namespace: string, name: string): Promise<VerifyResult> {
  const job = await ctx.cluster.get("Job", namespace, name);
  if (!job) return { ok: false, detail: `Job ${namespace}/${name} not found` };
  const status = (job.status ?? {}) as {
    active?: number;
    succeeded?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
  const done = (type: string) => status.conditions?.find((c) => c.type === type && c.status === "True");
  if (done("Complete")) return { ok: true, detail: `Job ${namespace}/${name} succeeded` };
  const failed = done("Failed");
  if (failed)
    return {
      ok: false,
      detail: `Job ${namespace}/${name} failed: ${failed.reason ?? ""} ${failed.message ?? ""}`.trim(),
    };
  return { ok: false, detail: `Job ${namespace}/${name} is still running (${status.active ?? 0} active)` };
}

/** The five operator-declared Job actions differ only in their name, words and target kinds. */
export function declaredJobAction(def: {
  name: string;
  description: string;
  whenToUse: string;
  whenNotToUse: string;
  targetKinds: readonly string[];
  scope: ActionScope;
  params: ActionDefinition<Record<string, never>>["params"];
}): ActionDefinition<Record<string, never>> {
  return {
    ...def,
    requiresApproval: true,
    readOnly: false,
    async check(ctx, t) {
      const found = await declaredJob(ctx, t, def.name);
      if (!found.ok) return found.check;
      return { ok: true, detail: `run CronJob ${t.namespace}/${found.cronJob.metadata.name}'s jobTemplate` };
    },
    execute: (ctx, t) => runDeclaredJob(ctx, t, def.name),
    verify: (ctx, t, _p, result) => verifyJob(ctx, t.namespace, String(result.undo?.job ?? "")),
  };
}

/** Sentence every description ends with. */
export const declaredJobNote =
  "Runs the operator's own procedure: the target's annotation aiops.prophet.io/<action>-cronjob names a CronJob in its namespace whose jobTemplate becomes a Job (like kubectl create job --from=cronjob/…); verify waits for the Job to succeed. No undo.";
