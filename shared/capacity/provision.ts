// Holding capacity in reserve the ways Karpenter users do (../shared/samples/karpenter-*.yaml):
//  - capacityBuffer: a CapacityBuffer (autoscaling.x-k8s.io/v1beta1, Karpenter 1.14+) over a
//    PodTemplate of the workload's shape, when that CRD is installed;
//  - balloon: a Deployment of `pause` pods at a negative PriorityClass; real pods preempt them at
//    once, and the evicted balloons, pending again, make Karpenter launch the next nodes;
//  - static: `spec.replicas` of a static NodePool.
// Every object carries the SCALE_LABEL, so what Prophet created is always recognisable.
import type { KubeObject } from "../diagnosis/objects.js";
import { formatBytes, formatMilliCpu } from "../kube/quantity.js";
import type { ClusterPort } from "../ports/cluster.js";
import { POOL_LABEL, SCALE_LABEL, type PodShape } from "./pool.js";
import type { PredictiveScale, Strategy } from "./spec.js";

export const BALLOON_PRIORITY_CLASS = "prophet-capacity-buffer";
export const BALLOON_PRIORITY = -1000;
export const PAUSE_IMAGE = "registry.k8s.io/pause:3.9";
const CAPACITY_BUFFER_CRD = "capacitybuffers.autoscaling.x-k8s.io";

export type ResolvedStrategy = Exclude<Strategy, "auto">;

export async function resolveStrategy(
  kube: ClusterPort,
  wanted: Strategy,
  pool: KubeObject,
): Promise<ResolvedStrategy> {
  if (wanted !== "auto") return wanted;
  if (typeof (pool.spec as { replicas?: unknown } | undefined)?.replicas === "number") return "static";
  const crd = await kube
    .get("CustomResourceDefinition", undefined, CAPACITY_BUFFER_CRD)
    .catch(() => undefined);
  return crd ? "capacityBuffer" : "balloon";
}

export function objectName(scale: PredictiveScale): string {
  return `prophet-buffer-${scale.name}`.slice(0, 63).replace(/-+$/, "");
}

function resources(shape: PodShape) {
  const requests: Record<string, string> = {};
  if (shape.cpu > 0) requests.cpu = formatMilliCpu(shape.cpu);
  if (shape.memory > 0) requests.memory = formatBytes(shape.memory);
  return { requests };
}

/** The pod the reserve is made of: the workload's shape and placement, pinned to the pool. */
export function bufferPodSpec(scale: PredictiveScale, shape: PodShape): Record<string, unknown> {
  return {
    nodeSelector: { ...shape.nodeSelector, [POOL_LABEL]: scale.spec.nodePoolRef.name },
    ...(shape.tolerations.length ? { tolerations: shape.tolerations } : {}),
    ...(shape.affinity ? { affinity: shape.affinity } : {}),
    terminationGracePeriodSeconds: 0,
    automountServiceAccountToken: false,
    containers: [{ name: "pause", image: PAUSE_IMAGE, resources: resources(shape) }],
  };
}

export function balloonDeployment(scale: PredictiveScale, shape: PodShape, replicas: number): KubeObject {
  const labels = { "app.kubernetes.io/name": "prophet-capacity-buffer", [SCALE_LABEL]: scale.name };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: objectName(scale),
      namespace: scale.namespace,
      labels: { ...labels, "app.kubernetes.io/managed-by": "prophet" },
      annotations: {
        "aiops.prophet.io/purpose": `capacity held for ${scale.key} ahead of forecast demand; real pods preempt these`,
      },
    },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { priorityClassName: BALLOON_PRIORITY_CLASS, ...bufferPodSpec(scale, shape) },
      },
    },
  };
}

export function balloonPriorityClass(): KubeObject {
  return {
    apiVersion: "scheduling.k8s.io/v1",
    kind: "PriorityClass",
    metadata: { name: BALLOON_PRIORITY_CLASS, labels: { "app.kubernetes.io/managed-by": "prophet" } },
    value: BALLOON_PRIORITY,
    globalDefault: false,
    preemptionPolicy: "Never",
    description: "Placeholder pods holding capacity ahead of forecast demand (Prophet forecast-scaling).",
  };
}

export interface Applied {
  strategy: ResolvedStrategy;
  /** What the object says now (pods for buffers, nodes for static pools). */
  replicas: number;
  /** The object written, as `Kind/namespace/name`. */
  object: string;
  changed: boolean;
}

