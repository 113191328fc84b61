// Least-privilege RBAC per function, by kind. Written out so a reviewer reads in one place what
// each function may do to a cluster; test/deploy/rbac.test.ts scans the code (access-scan.ts)
// and fails when a call, or an action in the registry, needs a rule that is not here.
import { diagnosedKinds } from "../../shared/diagnosis/cluster-view.js";
import { kinds } from "../../shared/kube/resources.js";
import { actions } from "../../shared/remediation/actions/index.js";

export type Verb = "get" | "list" | "watch" | "create" | "patch" | "delete";

export interface Grant {
  kinds: readonly string[];
  verbs: readonly Verb[];
  /** e.g. "status", "log", "eviction", "ephemeralcontainers" (the rule names `pods/log`). */
  subresource?: string;
}

export interface FunctionAccess {
  grants: readonly Grant[];
  /** Remediation actions this function runs (execute/undo): it needs everything they touch. */
  executes?: readonly string[];
  /** Runs only the read-only parts (check/verify) of every action. */
  verifiesActions?: boolean;
}

const READ: readonly Verb[] = ["get", "list", "watch"];
const uniq = (xs: readonly string[]) => [...new Set(xs)].sort();
const workloads = ["Deployment", "StatefulSet", "DaemonSet"];
const podOwners = ["ReplicaSet", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];
const policyCrds = ["AutonomousAction", "AnomalyAction"];
const quarantinePolicies = ["NetworkPolicy", "CiliumClusterwideNetworkPolicy"];
/** Every kind an action may be pointed at (notify_only's "*" means "no object"). */
export const actionTargetKinds = uniq(actions.flatMap((a) => a.targetKinds).filter((k) => k !== "*"));

/**
 * Calls whose kind is a variable, keyed by "file method(expression)": the kinds it can be, read
 * from the code around it. A new call with a variable kind fails the RBAC test until it is here.
 * In action files `t.kind` is the action's own targetKinds and needs no entry.
 */
export const dynamicKinds: Readonly<Record<string, readonly string[]>> = {
  "shared/kube/snapshot.ts list(kind)": diagnosedKinds,
  // The alert's object and its owners, read directly or through the informers.
  "shared/kube/snapshot.ts get(kind)": uniq([...diagnosedKinds, ...podOwners]),
  // Informers (PROPHET_KUBE_WATCH) read what the snapshot reads; their lists also need `watch`,
  // which READ grants.
  "shared/kube/watch-cache.ts list(kind)": diagnosedKinds,
  "shared/kube/watch-cache.ts get(kind)": uniq([...diagnosedKinds, ...podOwners]),
  "shared/remediation/assess.ts get(kind)": actionTargetKinds,
  "shared/remediation/assess.ts get(t.kind)": actionTargetKinds,
  "shared/remediation/assess.ts get(rem.target.kind)": actionTargetKinds,
  // The LLM's get_object tool: kinds outside these answer 403, which the tool reports to the model.
  "shared/remediation/llm-tools.ts get(kind)": uniq([...diagnosedKinds, ...actionTargetKinds]),
  "shared/remediation/planner.ts get(target.kind)": actionTargetKinds,
  "shared/remediation/policy-source.ts patch(kind)": policyCrds,
  "shared/slo/check.ts list(kind)": ["SLOViolation", "PrometheusServiceLevel"],
  "shared/slo/check.ts patch(f.kind)": ["Namespace", "Application"],
  "shared/slo/check.ts get(ref.kind)": ["Deployment", "StatefulSet"],
  "shared/capacity/scale.ts list(kind)": ["NodePool", "NodeClaim", "Node", "Pod"],
  "shared/capacity/scale.ts get(spec.targetRef.kind)": ["Deployment", "StatefulSet"],
  "shared/capacity/scale.ts get(kind)": ["Deployment", "CapacityBuffer", "PodTemplate"],
  "shared/capacity/scale.ts delete(kind)": ["Deployment", "CapacityBuffer", "PodTemplate"],
  "shared/remediation/actions/create-heap-dump.ts get(owner.kind)": podOwners,
  "shared/remediation/actions/enable-debug-mode.ts list(kind)": workloads,
  "shared/remediation/actions/scale-deployment.ts get(kind)": ["Deployment", "StatefulSet"],
  "shared/remediation/actions/quarantine-pod.ts get(owner.kind)": podOwners,
  "shared/remediation/actions/quarantine-pod.ts get(parent.kind)": podOwners,
  "shared/remediation/actions/quarantine-pod.ts get(policy.kind)": quarantinePolicies,
  "shared/remediation/actions/quarantine-pod.ts create(policy.kind)": quarantinePolicies,
  "shared/remediation/actions/quarantine-pod.ts get(policyRef.kind)": quarantinePolicies,
  "shared/remediation/actions/quarantine-pod.ts get(ref.kind)": quarantinePolicies,
  "shared/remediation/actions/quarantine-pod.ts delete(ref.kind)": quarantinePolicies,
};

