// ReplicaSets: the controller cannot create pods (ReplicaFailure: quota, PodSecurity admission,
// a webhook, a missing service account). Not-ready replicas are the Deployment's finding.
import type { Analyzer } from "../analyzer.js";
import { makeFinding } from "../analyzer.js";
import type { Condition } from "../objects.js";
import { condition, statusOf } from "../objects.js";

export const replicaSetAnalyzer: Analyzer = {
  kind: "ReplicaSet",
  analyze(view) {
    return view.list("ReplicaSet").flatMap((rs) => {
      const status = statusOf<{ conditions?: Condition[] }>(rs);
      const failure = condition(status.conditions, "ReplicaFailure");
      const failedCreate = view.warnings(rs).filter((e) => e.reason === "FailedCreate");
      if (failure?.status !== "True" && failedCreate.length === 0) return [];
      const text = (failure?.message ?? failedCreate.at(-1)?.message ?? "").trim();
      let cause = "the controller cannot create pods";
      if (/exceeded quota/i.test(text)) cause = "creating pods exceeds the namespace's ResourceQuota";
      else if (/violates PodSecurity/i.test(text)) cause = "pods are rejected by PodSecurity admission";
      else if (/admission webhook/i.test(text)) cause = "pods are rejected by an admission webhook";
      else if (/serviceaccount/i.test(text)) cause = "the pods' ServiceAccount does not exist";
      return [makeFinding(view, rs, failure?.reason ?? "FailedCreate", `${cause}: ${text}`)];
    });
  },
};
