// The rule-based planner: the default decider, and the fallback whenever an LLM answer is not
// usable. It maps the root cause's reason (or, without a finding, the alert) to candidate actions
// with parameters, the way an SRE runbook would, then lets history reorder them: an action that
// scored badly for this pattern is demoted below the alternatives.
import type { Finding } from "../diagnosis/finding.js";
import type { ClusterPort } from "../ports/cluster.js";
import type { ActionTarget } from "./action.js";
import { actionNamed } from "./actions/index.js";
import { type ChosenAction, type Decision, type DecisionInput, parseParent } from "./decision.js";
import { scoresByAction } from "./history.js";

interface Candidate {
  name: string;
  target: ActionTarget;
  params: Record<string, unknown>;
  confidence: number;
  rationale: string;
}

const imagePull = new Set([
  "ImageNotFound",
  "ImagePullBackOff",
  "ErrImagePull",
  "InvalidImageName",
  "ImagePullUnauthorized",
]);
const crashing = new Set([
  "CrashLoopBackOff",
  "ContainerFailed",
  "RunContainerError",
  "StartupProbeFailed",
  "LivenessProbeFailed",
  "Error",
]);
const badRollout = new Set(["RolloutStuck", "ProgressDeadlineExceeded", "ReplicaFailure"]);
const missingConfig = new Set([
  "SecretNotFound",
  "ConfigMapNotFound",
  "KeyNotFound",
  "CreateContainerConfigError",
]);
const pending = new Set(["Unschedulable", "InsufficientResources"]);
const placement = new Set(["UntoleratedTaint", "NodeSelectorMismatch"]);
const workloadKinds = new Set(["Deployment", "StatefulSet", "DaemonSet"]);

function ownerOf(f: Finding): ActionTarget {
  return parseParent(f.parent) ?? { kind: f.kind, namespace: f.namespace, name: f.name };
}

/** The container a pod finding names ("container cart …"), for increase_resources. */
function containerOf(f: Finding): string | undefined {
  return /container "?([a-z0-9]([-a-z0-9]*[a-z0-9])?)"?/.exec(f.message)?.[1];
}

/** Whether the Deployment has an earlier revision to roll back to. */
async function hasPreviousRevision(cluster: ClusterPort | undefined, t: ActionTarget): Promise<boolean> {
  if (!cluster || t.kind !== "Deployment") return false;
  const rev = Number(
    (await cluster.get("Deployment", t.namespace, t.name).catch(() => undefined))?.metadata.annotations?.[
      "deployment.kubernetes.io/revision"
    ] ?? 0,
  );
  return rev > 1;
}

type Obj = Record<string, unknown>;
const rec = (v: unknown): Obj => (typeof v === "object" && v !== null ? (v as Obj) : {});

/** What a pod asks of a node: requests, node selector, affinity, tolerations. */
function schedulingShape(template: unknown): string {
  const spec = rec(rec(template).spec);
  const containers = (Array.isArray(spec.containers) ? spec.containers : []).map(
    (c) => rec(rec(c).resources).requests,
  );
  return JSON.stringify([
    containers,
    spec.nodeSelector ?? null,
    spec.affinity ?? null,
    spec.tolerations ?? null,
  ]);
}

/**
 * Whether the Deployment's newest ReplicaSet asks something of a node that the previous one did
 * not: then pods that cannot be scheduled are the rollout's doing, and a rollback is the fix.
 */
async function schedulingChangedByRollout(
  cluster: ClusterPort | undefined,
  t: ActionTarget,
): Promise<boolean> {
  if (!cluster) return false;
  const sets = (await cluster.list("ReplicaSet", t.namespace).catch(() => []))
    .filter((rs) =>
      (rs.metadata.ownerReferences ?? []).some((o) => o.kind === "Deployment" && o.name === t.name),
    )
    .map((rs) => ({
      revision: Number(rs.metadata.annotations?.["deployment.kubernetes.io/revision"] ?? 0),
      shape: schedulingShape(rec(rs.spec).template),
    }))
    .sort((a, b) => b.revision - a.revision);
  return sets.length >= 2 && sets[0]!.shape !== sets[1]!.shape;
}