/** What remediation's actions write, as the union one ServiceAccount needs. */
const remediationWrites: readonly Grant[] = [
  // scale_*, rollout_restart, restart_*, increase_resources, enable_debug_mode, rotate_secrets,
  // migrate_workload, reset_service_mesh, rollback_deployment: patches of the workload.
  { kinds: workloads, verbs: ["patch"] },
  { kinds: ["HorizontalPodAutoscaler", "PersistentVolumeClaim", "Node"], verbs: ["patch"] },
  // restart_pod deletes; create_heap_dump and quarantine_pod patch labels/annotations.
  { kinds: ["Pod"], verbs: ["patch", "delete"] },
  { kinds: ["Pod"], verbs: ["patch"], subresource: "ephemeralcontainers" },
  // drain_node, migrate_workload: the Eviction API honours PodDisruptionBudgets.
  { kinds: ["Pod"], verbs: ["create"], subresource: "eviction" },
  // Jobs from CronJob templates (cleanup/compact/repair/failover), volume snapshots (backup_data).
  { kinds: ["Job", "VolumeSnapshot"], verbs: ["create"] },
  // update_network_policy and quarantine_pod (Cilium's cluster-wide deny policy when present).
  { kinds: quarantinePolicies, verbs: ["create", "patch", "delete"] },
  { kinds: policyCrds, verbs: ["patch"], subresource: "status" },
];

