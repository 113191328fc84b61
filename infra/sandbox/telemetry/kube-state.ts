// kube-state-metrics and Karpenter series from the API objects, with their real names and labels
// (job="kube-state-metrics" / job="karpenter", as kube-prometheus' scrape configs label them).
import { arr, phaseOf, rec, type SimContext } from "../controllers/context.js";
import { milliCpu, parseQuantity } from "../controllers/quantity.js";
import type { KubeObject } from "../apiserver/types.js";
import type { SampleSink } from "./series-writer.js";

const KSM = "kube-state-metrics";
const PHASES = ["Pending", "Running", "Succeeded", "Failed", "Unknown"] as const;
const NODE_CONDITIONS = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"] as const;
const CONDITION_STATUSES = ["true", "false", "unknown"] as const;
const POOL = "karpenter.sh/nodepool";

export const kubeStateMetadata = {
  kube_pod_status_phase: ["gauge", "The pods current phase."],
  kube_pod_container_status_restarts_total: ["counter", "The number of container restarts per container."],
  kube_pod_container_status_waiting_reason: [
    "gauge",
    "Describes the reason the container is currently in waiting state.",
  ],
  kube_pod_container_status_last_terminated_reason: [
    "gauge",
    "Describes the last reason the container was in terminated state.",
  ],
  kube_pod_container_status_ready: ["gauge", "Describes whether the containers readiness check succeeded."],
  kube_pod_container_resource_limits: ["gauge", "The number of requested limit resource by a container."],
  kube_pod_container_resource_requests: ["gauge", "The number of requested request resource by a container."],
  kube_deployment_spec_replicas: ["gauge", "Number of desired pods for a deployment."],
  kube_deployment_status_replicas: ["gauge", "The number of replicas per deployment."],
  kube_deployment_status_replicas_available: ["gauge", "The number of available replicas per deployment."],
  kube_deployment_status_replicas_updated: ["gauge", "The number of updated replicas per deployment."],
  kube_node_status_condition: ["gauge", "The condition of a cluster node."],
  kube_node_status_allocatable: ["gauge", "The allocatable for different resources of a node."],
  kube_horizontalpodautoscaler_spec_max_replicas: ["gauge", "Upper limit for the number of pods."],
  kube_horizontalpodautoscaler_spec_min_replicas: ["gauge", "Lower limit for the number of pods."],
  kube_horizontalpodautoscaler_status_current_replicas: ["gauge", "Current number of replicas of pods."],
  kube_horizontalpodautoscaler_status_desired_replicas: ["gauge", "Desired number of replicas of pods."],
  karpenter_nodes_created_total: ["counter", "Number of nodes created in total by Karpenter."],
  karpenter_pods_state: ["gauge", "Pod state is the current state of pods."],
} as const;

/** Writes the pod-level kube-state-metrics series of one pod. */
export function writePodState(w: SampleSink, pod: KubeObject): void {
  const ns = pod.metadata.namespace ?? "";
  const name = pod.metadata.name ?? "";
  const uid = pod.metadata.uid ?? "";
  const phase = phaseOf(pod) || "Pending";
  const node = String(rec(pod.spec).nodeName ?? "");
  for (const p of PHASES)
    w.write(
      `${uid}|phase|${p}`,
      () => ({ __name__: "kube_pod_status_phase", job: KSM, namespace: ns, pod: name, uid, phase: p }),
      p === phase ? 1 : 0,
    );
  const statuses = new Map(arr(rec(pod.status).containerStatuses).map((s) => [String(s.name), s]));
  for (const c of arr(rec(pod.spec).containers)) {
    const container = String(c.name);
    const base = { job: KSM, namespace: ns, pod: name, uid, container };
    const s = statuses.get(container);
    const key = `${uid}|${container}`;
    w.write(
      `${key}|restarts`,
      () => ({ __name__: "kube_pod_container_status_restarts_total", ...base }),
      Number(s?.restartCount ?? 0),
    );
    w.write(
      `${key}|ready`,
      () => ({ __name__: "kube_pod_container_status_ready", ...base }),
      s?.ready === true ? 1 : 0,
    );
    // kube-state-metrics reports only the current reason, so the series comes and goes.
    const waiting = rec(rec(s?.state).waiting).reason;
    if (typeof waiting === "string")
      w.write(
        `${key}|waiting|${waiting}`,
        () => ({ __name__: "kube_pod_container_status_waiting_reason", ...base, reason: waiting }),
        1,
      );
    const terminated = rec(rec(s?.lastState).terminated).reason;
    if (typeof terminated === "string")
      w.write(
        `${key}|terminated|${terminated}`,
        () => ({ __name__: "kube_pod_container_status_last_terminated_reason", ...base, reason: terminated }),
        1,
      );
    const resources = rec(c.resources);
    for (const kind of ["requests", "limits"] as const) {
      const values = rec(resources[kind]);
      for (const resource of ["cpu", "memory"] as const) {
        if (values[resource] === undefined) continue;
        const v = resource === "cpu" ? milliCpu(values[resource]) / 1000 : parseQuantity(values[resource]);
        w.write(
          `${key}|${kind}|${resource}`,
          () => ({
            __name__: `kube_pod_container_resource_${kind}`,
            ...base,
            node,
            resource,
            unit: resource === "cpu" ? "core" : "byte",
          }),
          v,
        );
      }
    }
  }
}