async function candidatesFor(input: DecisionInput, cluster: ClusterPort | undefined): Promise<Candidate[]> {
  const f = input.rootCause;
  const out: Candidate[] = [];
  // An anomaly raised by an AnomalyAction names the action its author wants: it goes first.
  const preferred = await anomalyCandidate(input, cluster);
  if (preferred) out.push(preferred);
  const notify = (target: ActionTarget, message: string, confidence = 0.9) =>
    out.push({
      name: "notify_only",
      target,
      params: { message: message.slice(0, 500) },
      confidence,
      rationale: "no automatic fix is safe for this cause; a human is told what to fix",
    });
  if (!f) {
    // No finding: alert-level runbooks.
    const t = input.labels;
    if (input.alertname === "KubePersistentVolumeFillingUp" && t.persistentvolumeclaim && t.namespace)
      out.push({
        name: "expand_pvc",
        target: { kind: "PersistentVolumeClaim", namespace: t.namespace, name: t.persistentvolumeclaim },
        params: { factor: 1.5 },
        confidence: 0.9,
        rationale: "the volume is filling up; its claim can grow while the cause is found",
      });
    if (input.alertname === "KubeHpaMaxedOut" && t.horizontalpodautoscaler && t.namespace)
      out.push(
        await hpaCandidate(cluster, { namespace: t.namespace, name: t.horizontalpodautoscaler }, "the alert"),
      );
    const scale = await sloScaleCandidate(cluster, input.labels);
    if (scale) out.push(scale);
    return out;
  }
  const owner = ownerOf(f);
  const workload = workloadKinds.has(owner.kind) ? owner : undefined;
  const previous = workload ? await hasPreviousRevision(cluster, workload) : false;

  if (f.reason === "OOMKilled" && workload) {
    const container = containerOf(f);
    out.push({
      name: "increase_resources",
      target: workload,
      params: { resource: "memory", factor: 1.5, ...(container ? { container } : {}) },
      confidence: 0.9,
      rationale: `${f.message}: the memory limit is too low for the working set; raise it ×1.5 within the limits`,
    });
    out.push({
      name: "rollout_restart",
      target: workload,
      params: {},
      confidence: 0.5,
      rationale: "a restart frees leaked memory for a while",
    });
  } else if ((imagePull.has(f.reason) || crashing.has(f.reason) || badRollout.has(f.reason)) && workload) {
    if (previous)
      out.push({
        name: "rollback_deployment",
        target: workload,
        params: {},
        confidence: imagePull.has(f.reason) || badRollout.has(f.reason) ? 0.9 : 0.85,
        rationale: `${f.message}: the current revision does not run; roll back to the last healthy one`,
      });
    if (crashing.has(f.reason))
      out.push({
        name: "rollout_restart",
        target: workload,
        params: {},
        confidence: 0.4,
        rationale: "a restart helps only if the crash is transient",
      });
    notify(workload, `${owner.kind} ${owner.namespace}/${owner.name}: ${f.message}`, 0.6);
  } else if (
    (pending.has(f.reason) || placement.has(f.reason)) &&
    workload &&
    previous &&
    (await schedulingChangedByRollout(cluster, workload))
  ) {
    out.push({
      name: "rollback_deployment",
      target: workload,
      params: {},
      confidence: 0.85,
      rationale: `${f.message}: the latest revision changed what the pods ask of a node (requests, selectors, tolerations) and they no longer fit; roll back to the revision that ran`,
    });
    notify(workload, f.message, 0.6);
  } else if (missingConfig.has(f.reason) || placement.has(f.reason) || pending.has(f.reason)) {
    notify(workload ?? owner, `${owner.kind} ${owner.namespace}/${owner.name}: ${f.message}`);
  } else if (f.reason === "NodeNotReady" && f.kind === "Node") {
    const node = { kind: "Node", namespace: "", name: f.name };
    out.push({
      name: "drain_node",
      target: node,
      params: {},
      confidence: 0.85,
      rationale: `${f.message}: move its pods to healthy nodes`,
    });
    out.push({
      name: "cordon_node",
      target: node,
      params: {},
      confidence: 0.8,
      rationale: "keep new pods off the node",
    });
  } else if (f.reason === "AtMaxReplicas" && f.kind === "HorizontalPodAutoscaler") {
    out.push(await hpaCandidate(cluster, { namespace: f.namespace, name: f.name }, f.message));
  } else if (f.reason === "RecentRollout" && workload) {
    // A correlation in time, not proof: the rollback is proposed for a human (confidence below
    // every policy's default minimum; the gate also insists for SLO alerts).
    const allowed = sloActionsOf(input.labels);
    if (previous && (!allowed || allowed.has("rollback")))
      out.push({
        name: "rollback_deployment",
        target: workload,
        params: {},
        confidence: 0.75,
        rationale: `${f.message}: the alert followed the rollout and nothing else is wrong; roll back to the previous revision`,
      });
    const scale = await sloScaleCandidate(cluster, input.labels);
    if (scale) out.push({ ...scale, confidence: 0.6 });
    notify(workload, `${owner.kind} ${owner.namespace}/${owner.name}: ${f.message}`, 0.5);
  } else if (f.reason === "ReadinessProbeFailed" && workload) {
    out.push({
      name: "rollout_restart",
      target: workload,
      params: {},
      confidence: 0.6,
      rationale: `${f.message}: a restart may clear a stuck dependency; a human should confirm`,
    });
  } else {
    notify(owner, `${f.kind} ${f.namespace}/${f.name}: ${f.message}`, 0.5);
  }
  return out;
}