export const functionAccess: Readonly<Record<string, FunctionAccess>> = {
  // Store-only functions: no token is mounted at all.
  "alert-intake": { grants: [] },
  "audit-verify": { grants: [] },
  "incident-notify": { grants: [] },
  "alert-diagnosis": {
    grants: [
      { kinds: diagnosedKinds, verbs: READ },
      { kinds: ["Pod"], verbs: ["get"], subresource: "log" },
    ],
  },
  "llm-remediation": {
    executes: actions.map((a) => a.name),
    verifiesActions: true,
    grants: [
      {
        kinds: uniq([
          ...diagnosedKinds,
          ...actionTargetKinds,
          ...policyCrds,
          ...quarantinePolicies,
          "ControllerRevision",
          "VolumeSnapshot",
          "VolumeSnapshotClass",
          "CustomResourceDefinition",
        ]),
        verbs: READ,
      },
      { kinds: ["Pod"], verbs: ["get"], subresource: "log" },
      ...remediationWrites,
    ],
  },
  "remediation-assessor": {
    verifiesActions: true,
    grants: [
      {
        // Diagnosed kinds: the assessor shares the pipeline's LLM tools (get_object).
        kinds: uniq([
          ...diagnosedKinds,
          ...actionTargetKinds,
          ...policyCrds,
          ...quarantinePolicies,
          "Event",
          "ReplicaSet",
          "ControllerRevision",
          "Secret",
          "StorageClass",
          "VolumeSnapshot",
          "VolumeSnapshotClass",
          "CustomResourceDefinition",
        ]),
        verbs: READ,
      },
      { kinds: ["Pod"], verbs: ["get"], subresource: "log" },
      { kinds: policyCrds, verbs: ["patch"], subresource: "status" },
    ],
  },
  "anomaly-trigger": {
    grants: [
      { kinds: [...policyCrds, "Pod"], verbs: READ },
      { kinds: policyCrds, verbs: ["patch"], subresource: "status" },
    ],
  },
  "slo-check": {
    grants: [
      {
        kinds: ["SLOViolation", "PrometheusServiceLevel", "Deployment", "StatefulSet", "ReplicaSet"],
        verbs: READ,
      },
      { kinds: ["SLOViolation"], verbs: ["patch"], subresource: "status" },
      // Deploy freeze: an annotation on the namespace or the Argo CD Application.
      { kinds: ["Namespace", "Application"], verbs: ["get", "patch"] },
      { kinds: ["PodChaos"], verbs: ["create"] },
    ],
  },
  "forecast-scaling": {
    grants: [
      {
        kinds: [
          "PredictiveScale",
          "NodePool",
          "NodeClaim",
          "Node",
          "Pod",
          "Deployment",
          "StatefulSet",
          "PodTemplate",
          "CapacityBuffer",
          "PriorityClass",
          "CustomResourceDefinition",
        ],
        verbs: READ,
      },
      { kinds: ["PredictiveScale"], verbs: ["patch"], subresource: "status" },
      { kinds: ["NodePool"], verbs: ["patch"] },
      // Reserve (balloon) pods: a Deployment, or a PodTemplate + CapacityBuffer, and their class.
      { kinds: ["Deployment", "PodTemplate", "CapacityBuffer"], verbs: ["create", "patch", "delete"] },
      { kinds: ["PriorityClass"], verbs: ["create"] },
    ],
  },
  "hubble-quarantine": {
    // Releasing an expired quarantine is quarantine_pod's undo.
    executes: ["quarantine_pod"],
    grants: [
      { kinds: uniq([...diagnosedKinds, ...quarantinePolicies, "CustomResourceDefinition"]), verbs: READ },
      { kinds: ["Pod"], verbs: ["get"], subresource: "log" },
      { kinds: ["Pod"], verbs: ["patch"] },
      { kinds: quarantinePolicies, verbs: ["create", "patch", "delete"] },
    ],
  },
};

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** Grants as RBAC rules: one rule per API group and verb set, resources sorted. */
export function rulesOf(grants: readonly Grant[]): PolicyRule[] {
  const byKey = new Map<string, PolicyRule>();
  for (const g of grants)
    for (const kind of g.kinds) {
      const info = kinds[kind];
      if (!info) throw new Error(`rbac: unknown kind ${kind} (add it to shared/kube/resources.ts)`);
      const group = info.apiVersion.includes("/") ? info.apiVersion.split("/")[0]! : "";
      const verbs = [...g.verbs].sort();
      const key = `${group}|${verbs.join(",")}`;
      const rule = byKey.get(key) ?? { apiGroups: [group], resources: [], verbs };
      const resource = g.subresource ? `${info.plural}/${g.subresource}` : info.plural;
      if (!rule.resources.includes(resource)) rule.resources.push(resource);
      byKey.set(key, rule);
    }
  return [...byKey.values()]
    .map((r) => ({ ...r, resources: r.resources.sort() }))
    .sort((a, b) => `${a.apiGroups[0]}|${a.verbs}`.localeCompare(`${b.apiGroups[0]}|${b.verbs}`));
}

/** True when the rules allow `verb` on the kind (and subresource). */
export function allows(
  rules: readonly PolicyRule[],
  verb: string,
  kind: string,
  subresource?: string,
): boolean {
  const info = kinds[kind];
  if (!info) return false;
  const group = info.apiVersion.includes("/") ? info.apiVersion.split("/")[0]! : "";
  const resource = subresource ? `${info.plural}/${subresource}` : info.plural;
  return rules.some(
    (r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb),
  );
}
