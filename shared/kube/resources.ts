// Where each diagnosed kind lives in the Kubernetes API.
export interface KindInfo {
  /** "v1" for the core group, "apps/v1" … otherwise. */
  apiVersion: string;
  plural: string;
  namespaced: boolean;
}

export const kinds: Readonly<Record<string, KindInfo>> = {
  Pod: { apiVersion: "v1", plural: "pods", namespaced: true },
  Deployment: { apiVersion: "apps/v1", plural: "deployments", namespaced: true },
  ReplicaSet: { apiVersion: "apps/v1", plural: "replicasets", namespaced: true },
  StatefulSet: { apiVersion: "apps/v1", plural: "statefulsets", namespaced: true },
  DaemonSet: { apiVersion: "apps/v1", plural: "daemonsets", namespaced: true },
  Job: { apiVersion: "batch/v1", plural: "jobs", namespaced: true },
  CronJob: { apiVersion: "batch/v1", plural: "cronjobs", namespaced: true },
  Service: { apiVersion: "v1", plural: "services", namespaced: true },
  Endpoints: { apiVersion: "v1", plural: "endpoints", namespaced: true },
  EndpointSlice: { apiVersion: "discovery.k8s.io/v1", plural: "endpointslices", namespaced: true },
  Ingress: { apiVersion: "networking.k8s.io/v1", plural: "ingresses", namespaced: true },
  IngressClass: { apiVersion: "networking.k8s.io/v1", plural: "ingressclasses", namespaced: false },
  PersistentVolumeClaim: { apiVersion: "v1", plural: "persistentvolumeclaims", namespaced: true },
  StorageClass: { apiVersion: "storage.k8s.io/v1", plural: "storageclasses", namespaced: false },
  Node: { apiVersion: "v1", plural: "nodes", namespaced: false },
  HorizontalPodAutoscaler: {
    apiVersion: "autoscaling/v2",
    plural: "horizontalpodautoscalers",
    namespaced: true,
  },
  PodDisruptionBudget: { apiVersion: "policy/v1", plural: "poddisruptionbudgets", namespaced: true },
  NetworkPolicy: { apiVersion: "networking.k8s.io/v1", plural: "networkpolicies", namespaced: true },
  // Written by quarantine_pod when the cluster runs Cilium (deny rules win over allows).
  CiliumClusterwideNetworkPolicy: {
    apiVersion: "cilium.io/v2",
    plural: "ciliumclusterwidenetworkpolicies",
    namespaced: false,
  },
  ConfigMap: { apiVersion: "v1", plural: "configmaps", namespaced: true },
  Secret: { apiVersion: "v1", plural: "secrets", namespaced: true },
  ValidatingWebhookConfiguration: {
    apiVersion: "admissionregistration.k8s.io/v1",
    plural: "validatingwebhookconfigurations",
    namespaced: false,
  },
  MutatingWebhookConfiguration: {
    apiVersion: "admissionregistration.k8s.io/v1",
    plural: "mutatingwebhookconfigurations",
    namespaced: false,
  },
  Event: { apiVersion: "v1", plural: "events", namespaced: true },
  // Read or written by remediation, not diagnosed.
  Namespace: { apiVersion: "v1", plural: "namespaces", namespaced: false },
  ControllerRevision: { apiVersion: "apps/v1", plural: "controllerrevisions", namespaced: true },
  VolumeSnapshot: { apiVersion: "snapshot.storage.k8s.io/v1", plural: "volumesnapshots", namespaced: true },
  VolumeSnapshotClass: {
    apiVersion: "snapshot.storage.k8s.io/v1",
    plural: "volumesnapshotclasses",
    namespaced: false,
  },
  CustomResourceDefinition: {
    apiVersion: "apiextensions.k8s.io/v1",
    plural: "customresourcedefinitions",
    namespaced: false,
  },
  AutonomousAction: {
    apiVersion: "aiops.prophet.io/v1alpha1",
    plural: "autonomousactions",
    namespaced: true,
  },
  AnomalyAction: { apiVersion: "aiops.prophet.io/v1alpha1", plural: "anomalyactions", namespaced: true },
  // Read (and status-written) by slo-check; Applications only annotated by its deploy freeze.
  SLOViolation: { apiVersion: "aiops.prophet.io/v1alpha1", plural: "sloviolations", namespaced: true },
  PrometheusServiceLevel: {
    apiVersion: "sloth.slok.dev/v1",
    plural: "prometheusservicelevels",
    namespaced: true,
  },
  Application: { apiVersion: "argoproj.io/v1alpha1", plural: "applications", namespaced: true },
  // Created by slo-check's enableChaos (Chaos Mesh).
  PodChaos: { apiVersion: "chaos-mesh.org/v1alpha1", plural: "podchaos", namespaced: true },
  // Read and written by forecast-scaling (capacity ahead of demand).
  PredictiveScale: { apiVersion: "aiops.prophet.io/v1alpha1", plural: "predictivescales", namespaced: true },
  NodePool: { apiVersion: "karpenter.sh/v1", plural: "nodepools", namespaced: false },
  NodeClaim: { apiVersion: "karpenter.sh/v1", plural: "nodeclaims", namespaced: false },
  PriorityClass: { apiVersion: "scheduling.k8s.io/v1", plural: "priorityclasses", namespaced: false },
  PodTemplate: { apiVersion: "v1", plural: "podtemplates", namespaced: true },
  CapacityBuffer: { apiVersion: "autoscaling.x-k8s.io/v1beta1", plural: "capacitybuffers", namespaced: true },
};

/** The URL path of a kind's collection (or of one object when name is given). */
export function resourcePath(kind: string, namespace?: string, name?: string): string {
  const info = kinds[kind];
  if (!info) throw new Error(`unknown kind ${kind}`);
  const base = info.apiVersion.includes("/") ? `/apis/${info.apiVersion}` : `/api/${info.apiVersion}`;
  const ns = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${base}${ns}/${info.plural}${name ? `/${encodeURIComponent(name)}` : ""}`;
}
