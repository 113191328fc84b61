// Node-fit predicates shared by the scheduler, Karpenter and the DaemonSet controller, each
// returning the reason string the real kube-scheduler plugin would report.
import type { KubeObject } from "../apiserver/types.js";
import { arr, rec, type Obj, type PodRequests } from "./context.js";

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export function taintsOf(node: KubeObject): Taint[] {
  return arr(rec(node.spec).taints).map((t) => ({
    key: String(t.key ?? ""),
    ...(t.value !== undefined ? { value: String(t.value) } : {}),
    effect: String(t.effect ?? ""),
  }));
}

export function tolerates(tolerations: Obj[], taint: Taint): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === "Exists") return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? "") === (taint.value ?? "");
  });
}

/** The first NoSchedule/NoExecute taint the pod does not tolerate, worded as TaintToleration does. */
export function untoleratedTaint(pod: KubeObject, taints: Taint[]): string | undefined {
  const tolerations = arr(rec(pod.spec).tolerations);
  const bad = taints.find(
    (t) => (t.effect === "NoSchedule" || t.effect === "NoExecute") && !tolerates(tolerations, t),
  );
  return bad ? `node(s) had untolerated taint {${bad.key}: ${bad.value ?? ""}}` : undefined;
}

function requirementMatches(
  req: Obj,
  labels: Record<string, string>,
  fields: Record<string, string>,
): boolean {
  const key = String(req.key ?? "");
  const values = Array.isArray(req.values) ? req.values.map(String) : [];
  const value = key in labels ? labels[key] : fields[key];
  switch (req.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
      return value !== undefined && Number(value) > Number(values[0]);
    case "Lt":
      return value !== undefined && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

/** nodeSelector plus requiredDuringSchedulingIgnoredDuringExecution (terms ORed, expressions ANDed). */
export function matchesNodeAffinity(
  pod: KubeObject,
  labels: Record<string, string>,
  nodeName: string,
): boolean {
  const spec = rec(pod.spec);
  const selector = rec(spec.nodeSelector);
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  const required = rec(rec(rec(spec.affinity).nodeAffinity).requiredDuringSchedulingIgnoredDuringExecution);
  const terms = arr(required.nodeSelectorTerms);
  if (!terms.length) return true;
  const fields = { "metadata.name": nodeName };
  return terms.some(
    (term) =>
      arr(term.matchExpressions).every((r) => requirementMatches(r, labels, {})) &&
      arr(term.matchFields).every((r) => requirementMatches(r, {}, fields)),
  );
}

export { requirementMatches };

export interface Capacity {
  cpu: number;
  memory: number;
  pods: number;
}

/** NodeResourcesFit's reasons, in the order the plugin reports them. */
export function insufficient(req: PodRequests, free: Capacity): string[] {
  const out: string[] = [];
  if (free.pods < 1) out.push("Too many pods");
  if (req.cpu > free.cpu) out.push("Insufficient cpu");
  if (req.memory > free.memory) out.push("Insufficient memory");
  return out;
}