async function hpaCandidate(
  cluster: ClusterPort | undefined,
  hpa: { namespace: string; name: string },
  why: string,
): Promise<Candidate> {
  const obj = await cluster?.get("HorizontalPodAutoscaler", hpa.namespace, hpa.name).catch(() => undefined);
  const max = Number((obj?.spec as { maxReplicas?: number } | undefined)?.maxReplicas ?? 0);
  const next = max > 0 ? Math.max(max + 1, Math.ceil(max * 1.5)) : undefined;
  return {
    name: "update_hpa",
    target: { kind: "HorizontalPodAutoscaler", namespace: hpa.namespace, name: hpa.name },
    params: next ? { maxReplicas: next } : {},
    confidence: next ? 0.85 : 0.5,
    rationale: `${why}: raise maxReplicas ${max} → ${next ?? "?"} so the autoscaler can absorb the load`,
  };
}

/** SLO alerts (raised by slo-check) carry the SLOViolation's enforcement in their labels. */
function sloActionsOf(labels: Record<string, string>): Set<string> | undefined {
  const v = labels.prophet_slo_actions;
  return labels.sloth_id && v !== undefined ? new Set(v.split(",").map((a) => a.trim())) : undefined;
}

/** `scale` enforcement: the SLO's HPA gets `step` more replicas at both bounds, up to its cap. */
async function sloScaleCandidate(
  cluster: ClusterPort | undefined,
  labels: Record<string, string>,
): Promise<Candidate | undefined> {
  const hpa = labels.prophet_slo_hpa;
  const namespace = labels.prophet_slo_hpa_namespace ?? labels.namespace;
  if (!sloActionsOf(labels)?.has("scale") || !hpa || !namespace) return undefined;
  const obj = await cluster?.get("HorizontalPodAutoscaler", namespace, hpa).catch(() => undefined);
  if (!obj) return undefined;
  const spec = (obj.spec ?? {}) as { minReplicas?: number; maxReplicas?: number };
  const min = spec.minReplicas ?? 1;
  const max = spec.maxReplicas ?? min;
  const step = Math.max(1, Number(labels.prophet_slo_hpa_step ?? 1) || 1);
  const cap = Number(labels.prophet_slo_hpa_max ?? Infinity) || Infinity;
  // Never lower the ceiling (a cap below the current max only stops further growth).
  const nextMax = Math.max(max, Math.min(cap, max + step));
  const nextMin = Math.min(nextMax, Math.max(min, Math.min(cap, min + step)));
  if (nextMax <= max && nextMin <= min) return undefined;
  return {
    name: "update_hpa",
    target: { kind: "HorizontalPodAutoscaler", namespace, name: hpa },
    params: { minReplicas: nextMin, maxReplicas: nextMax },
    confidence: 0.85,
    rationale: `SLO ${labels.sloth_id} burns its error budget: raise ${namespace}/${hpa} from ${min}–${max} to ${nextMin}–${nextMax} replicas (the SLOViolation's scale action)`,
  };
}

const anomalyWorkloadLabels: ReadonlyArray<[label: string, kind: string]> = [
  ["deployment", "Deployment"],
  ["statefulset", "StatefulSet"],
  ["daemonset", "DaemonSet"],
];

