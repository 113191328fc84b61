// Helpers the workload analyzers share: which of a workload's pods are unhealthy, and why.
import type { ClusterView } from "../cluster-view.js";
import type { KubeObject } from "../objects.js";
import { summarisePod } from "../pod-problems.js";

/** "pod a (Reason: …); pod b (…)" for the workload's pods that have a problem, at most three. */
export function failingPodsOf(view: ClusterView, pods: readonly KubeObject[]): string[] {
  return pods
    .map((p) => summarisePod(view, p))
    .filter((s): s is string => !!s)
    .slice(0, 3);
}
