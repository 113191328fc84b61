// The analyzer registry: one analyzer per kind. Adding a kind = one file and one line here.
import type { Analyzer } from "../analyzer.js";
import { configMapAnalyzer } from "./configmap.js";
import { cronJobAnalyzer } from "./cronjob.js";
import { daemonSetAnalyzer } from "./daemonset.js";
import { deploymentAnalyzer } from "./deployment.js";
import { horizontalPodAutoscalerAnalyzer } from "./horizontalpodautoscaler.js";
import { ingressAnalyzer } from "./ingress.js";
import { jobAnalyzer } from "./job.js";
import { networkPolicyAnalyzer } from "./networkpolicy.js";
import { nodeAnalyzer } from "./node.js";
import { persistentVolumeClaimAnalyzer } from "./persistentvolumeclaim.js";
import { podAnalyzer } from "./pod.js";
import { podDisruptionBudgetAnalyzer } from "./poddisruptionbudget.js";
import { replicaSetAnalyzer } from "./replicaset.js";
import { serviceAnalyzer } from "./service.js";
import { statefulSetAnalyzer } from "./statefulset.js";
import { mutatingWebhookAnalyzer, validatingWebhookAnalyzer } from "./webhook.js";

export const analyzers: readonly Analyzer[] = [
  podAnalyzer,
  deploymentAnalyzer,
  replicaSetAnalyzer,
  statefulSetAnalyzer,
  daemonSetAnalyzer,
  jobAnalyzer,
  cronJobAnalyzer,
  serviceAnalyzer,
  ingressAnalyzer,
  persistentVolumeClaimAnalyzer,
  nodeAnalyzer,
  horizontalPodAutoscalerAnalyzer,
  podDisruptionBudgetAnalyzer,
  networkPolicyAnalyzer,
  configMapAnalyzer,
  validatingWebhookAnalyzer,
  mutatingWebhookAnalyzer,
];
