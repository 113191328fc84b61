// What the cluster says about the pods behind series: their labels (for podSelector), their
// workload (replicas are compared with each other), and their containers' memory limits (the
// bound a leak is projected to). One list per namespace per invocation; without a cluster the
// workload comes from the pod name and the limit from kube-state-metrics.
import type { KubeObject } from "../../diagnosis/objects.js";
import { parseQuantity } from "../../kube/quantity.js";
import type { ClusterPort } from "../../ports/cluster.js";
import type { MetricsPort } from "../../ports/metrics.js";

export interface Workload {
  kind: string;
  name: string;
}

export interface PodInfo {
  labels: Record<string, string>;
  workload: Workload | null;
  /** Container name → memory limit in bytes. */
  memoryLimits: Map<string, number>;
}

/** The pods of one invocation, listed lazily per namespace. */
export class PodDirectory {
  private readonly byNamespace = new Map<string, Promise<Map<string, PodInfo>>>();
  private limitsFromMetrics: Promise<Map<string, number>> | undefined;

  constructor(
    private readonly kube: ClusterPort | undefined,
    private readonly metrics: MetricsPort | undefined,
  ) {}

  get hasCluster(): boolean {
    return this.kube !== undefined;
  }

  async pod(namespace: string, name: string): Promise<PodInfo | undefined> {
    if (!this.kube) return undefined;
    let listed = this.byNamespace.get(namespace);
    if (!listed) {
      listed = this.kube
        .list("Pod", namespace)
        .then((pods) => new Map(pods.map((p) => [p.metadata.name, podInfo(p)] as const)))
        .catch(() => new Map<string, PodInfo>());
      this.byNamespace.set(namespace, listed);
    }
    return (await listed).get(name);
  }

  async workload(labels: Record<string, string>): Promise<Workload | null> {
    for (const kind of ["deployment", "statefulset", "daemonset"] as const)
      if (labels[kind]) return { kind: kindName[kind], name: labels[kind] };
    const { namespace, pod } = labels;
    if (!namespace || !pod) return null;
    const info = await this.pod(namespace, pod);
    return info ? info.workload : workloadFromPodName(pod);
  }

  /** The memory limit of the series' container (bytes), when the cluster or the metrics tell. */
  async memoryLimit(labels: Record<string, string>): Promise<number | undefined> {
    const { namespace, pod, container } = labels;
    if (!namespace || !pod) return undefined;
    const info = await this.pod(namespace, pod);
    const pick = (limits: Map<string, number>, prefix = "") => {
      if (container) return limits.get(prefix + container);
      const all = [...limits.entries()].filter(([k]) => k.startsWith(prefix));
      return all.length === 1 ? all[0]![1] : undefined;
    };
    if (info) return pick(info.memoryLimits);
    if (!this.metrics) return undefined;
    this.limitsFromMetrics ??= this.metrics
      .instant('kube_pod_container_resource_limits{resource="memory"}')
      .then(
        (samples) =>
          new Map(
            samples.map(
              (s) => [`${s.labels.namespace}/${s.labels.pod}/${s.labels.container}`, s.value] as const,
            ),
          ),
      )
      .catch(() => new Map<string, number>());
    return pick(await this.limitsFromMetrics, `${namespace}/${pod}/`);
  }
}

const kindName = { deployment: "Deployment", statefulset: "StatefulSet", daemonset: "DaemonSet" } as const;

function podInfo(p: KubeObject): PodInfo {
  const owner = p.metadata.ownerReferences?.find((o) => o.controller) ?? p.metadata.ownerReferences?.[0];
  let workload: Workload | null = null;
  if (owner?.kind === "ReplicaSet") {
    // <deployment>-<pod-template-hash>; a bare ReplicaSet is its own workload.
    const hash = p.metadata.labels?.["pod-template-hash"];
    workload =
      hash && owner.name.endsWith(`-${hash}`)
        ? { kind: "Deployment", name: owner.name.slice(0, -hash.length - 1) }
        : { kind: "ReplicaSet", name: owner.name };
  } else if (owner) workload = { kind: owner.kind, name: owner.name };
  const memoryLimits = new Map<string, number>();
  const containers = (
    p.spec as { containers?: { name: string; resources?: { limits?: Record<string, unknown> } }[] }
  )?.containers;
  for (const c of containers ?? []) {
    const m = parseQuantity(c.resources?.limits?.memory);
    if (m > 0) memoryLimits.set(c.name, m);
  }
  return { labels: p.metadata.labels ?? {}, workload, memoryLimits };
}

/** `<deployment>-<hash>-<suffix>` → the Deployment; `<statefulset>-<ordinal>` → the StatefulSet. */
export function workloadFromPodName(pod: string): Workload | null {
  const parts = pod.split("-");
  if (parts.length >= 3 && /^[a-z0-9]{5}$/.test(parts.at(-1)!) && /^[a-z0-9]{6,10}$/.test(parts.at(-2)!))
    return { kind: "Deployment", name: parts.slice(0, -2).join("-") };
  if (parts.length >= 2 && /^[0-9]+$/.test(parts.at(-1)!))
    return { kind: "StatefulSet", name: parts.slice(0, -1).join("-") };
  return null;
}
