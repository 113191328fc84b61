// Plain-language explanation of a finding set without an LLM: pick the root cause (a cause beats
// a symptom; a node beats the pods on it), say what it means and what to do next.
import type { Finding } from "./finding.js";

/** Reasons that describe a consequence of another finding rather than a cause. */
const symptoms = new Set([
  "ReplicasNotReady",
  "PodsNotReady",
  "EndpointsNotReady",
  "NoReadyEndpoints",
  "NoEndpoints",
  "ProgressDeadlineExceeded",
]);

/** Where to look first when several objects report problems: infrastructure before workloads. */
const kindRank = [
  "Node",
  "PersistentVolumeClaim",
  "StorageClass",
  "ConfigMap",
  "Pod",
  "ReplicaSet",
  "StatefulSet",
  "DaemonSet",
  "Job",
  "CronJob",
  "HorizontalPodAutoscaler",
  "Service",
  "Ingress",
  "NetworkPolicy",
  "PodDisruptionBudget",
  "Deployment",
];

const nextSteps: Record<string, string> = {
  UntoleratedTaint:
    "add a matching toleration to the pod template, or remove the taint from the nodes meant to run it",
  InsufficientResources:
    "lower the pod's resource requests, free capacity, or add nodes (or let the cluster autoscaler add them)",
  NodeSelectorMismatch: "fix the node selector/affinity, or label the nodes that should run the pod",
  PersistentVolumeClaimNotFound: "create the missing PersistentVolumeClaim or fix the claim name in the pod",
  PersistentVolumeClaimUnbound: "see why the claim is not bound (StorageClass, provisioner, quota)",
  SchedulingGated:
    "remove the scheduling gate once whatever holds the pod is ready (the controller that added it should do so)",
  Evicted:
    "give the pod realistic requests/limits and check the node's pressure; delete the evicted pod objects",
  ImageNotFound: "fix the image tag in the workload, or push the missing tag to the registry",
  ImagePullUnauthorized: "add or fix imagePullSecrets (or the node's registry credentials)",
  RegistryUnreachable: "check the nodes' network/DNS path to the registry, or use a mirror",
  InvalidImageName: "fix the image reference in the workload",
  OOMKilled:
    "raise the memory limit or find the leak; compare the working set with the limit before each kill",
  CrashLoopBackOff: "read the previous container's logs (kubectl logs --previous) and fix the start-up error",
  ContainerFailed: "read the container's logs and fix the failing step",
  LivenessProbeFailed: "fix the liveness probe (path, port, timeout) or the hang it detects",
  StartupProbeFailed: "allow more start-up time (failureThreshold × periodSeconds) or fix the slow start",
  ReadinessProbeFailed: "check the readiness endpoint and the dependencies it checks",
  SecretNotFound: "create the missing Secret in the pod's namespace or fix the reference",
  ConfigMapNotFound: "create the missing ConfigMap in the pod's namespace or fix the reference",
  KeyNotFound: "add the missing key or fix the reference",
  RunAsNonRootViolation: "run the image as a non-root user (runAsUser) or use an image built for it",
  FailedCreatePodSandBox: "check the CNI plugin and container runtime on the pod's node",
  FailedMount: "check the volume's source (Secret, ConfigMap, PVC, CSI driver) and the node's attach state",
  FailedCreate: "fix what admission rejects (PodSecurity, quota, webhook) in the pod template",
  ServiceNotFound: "create the headless Service the StatefulSet names in serviceName",
  StorageClassNotFound: "create the StorageClass or point the claim at an existing one",
  NoPodsMatchSelector: "align the Service's selector with the pods' labels",
  SyncLoadBalancerFailed:
    "fix the cloud load balancer prerequisites named in the event (subnets, tags, quotas)",
  IngressClassNotSet: "set spec.ingressClassName (or mark one IngressClass as default)",
  IngressClassNotFound: "use an existing ingress class or install its controller",
  BackendServiceNotFound: "create the backend Service or fix its name in the Ingress",
  TLSSecretNotFound: "create the TLS Secret (or let cert-manager issue it) in the Ingress's namespace",
  ProvisioningFailed: "fix the provisioner's error (quota, capacity, parameters) and the claim will bind",
  NodeNotReady:
    "check the kubelet, container runtime and CNI on the node; cordon and drain it if it does not recover",
  MemoryPressure: "find the pods using the node's memory, set limits, or add capacity",
  DiskPressure: "free disk space on the node (images, logs, emptyDir) or grow the disk",
  PIDPressure: "find the process leak on the node or raise the PID limit",
  NetworkUnavailable: "check the node's network plugin (CNI) and routes",
  ScaleTargetNotFound: "point scaleTargetRef at the workload that exists (it was probably renamed)",
  AtMaxReplicas: "raise maxReplicas if the cluster has room, or make each replica handle more",
  NoPodsSelected: "fix the policy's podSelector (a label was probably renamed) or delete the policy",
  DeadlineExceeded: "raise activeDeadlineSeconds or make the job faster",
  BackoffLimitExceeded: "read the failed pods' logs; fix the error before raising backoffLimit",
  InvalidSchedule: "fix the cron expression",
};

export interface Explanation {
  /** One or two sentences a person can act on. */
  summary: string;
  rootCause?: Finding;
  nextSteps: string[];
}

function rank(f: Finding): number {
  const k = kindRank.indexOf(f.kind);
  return (symptoms.has(f.reason) ? 100 : 0) + (k < 0 ? kindRank.length : k);
}

/** The finding most likely to be the cause of the others. */
export function rootCauseOf(findings: readonly Finding[]): Finding | undefined {
  return [...findings].sort((a, b) => rank(a) - rank(b))[0];
}

function objectName(f: Finding): string {
  return f.namespace ? `${f.kind} ${f.namespace}/${f.name}` : `${f.kind} ${f.name}`;
}

export function explain(findings: readonly Finding[]): Explanation {
  const root = rootCauseOf(findings);
  if (!root) return { summary: "No problem found in the objects analysed.", nextSteps: [] };
  // Pods of one workload failing for the same reason are one problem (one bad rollout).
  const same = findings.filter(
    (f) =>
      f !== root && f.kind === root.kind && f.reason === root.reason && f.parent && f.parent === root.parent,
  );
  const others = findings.filter((f) => f !== root && !same.includes(f));
  const affected = [...new Set(others.map(objectName))].filter((n) => n !== objectName(root));
  const steps: string[] = [];
  const first = nextSteps[root.reason];
  if (first) steps.push(first);
  for (const f of others) {
    const s = nextSteps[f.reason];
    if (s && !steps.includes(s) && !symptoms.has(f.reason)) steps.push(s);
  }
  const summary =
    `Most likely cause: ${objectName(root)}${root.parent ? ` (part of ${root.parent})` : ""}: ${root.message}.` +
    (same.length > 0
      ? ` ${same.length} more ${root.kind}${same.length === 1 ? "" : "s"} of ${root.parent} fail${same.length === 1 ? "s" : ""} the same way (${root.reason}).`
      : "") +
    (affected.length > 0
      ? ` ${affected.length} related object${affected.length === 1 ? " is" : "s are"} affected: ${affected.slice(0, 5).join(", ")}${affected.length > 5 ? ", …" : ""}.`
      : "");
  return { summary, rootCause: root, nextSteps: steps.slice(0, 4) };
}