/**
 * Makes the cluster hold `bufferPods` pods of `shape` in reserve (or, for a static pool,
 * `staticNodes` nodes). Idempotent: writes only what differs.
 */
export async function applyBuffer(
  kube: ClusterPort,
  scale: PredictiveScale,
  strategy: ResolvedStrategy,
  shape: PodShape,
  bufferPods: number,
  staticNodes: number,
): Promise<Applied> {
  if (!kube.patch || !kube.create) throw new Error(`cluster ${kube.name} is read-only`);
  const ns = scale.namespace;
  const name = objectName(scale);
  if (strategy === "static") {
    const pool = scale.spec.nodePoolRef.name;
    const obj = await kube.get("NodePool", undefined, pool);
    const current = (obj?.spec as { replicas?: number } | undefined)?.replicas;
    if (current === staticNodes)
      return { strategy, replicas: staticNodes, object: `NodePool/${pool}`, changed: false };
    await kube.patch("NodePool", undefined, pool, { spec: { replicas: staticNodes } }, { type: "merge" });
    return { strategy, replicas: staticNodes, object: `NodePool/${pool}`, changed: true };
  }
  if (strategy === "capacityBuffer") {
    const template: KubeObject = {
      apiVersion: "v1",
      kind: "PodTemplate",
      metadata: {
        name,
        namespace: ns,
        labels: { [SCALE_LABEL]: scale.name, "app.kubernetes.io/managed-by": "prophet" },
      },
      template: { metadata: { labels: { [SCALE_LABEL]: scale.name } }, spec: bufferPodSpec(scale, shape) },
    };
    const existingTemplate = await kube.get("PodTemplate", ns, name);
    if (!existingTemplate) await kube.create("PodTemplate", ns, template);
    else await kube.patch("PodTemplate", ns, name, { template: template.template }, { type: "merge" });
    const existing = await kube.get("CapacityBuffer", ns, name);
    const current = (existing?.spec as { replicas?: number } | undefined)?.replicas;
    if (existing && current === bufferPods)
      return { strategy, replicas: bufferPods, object: `CapacityBuffer/${ns}/${name}`, changed: false };
    const spec = {
      provisioningStrategy: "buffer.x-k8s.io/active-capacity",
      podTemplateRef: { name },
      replicas: bufferPods,
    };
    if (existing) await kube.patch("CapacityBuffer", ns, name, { spec }, { type: "merge" });
    else
      await kube.create("CapacityBuffer", ns, {
        apiVersion: "autoscaling.x-k8s.io/v1beta1",
        kind: "CapacityBuffer",
        metadata: {
          name,
          namespace: ns,
          labels: { [SCALE_LABEL]: scale.name, "app.kubernetes.io/managed-by": "prophet" },
        },
        spec,
      });
    return { strategy, replicas: bufferPods, object: `CapacityBuffer/${ns}/${name}`, changed: true };
  }
  if (!(await kube.get("PriorityClass", undefined, BALLOON_PRIORITY_CLASS)))
    await kube.create("PriorityClass", undefined, balloonPriorityClass());
  const existing = await kube.get("Deployment", ns, name);
  const want = balloonDeployment(scale, shape, bufferPods);
  if (!existing) {
    await kube.create("Deployment", ns, want);
    return { strategy, replicas: bufferPods, object: `Deployment/${ns}/${name}`, changed: true };
  }
  const spec = existing.spec as { replicas?: number; template?: { spec?: unknown } } | undefined;
  const wantSpec = want.spec as { template: { spec: Record<string, unknown> } };
  const sameShape =
    JSON.stringify(
      (spec?.template?.spec as { containers?: { resources?: unknown }[] } | undefined)?.containers?.[0]
        ?.resources,
    ) === JSON.stringify((wantSpec.template.spec.containers as { resources?: unknown }[])[0]?.resources);
  if (spec?.replicas === bufferPods && sameShape)
    return { strategy, replicas: bufferPods, object: `Deployment/${ns}/${name}`, changed: false };
  await kube.patch(
    "Deployment",
    ns,
    name,
    sameShape
      ? { spec: { replicas: bufferPods } }
      : { spec: { replicas: bufferPods, template: wantSpec.template } },
    { type: "merge" },
  );
  return { strategy, replicas: bufferPods, object: `Deployment/${ns}/${name}`, changed: true };
}
