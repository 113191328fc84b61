// DaemonSet pods: one per node whose labels and taints admit the template, pinned with the
// required node affinity on metadata.name the real controller writes, then placed by the scheduler.
import { isPodReady } from "../apiserver/disruption.js";
import type { KubeObject } from "../apiserver/types.js";
import { arr, isTerminal, rec, type Obj, type SimContext } from "./context.js";
import { matchesNodeAffinity, taintsOf, untoleratedTaint } from "./placement.js";

/** The tolerations the DaemonSet controller adds to every daemon pod. */
const daemonTolerations: Obj[] = [
  { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
];

export function reconcileDaemonSets(ctx: SimContext): void {
  const nodes = ctx.store.list(ctx.rt.nodes).filter((n) => !n.metadata.deletionTimestamp);
  for (const ds of ctx.store.list(ctx.rt.daemonsets)) {
    if (ds.metadata.deletionTimestamp) continue;
    const ns = ds.metadata.namespace ?? "";
    const name = ds.metadata.name ?? "";
    const template = rec(rec(ds.spec).template);
    const tplSpec = rec(template.spec);
    const tolerations = [...arr(tplSpec.tolerations), ...daemonTolerations];
    const probe = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {},
      spec: { ...tplSpec, tolerations },
    } as KubeObject;
    const pods = ctx.store
      .list(ctx.rt.pods, { namespace: ns })
      .filter((p) => p.metadata.ownerReferences?.some((o) => o.uid === ds.metadata.uid));
    const byNode = new Map<string, KubeObject>();
    for (const p of pods) {
      const target = pinnedNode(p);
      if (target) byNode.set(target, p);
    }
    const eligible = nodes.filter(
      (n) =>
        !untoleratedTaint(probe, taintsOf(n)) &&
        matchesNodeAffinity(probe, n.metadata.labels ?? {}, n.metadata.name ?? ""),
    );
    const eligibleNames = new Set(eligible.map((n) => n.metadata.name ?? ""));
    for (const node of eligible) {
      const nodeName = node.metadata.name ?? "";
      if (byNode.has(nodeName)) continue;
      const pod = ctx.store.create(ctx.rt.pods, {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          generateName: `${name}-`,
          namespace: ns,
          labels: {
            ...(rec(rec(template.metadata).labels) as Record<string, string>),
            "pod-template-generation": String(ds.metadata.generation ?? 1),
          },
          ownerReferences: [
            {
              apiVersion: "apps/v1",
              kind: "DaemonSet",
              name,
              uid: ds.metadata.uid ?? "",
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: {
          ...structuredClone(tplSpec),
          tolerations,
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchFields: [{ key: "metadata.name", operator: "In", values: [nodeName] }] },
                ],
              },
            },
          },
        },
      });
      byNode.set(nodeName, pod);
      ctx.event(ds, "Normal", "SuccessfulCreate", `Created pod: ${pod.metadata.name}`, {
        component: "daemonset-controller",
      });
    }
    for (const [nodeName, pod] of byNode) {
      if (eligibleNames.has(nodeName)) continue;
      ctx.store.delete(ctx.rt.pods, ns, pod.metadata.name ?? "");
      byNode.delete(nodeName);
    }
    // RollingUpdate (maxUnavailable 1): replace one pod of an older template generation once all are ready.
    const generation = String(ds.metadata.generation ?? 1);
    const stale = (p: KubeObject) => p.metadata.labels?.["pod-template-generation"] !== generation;
    const current = [...byNode.values()].filter((p) => !isTerminal(p));
    const oldPod = current.find(stale);
    if (oldPod && current.every(isPodReady) && rec(rec(ds.spec).updateStrategy).type !== "OnDelete") {
      ctx.store.delete(ctx.rt.pods, ns, oldPod.metadata.name ?? "");
      for (const [nodeName, p] of byNode) if (p === oldPod) byNode.delete(nodeName);
    }
    const live = [...byNode.values()].filter((p) => !isTerminal(p));
    const scheduled = live.filter((p) => rec(p.spec).nodeName).length;
    const ready = live.filter(isPodReady).length;
    const status = {
      currentNumberScheduled: scheduled,
      desiredNumberScheduled: eligible.length,
      numberMisscheduled: 0,
      numberReady: ready,
      numberAvailable: ready,
      ...(eligible.length - ready > 0 ? { numberUnavailable: eligible.length - ready } : {}),
      updatedNumberScheduled: live.filter((p) => !stale(p)).length,
      observedGeneration: ds.metadata.generation,
    };
    ctx.store.update(ctx.rt.daemonsets, { ...ds, status }, { subresource: "status" });
  }
}

function pinnedNode(pod: KubeObject): string | undefined {
  const spec = rec(pod.spec);
  if (typeof spec.nodeName === "string" && spec.nodeName) return spec.nodeName;
  const terms = arr(
    rec(rec(rec(spec.affinity).nodeAffinity).requiredDuringSchedulingIgnoredDuringExecution)
      .nodeSelectorTerms,
  );
  const field = arr(terms[0]?.matchFields).find((f) => f.key === "metadata.name");
  return Array.isArray(field?.values) ? String(field.values[0]) : undefined;
}