/**
 * Alerts from anomaly-trigger carry the AnomalyAction's remediation (prophet_remediation): the
 * pod the series is about for pod actions (restart_pod, quarantine_pod, create_heap_dump), its
 * workload for the others, with parameters from the labels (memory or CPU for
 * increase_resources, the replicas for scale_*). undefined when the action cannot be built.
 */
async function anomalyCandidate(
  input: DecisionInput,
  cluster: ClusterPort | undefined,
): Promise<Candidate | undefined> {
  const l = input.labels;
  const name = l.prophet_remediation;
  const action = name && l.prophet_anomaly_action ? actionNamed(name) : undefined;
  if (!action || !name || !l.namespace) return undefined;
  const why = `AnomalyAction ${l.prophet_anomaly_action} asks for ${name} when ${l.pod ?? "its series"} is anomalous (${l.prophet_anomaly_detector ?? "detector"})`;
  let target: ActionTarget | undefined;
  if (action.targetKinds.includes("Pod") && l.pod)
    target = { kind: "Pod", namespace: l.namespace, name: l.pod };
  else {
    const fromLabels = anomalyWorkloadLabels.find(([label]) => l[label]);
    const owner = input.rootCause ? ownerOf(input.rootCause) : undefined;
    target = fromLabels
      ? { kind: fromLabels[1], namespace: l.namespace, name: l[fromLabels[0]]! }
      : owner && workloadKinds.has(owner.kind)
        ? owner
        : undefined;
    const kinds = action.targetKinds;
    if (target && !kinds.includes("*") && !kinds.includes(target.kind)) target = undefined;
  }
  if (!target) return undefined;
  let params: Record<string, unknown> = {};
  if (name === "increase_resources")
    params = {
      resource: l.prophet_anomaly_resource ?? "memory",
      factor: 1.5,
      ...(l.container ? { container: l.container } : {}),
    };
  else if (name === "scale_deployment" || name === "scale_statefulset") {
    const obj = await cluster?.get(target.kind, target.namespace, target.name).catch(() => undefined);
    const current = Number((obj?.spec as { replicas?: number } | undefined)?.replicas ?? 0);
    const replicas =
      l.prophet_anomaly_scale_replicas !== undefined
        ? Number(l.prophet_anomaly_scale_replicas)
        : current + Number(l.prophet_anomaly_scale_by ?? 1);
    params = { replicas };
  } else if (name === "quarantine_pod" && l.prophet_quarantine_ttl)
    params = { ttl: l.prophet_quarantine_ttl };
  else if (name === "notify_only") params = { message: `${why}; the alert's annotations say what was seen` };
  if (!action.params.safeParse(params).success) return undefined;
  return { name, target, params, confidence: 0.9, rationale: why };
}

/** The rule planner's decision; never throws (an unreadable cluster means fewer candidates). */
export async function planWithRules(input: DecisionInput, cluster?: ClusterPort): Promise<Decision> {
  const raw = await candidatesFor(input, cluster);
  const scores = scoresByAction(input.history);
  // Keep only registered actions whose parameters parse; demote what scored badly before.
  const valid: (ChosenAction & { confidence: number })[] = [];
  for (const c of raw) {
    const action = actionNamed(c.name);
    if (!action) continue;
    const parsed = action.params.safeParse(c.params);
    if (!parsed.success) continue;
    const s = scores.get(c.name);
    const demoted = s && s.n >= 2 && s.mean < 0.5;
    valid.push({
      name: c.name,
      target: c.target,
      params: parsed.data as Record<string, unknown>,
      rationale: demoted
        ? `${c.rationale} (demoted: scored ${s.mean.toFixed(2)} on ${s.n} similar incidents)`
        : c.rationale,
      confidence: demoted ? c.confidence * s.mean : c.confidence,
    });
  }
  valid.sort((a, b) => b.confidence - a.confidence);
  const [best, ...rest] = valid;
  const f = input.rootCause;
  return {
    decider: "rules",
    rootCause: f
      ? `${f.kind} ${f.namespace ? `${f.namespace}/` : ""}${f.name}: ${f.message}`
      : input.alertname,
    confidence: best ? Math.round(best.confidence * 100) / 100 : 0,
    action: best ? strip(best) : null,
    alternatives: rest.map(strip),
    actionable: best !== undefined && best.name !== "notify_only",
  };
}

function strip(c: ChosenAction & { confidence: number }): ChosenAction {
  return { name: c.name, target: c.target, params: c.params, rationale: c.rationale };
}
