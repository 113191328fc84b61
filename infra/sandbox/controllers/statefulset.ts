// StatefulSet pods with stable names (<set>-<ordinal>), one PVC per volumeClaimTemplate and
// ordinal, OrderedReady creation (the next pod only once the previous is Running and Ready),
// scale-down from the highest ordinal, and a one-at-a-time rolling update from the top.
import { templateHash } from "../apiserver/controllers/workloads.js";
import { isPodReady } from "../apiserver/disruption.js";
import type { KubeObject } from "../apiserver/types.js";
import { arr, rec, type SimContext } from "./context.js";

const REVISION = "controller-revision-hash";

function owner(set: KubeObject) {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    name: set.metadata.name ?? "",
    uid: set.metadata.uid ?? "",
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function reconcileStatefulSets(ctx: SimContext): void {
  for (const set of ctx.store.list(ctx.rt.statefulsets)) {
    if (set.metadata.deletionTimestamp) continue;
    const ns = set.metadata.namespace ?? "";
    const name = set.metadata.name ?? "";
    const spec = rec(set.spec);
    const replicas = typeof spec.replicas === "number" ? spec.replicas : 1;
    const template = rec(spec.template);
    const revision = `${name}-${templateHash(template).slice(0, 10)}`;
    const ordered = (spec.podManagementPolicy ?? "OrderedReady") === "OrderedReady";
    const pods = ctx.store
      .list(ctx.rt.pods, { namespace: ns })
      .filter((p) => p.metadata.ownerReferences?.some((o) => o.uid === set.metadata.uid));
    const byOrdinal = new Map(pods.map((p) => [Number(p.metadata.name?.slice(name.length + 1)), p]));
    for (let i = 0; i < replicas; i++) {
      if (byOrdinal.has(i)) continue;
      if (ordered && i > 0) {
        const prev = byOrdinal.get(i - 1);
        if (!prev || !isPodReady(prev)) break;
      }
      const podName = `${name}-${i}`;
      const volumes = arr(rec(template.spec).volumes);
      for (const tpl of arr(spec.volumeClaimTemplates)) {
        const claim = `${String(rec(tpl.metadata).name)}-${podName}`;
        if (!ctx.store.get(ctx.rt.pvcs, ns, claim)) {
          ctx.store.create(ctx.rt.pvcs, {
            apiVersion: "v1",
            kind: "PersistentVolumeClaim",
            metadata: {
              name: claim,
              namespace: ns,
              labels: rec(rec(template.metadata).labels) as Record<string, string>,
            },
            spec: rec(tpl.spec),
          });
        }
        volumes.push({ name: String(rec(tpl.metadata).name), persistentVolumeClaim: { claimName: claim } });
      }
      const pod = ctx.store.create(ctx.rt.pods, {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
          name: podName,
          namespace: ns,
          labels: {
            ...(rec(rec(template.metadata).labels) as Record<string, string>),
            [REVISION]: revision,
            "statefulset.kubernetes.io/pod-name": podName,
            "apps.kubernetes.io/pod-index": String(i),
          },
          ownerReferences: [owner(set)],
        },
        spec: {
          ...structuredClone(rec(template.spec)),
          ...(volumes.length ? { volumes } : {}),
          hostname: podName,
          subdomain: spec.serviceName,
        },
      });
      byOrdinal.set(i, pod);
      ctx.event(
        set,
        "Normal",
        "SuccessfulCreate",
        `create Pod ${podName} in StatefulSet ${name} successful`,
        {
          component: "statefulset-controller",
        },
      );
      if (ordered) break;
    }
    // Scale down from the top, one at a time when ordered.
    const extra = [...byOrdinal.keys()].filter((i) => i >= replicas).sort((a, b) => b - a);
    for (const i of ordered ? extra.slice(0, 1) : extra) {
      const p = byOrdinal.get(i);
      if (!p) continue;
      ctx.store.delete(ctx.rt.pods, ns, p.metadata.name ?? "");
      byOrdinal.delete(i);
      ctx.event(
        set,
        "Normal",
        "SuccessfulDelete",
        `delete Pod ${p.metadata.name} in StatefulSet ${name} successful`,
        {
          component: "statefulset-controller",
        },
      );
    }
    // RollingUpdate: replace the highest-ordinal stale pod once every pod is ready.
    const live = [...byOrdinal.entries()].sort((a, b) => b[0] - a[0]);
    const allReady = live.length === replicas && live.every(([, p]) => isPodReady(p));
    const stale = live.find(([, p]) => p.metadata.labels?.[REVISION] !== revision);
    if (allReady && stale && rec(spec.updateStrategy).type !== "OnDelete")
      ctx.store.delete(ctx.rt.pods, ns, stale[1].metadata.name ?? "");
    const current = live.map(([, p]) => p);
    const ready = current.filter(isPodReady).length;
    const updated = current.filter((p) => p.metadata.labels?.[REVISION] === revision).length;
    const status = {
      observedGeneration: set.metadata.generation,
      replicas: current.length,
      readyReplicas: ready,
      currentReplicas: updated,
      updatedReplicas: updated,
      availableReplicas: ready,
      currentRevision: revision,
      updateRevision: revision,
      collisionCount: 0,
    };
    ctx.store.update(ctx.rt.statefulsets, { ...set, status }, { subresource: "status" });
  }
}
