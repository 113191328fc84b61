// What the workload actions share: reading a Deployment/StatefulSet/DaemonSet and its pod template,
// the pods its selector picks, a container by name, the kubectl-style rollout restart and a
// rollout's progress as `kubectl rollout status` reports it.
import type { Container, KubeObject, LabelSelector, PodTemplate } from "../../diagnosis/objects.js";
import { selectorMatches } from "../../diagnosis/objects.js";
import {
  remediationAnnotations,
  specHash,
  type ActionContext,
  type ActionTarget,
  type CheckResult,
  type ExecutionResult,
  type VerifyResult,
} from "../action.js";

export const workloadKinds = ["Deployment", "StatefulSet", "DaemonSet"] as const;

export const RESTARTED_AT = "kubectl.kubernetes.io/restartedAt";

export type Obj = Record<string, unknown>;
export const rec = (v: unknown): Obj =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : {};

export function describeTarget(t: ActionTarget): string {
  return t.namespace ? `${t.kind} ${t.namespace}/${t.name}` : `${t.kind} ${t.name}`;
}

export function targetMissing(t: ActionTarget): CheckResult {
  return { ok: false, failure: "target_missing", detail: `${describeTarget(t)} not found` };
}

/** Actions refuse a read-only port (a snapshot, an RBAC role without write verbs). */
export function cannotWrite(ctx: ActionContext, ...verbs: ("patch" | "create" | "delete" | "evict")[]) {
  const missing = verbs.filter((v) => !ctx.cluster[v]);
  return missing.length
    ? ({
        ok: false,
        failure: "unsupported",
        detail: `the cluster port cannot ${missing.join("/")} (read-only access)`,
      } satisfies CheckResult)
    : undefined;
}

/** The target when it is one of the kinds the action accepts. */
export async function readTarget(
  ctx: ActionContext,
  t: ActionTarget,
  kinds: readonly string[] = workloadKinds,
): Promise<KubeObject | undefined> {
  if (!kinds.includes(t.kind)) return undefined;
  return ctx.cluster.get(t.kind, t.namespace || undefined, t.name);
}

export function templateOf(
  obj: KubeObject,
): PodTemplate & { metadata?: { annotations?: Record<string, string> } } {
  return rec(rec(obj.spec).template) as PodTemplate;
}

export function containersOf(obj: KubeObject): Container[] {
  return templateOf(obj).spec?.containers ?? [];
}

/** The named container, or the first one when no name is given. */
export function findContainer(obj: KubeObject, name?: string): Container | undefined {
  const containers = containersOf(obj);
  return name === undefined ? containers[0] : containers.find((c) => c.name === name);
}

export function containerMissing(t: ActionTarget, obj: KubeObject, name?: string): CheckResult {
  const names = containersOf(obj).map((c) => c.name);
  return {
    ok: false,
    failure: "precondition",
    detail: `${describeTarget(t)} has no container ${name ?? ""} (containers: ${names.join(", ") || "none"})`,
  };
}

/** Live pods the workload's selector picks (terminating pods excluded). */
export async function podsOf(ctx: ActionContext, obj: KubeObject): Promise<KubeObject[]> {
  const selector = rec(obj.spec).selector as LabelSelector | undefined;
  if (!selector) return [];
  const pods = await ctx.cluster.list("Pod", obj.metadata.namespace);
  return pods.filter((p) => !p.metadata.deletionTimestamp && selectorMatches(selector, p.metadata.labels));
}

export function isPodReady(pod: KubeObject): boolean {
  const conditions = (rec(pod.status).conditions ?? []) as { type?: string; status?: string }[];
  return conditions.some((c) => c.type === "Ready" && c.status === "True");
}

/** Patches a workload's pod template annotation, which makes its controller replace every pod. */
export async function rolloutRestart(
  ctx: ActionContext,
  t: ActionTarget,
  action: string,
): Promise<ExecutionResult> {
  const before = await ctx.cluster.get(t.kind, t.namespace, t.name);
  const restartedAt = ctx.clock.now().toISOString();
  const after = await ctx.cluster.patch!(t.kind, t.namespace, t.name, {
    metadata: { annotations: remediationAnnotations(ctx, action) },
    spec: { template: { metadata: { annotations: { [RESTARTED_AT]: restartedAt } } } },
  });
  return {
    changes: [`${describeTarget(t)} pod template annotated ${RESTARTED_AT}=${restartedAt} (rollout restart)`],
    specHashBefore: specHash(before),
    specHashAfter: specHash(after),
    // Not reversible (pods cannot be un-restarted); verify reads the stamp from here.
    undo: { restartedAt },
  };
}

/** Whether the controller has rolled every pod to the current template, like `kubectl rollout status`. */
export function rolloutStatus(obj: KubeObject): VerifyResult {
  const spec = rec(obj.spec);
  const s = rec(obj.status);
  const n = (v: unknown) => (typeof v === "number" ? v : 0);
  const observed = n(s.observedGeneration) >= n((obj.metadata as { generation?: number }).generation);
  let want: number;
  let updated: number;
  let ready: number;
  if (obj.kind === "DaemonSet") {
    want = n(s.desiredNumberScheduled);
    updated = n(s.updatedNumberScheduled);
    ready = n(s.numberAvailable);
  } else {
    want = typeof spec.replicas === "number" ? spec.replicas : 1;
    updated = n(s.updatedReplicas);
    ready = obj.kind === "Deployment" ? n(s.availableReplicas) : n(s.readyReplicas);
  }
  const total = obj.kind === "Deployment" ? n(s.replicas) : want;
  const ok = observed && updated >= want && ready >= want && total <= want;
  return {
    ok,
    detail: ok
      ? `rollout complete: ${updated}/${want} pods updated and ready`
      : `rollout in progress: ${updated}/${want} updated, ${ready}/${want} ready${observed ? "" : ", spec not yet observed"}`,
  };
}

/** Verify for a rollout restart: the template carries the annotation and the rollout finished. */
export async function verifyRestart(
  ctx: ActionContext,
  t: ActionTarget,
  result: ExecutionResult,
): Promise<VerifyResult> {
  const obj = await ctx.cluster.get(t.kind, t.namespace, t.name);
  if (!obj) return { ok: false, detail: `${describeTarget(t)} is gone` };
  const stamp = templateOf(obj).metadata?.annotations?.[RESTARTED_AT];
  if (stamp !== result.undo?.restartedAt)
    return { ok: false, detail: `the pod template's ${RESTARTED_AT} is ${stamp ?? "unset"}, not ours` };
  return rolloutStatus(obj);
}