/** karpenter_pods_state: one series per pod with its scheduling placement. */
export function writeKarpenterPod(w: SampleSink, pod: KubeObject, nodePool: (node: string) => string): void {
  const ns = pod.metadata.namespace ?? "";
  const name = pod.metadata.name ?? "";
  const node = String(rec(pod.spec).nodeName ?? "");
  const phase = phaseOf(pod) || "Pending";
  const nodepool = node ? nodePool(node) : "";
  w.write(
    `${pod.metadata.uid ?? ""}|karpenter|${node}|${phase}`,
    () => ({
      __name__: "karpenter_pods_state",
      job: "karpenter",
      name,
      namespace: ns,
      node,
      nodepool,
      phase,
    }),
    1,
  );
}

/** Deployments, HPAs, nodes and Karpenter's node counter. */
export class ClusterObjectState {
  private readonly claimsSeen = new Set<string>();
  private readonly createdPerPool = new Map<string, number>();

  constructor(private readonly ctx: SimContext) {}

  write(w: SampleSink): void {
    const { store, rt } = this.ctx;
    for (const d of store.list(rt.deployments)) {
      const ns = d.metadata.namespace ?? "";
      const deployment = d.metadata.name ?? "";
      const status = rec(d.status);
      const base = { job: KSM, namespace: ns, deployment };
      const key = `deploy|${ns}/${deployment}`;
      const values: [string, unknown][] = [
        ["kube_deployment_spec_replicas", rec(d.spec).replicas ?? 1],
        ["kube_deployment_status_replicas", status.replicas],
        ["kube_deployment_status_replicas_available", status.availableReplicas],
        ["kube_deployment_status_replicas_updated", status.updatedReplicas],
      ];
      for (const [metric, v] of values)
        w.write(`${key}|${metric}`, () => ({ __name__: metric, ...base }), Number(v ?? 0));
    }
    for (const h of store.list(rt.hpas)) {
      const ns = h.metadata.namespace ?? "";
      const hpa = h.metadata.name ?? "";
      const spec = rec(h.spec);
      const status = rec(h.status);
      const base = { job: KSM, namespace: ns, horizontalpodautoscaler: hpa };
      const key = `hpa|${ns}/${hpa}`;
      const values: [string, unknown][] = [
        ["kube_horizontalpodautoscaler_spec_max_replicas", spec.maxReplicas],
        ["kube_horizontalpodautoscaler_spec_min_replicas", spec.minReplicas ?? 1],
        ["kube_horizontalpodautoscaler_status_current_replicas", status.currentReplicas],
        ["kube_horizontalpodautoscaler_status_desired_replicas", status.desiredReplicas],
      ];
      for (const [metric, v] of values)
        w.write(`${key}|${metric}`, () => ({ __name__: metric, ...base }), Number(v ?? 0));
    }
    for (const n of store.list(rt.nodes)) {
      const node = n.metadata.name ?? "";
      const conditions = new Map(arr(rec(n.status).conditions).map((c) => [String(c.type), c]));
      for (const condition of NODE_CONDITIONS) {
        const current = String(conditions.get(condition)?.status ?? "Unknown").toLowerCase();
        for (const status of CONDITION_STATUSES)
          w.write(
            `node|${node}|${condition}|${status}`,
            () => ({ __name__: "kube_node_status_condition", job: KSM, node, condition, status }),
            current === status ? 1 : 0,
          );
      }
      const alloc = rec(rec(n.status).allocatable);
      for (const resource of ["cpu", "memory", "pods"] as const)
        w.write(
          `node|${node}|alloc|${resource}`,
          () => ({
            __name__: "kube_node_status_allocatable",
            job: KSM,
            node,
            resource,
            unit: resource === "cpu" ? "core" : resource === "memory" ? "byte" : "integer",
          }),
          resource === "cpu" ? milliCpu(alloc.cpu) / 1000 : parseQuantity(alloc[resource]),
        );
    }
    const claimRt = store.catalog.forStorageKey("nodeclaims.karpenter.sh");
    if (claimRt)
      for (const c of store.list(claimRt)) {
        const uid = c.metadata.uid ?? "";
        if (this.claimsSeen.has(uid)) continue;
        this.claimsSeen.add(uid);
        const pool = c.metadata.labels?.[POOL] ?? "";
        this.createdPerPool.set(pool, (this.createdPerPool.get(pool) ?? 0) + 1);
      }
    for (const [nodepool, n] of this.createdPerPool)
      w.write(
        `karpenter|created|${nodepool}`,
        () => ({ __name__: "karpenter_nodes_created_total", job: "karpenter", nodepool }),
        n,
      );
  }
}
