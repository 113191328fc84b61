// Pod eviction as policy/v1 defines it: an eviction that would take a PodDisruptionBudget below its
// desired healthy count is refused with 429, like the real eviction subresource.
import { KubeApiError } from "./errors.js";
import type { ResourceType } from "./resources.js";
import { matcherFromSpec, type LabelSelectorSpec } from "./selectors.js";
import type { DeleteOptions, ObjectStore } from "./store.js";
import { isRecord, type KubeObject } from "./types.js";

export interface DisruptionBudget {
  expectedPods: number;
  currentHealthy: number;
  desiredHealthy: number;
  disruptionsAllowed: number;
}

export function isPodReady(pod: KubeObject): boolean {
  const status = isRecord(pod.status) ? pod.status : {};
  const conditions = Array.isArray(status.conditions) ? status.conditions : [];
  return (
    !pod.metadata.deletionTimestamp &&
    conditions.some((c) => isRecord(c) && c.type === "Ready" && c.status === "True")
  );
}

function phaseOf(pod: KubeObject): string {
  return isRecord(pod.status) && typeof pod.status.phase === "string" ? pod.status.phase : "";
}

/** intstr scaled the way the disruption controller does it: percentages round up. */
function scaled(value: unknown, total: number): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && value.endsWith("%"))
    return Math.ceil((Number(value.slice(0, -1)) * total) / 100);
  if (typeof value === "string" && /^\d+$/.test(value)) return Number(value);
  return undefined;
}

export function budgetOf(pdb: KubeObject, pods: KubeObject[]): DisruptionBudget {
  const spec = isRecord(pdb.spec) ? pdb.spec : {};
  const matches = matcherFromSpec(spec.selector as LabelSelectorSpec | undefined);
  const selected = pods.filter(
    (p) => matches(p.metadata.labels) && !["Succeeded", "Failed"].includes(phaseOf(p)),
  );
  const expectedPods = selected.length;
  const currentHealthy = selected.filter(isPodReady).length;
  const maxUnavailable = scaled(spec.maxUnavailable, expectedPods);
  const minAvailable = scaled(spec.minAvailable, expectedPods);
  const desiredHealthy =
    maxUnavailable !== undefined ? Math.max(0, expectedPods - maxUnavailable) : (minAvailable ?? 0);
  return {
    expectedPods,
    currentHealthy,
    desiredHealthy,
    disruptionsAllowed: Math.max(0, currentHealthy - desiredHealthy),
  };
}

function tooManyRequests(pdbName: string, budget: DisruptionBudget): KubeApiError {
  return new KubeApiError(
    429,
    "TooManyRequests",
    "Cannot evict pod as it would violate the pod's disruption budget.",
    {
      causes: [
        {
          reason: "DisruptionBudget",
          message: `The disruption budget ${pdbName} needs ${budget.desiredHealthy} healthy pods and has ${budget.currentHealthy} currently`,
        },
      ],
    },
  );
}

/** Evicts (deletes) the pod unless a matching budget forbids it; writes the budget's new status. */
export function evictPod(
  store: ObjectStore,
  podRt: ResourceType,
  namespace: string,
  name: string,
  deleteOptions: DeleteOptions,
): void {
  const pod = store.mustGet(podRt, namespace, name);
  const phase = phaseOf(pod);
  const bypass = pod.metadata.deletionTimestamp || ["Succeeded", "Failed", "Pending"].includes(phase);
  const pdbRt = store.resource("poddisruptionbudgets.policy");
  const pdbs = bypass
    ? []
    : store.list(pdbRt, { namespace }).filter((pdb) => {
        const spec = isRecord(pdb.spec) ? pdb.spec : {};
        return matcherFromSpec(spec.selector as LabelSelectorSpec | undefined)(pod.metadata.labels);
      });
  if (pdbs.length > 1) {
    throw new KubeApiError(
      500,
      "InternalError",
      "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
    );
  }
  const pdb = pdbs[0];
  const pods = pdb ? store.list(podRt, { namespace }) : [];
  if (pdb) {
    const budget = budgetOf(pdb, pods);
    const spec = isRecord(pdb.spec) ? pdb.spec : {};
    const alwaysAllowUnhealthy = spec.unhealthyPodEvictionPolicy === "AlwaysAllow";
    const allowed = isPodReady(pod)
      ? budget.disruptionsAllowed > 0
      : alwaysAllowUnhealthy || budget.currentHealthy >= budget.desiredHealthy;
    if (!allowed) throw tooManyRequests(pdb.metadata.name ?? "", budget);
  }
  store.delete(podRt, namespace, name, deleteOptions);
  if (pdb && !deleteOptions.dryRun) writeBudgetStatus(store, pdbRt, pdb, store.list(podRt, { namespace }));
}

export function writeBudgetStatus(
  store: ObjectStore,
  pdbRt: ResourceType,
  pdb: KubeObject,
  pods: KubeObject[],
): void {
  const budget = budgetOf(pdb, pods);
  const status = isRecord(pdb.status) ? pdb.status : {};
  store.update(
    pdbRt,
    { ...pdb, status: { ...status, ...budget, observedGeneration: pdb.metadata.generation } },
    { subresource: "status" },
  );
}
