// Deployments: a rollout past its progress deadline, or fewer ready replicas than desired when
// something explains it (a pod with a problem, Available=False). A rollout still in progress
// with no evidence of trouble is not reported.
import type { Analyzer } from "../analyzer.js";
import { makeFinding } from "../analyzer.js";
import type { ClusterView } from "../cluster-view.js";
import type { Condition, KubeObject, PodStatus } from "../objects.js";
import { condition, specOf, statusOf } from "../objects.js";
import { failingPodsOf } from "./workload-pods.js";

interface DeploymentSpec {
  replicas?: number;
  paused?: boolean;
}
interface DeploymentStatus {
  replicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  updatedReplicas?: number;
  conditions?: Condition[];
}

const revision = (o: KubeObject) =>
  Number(o.metadata.annotations?.["deployment.kubernetes.io/revision"] ?? 0);

/**
 * A rollout whose new ReplicaSet's pods fail while old ReplicaSets still serve: the service is
 * up on the old version, so replica counts look fine, but the release is not happening.
 */
function stuckRollout(view: ClusterView, d: KubeObject): string | undefined {
  const sets = view.owned(d, "ReplicaSet");
  if (sets.length < 2) return undefined;
  const newest = sets.reduce((a, b) => (revision(b) > revision(a) ? b : a));
  const oldServing = sets.filter(
    (rs) => rs !== newest && (statusOf<{ replicas?: number }>(rs).replicas ?? 0) > 0,
  );
  if (oldServing.length === 0) return undefined;
  const newPods = view.owned(newest, "Pod").filter((p) => statusOf<PodStatus>(p).phase !== "Failed");
  const failing = failingPodsOf(view, newPods);
  if (failing.length === 0) return undefined;
  return `rollout is stuck: the new ReplicaSet ${newest.metadata.name} (revision ${revision(newest)}) cannot become ready while ${oldServing.map((r) => r.metadata.name).join(", ")} still serve${oldServing.length === 1 ? "s" : ""}; failing pods: ${failing.join("; ")}`;
}

export const deploymentAnalyzer: Analyzer = {
  kind: "Deployment",
  analyze(view) {
    return view.list("Deployment").flatMap((d) => {
      const spec = specOf<DeploymentSpec>(d);
      const status = statusOf<DeploymentStatus>(d);
      const desired = spec.replicas ?? 1;
      const ready = status.readyReplicas ?? 0;
      const progressing = condition(status.conditions, "Progressing");
      const available = condition(status.conditions, "Available");
      const failing = failingPodsOf(view, view.podsOf(d));
      const podsText = failing.length > 0 ? `; failing pods: ${failing.join("; ")}` : "";
      const replicaFailure = condition(status.conditions, "ReplicaFailure");
      if (progressing?.status === "False" && progressing.reason === "ProgressDeadlineExceeded") {
        return [
          makeFinding(
            view,
            d,
            "ProgressDeadlineExceeded",
            `rollout made no progress within its progress deadline: ${ready}/${desired} replicas ready, ${status.updatedReplicas ?? 0} updated${progressing.message ? ` (${progressing.message.trim()})` : ""}${podsText}`,
          ),
        ];
      }
      if (replicaFailure?.status === "True") {
        return [
          makeFinding(
            view,
            d,
            replicaFailure.reason ?? "ReplicaFailure",
            `cannot create replicas: ${(replicaFailure.message ?? "").trim()}`,
          ),
        ];
      }
      if (spec.paused) return [];
      const stuck = stuckRollout(view, d);
      if (stuck) return [makeFinding(view, d, "RolloutStuck", stuck)];
      if (ready >= desired) return [];
      if (failing.length === 0 && available?.status !== "False") return [];
      return [
        makeFinding(
          view,
          d,
          "ReplicasNotReady",
          `only ${ready}/${desired} replicas are ready${available?.status === "False" && available.message ? ` (${available.message.trim()})` : ""}${podsText}`,
        ),
      ];
    });
  },
};
