// restart_network: rolling restart of a cluster networking component (CNI agent, kube-proxy,
// cluster DNS), as `kubectl rollout restart` does: a new restartedAt annotation on the pod template.
import { z } from "zod";
import {
  defineAction,
  remediationAnnotations,
  specHash,
  type ActionContext,
  type ActionTarget,
} from "../action.js";

const params = z.strictObject({});

type Params = z.infer<typeof params>;

/** The only workloads this action restarts (namespace → names). */
export const networkComponents: Readonly<Record<string, readonly string[]>> = {
  "kube-system": [
    "coredns",
    "kube-dns",
    "node-local-dns",
    "kube-proxy",
    "cilium",
    "cilium-operator",
    "aws-node",
    "calico-node",
    "calico-kube-controllers",
    "kube-router",
    "kube-flannel-ds",
    "weave-net",
    "antrea-agent",
  ],
  "calico-system": ["calico-node", "calico-kube-controllers", "calico-typha"],
  "kube-flannel": ["kube-flannel-ds"],
};

const restartedAt = "kubectl.kubernetes.io/restartedAt";

async function read(ctx: ActionContext, t: ActionTarget) {
  return ctx.cluster.get(t.kind, t.namespace, t.name);
}

export const restartNetwork = defineAction<Params>({
  name: "restart_network",
  description:
    "Rolling-restarts one cluster networking component — CoreDNS, node-local-dns, kube-proxy or a CNI agent (cilium, aws-node, calico, flannel…) on an allow-list — like kubectl rollout restart. No undo (a restart cannot be reversed).",
  whenToUse:
    "Cluster-wide DNS failures or timeouts, or pod networking broken on many nodes (CNI agent errors, stale iptables/eBPF state, IP exhaustion in aws-node) after the component's own pods look stuck.",
  whenNotToUse:
    "Problems of one application's pods or Services (restart that workload instead); NetworkPolicy denials (use update_network_policy); when the component is crash-looping because of its configuration (a restart changes nothing).",
  targetKinds: ["Deployment", "DaemonSet"],
  scope: "network",
  requiresApproval: true,
  readOnly: false,
  params,
  async check(ctx, t) {
    const allowed = networkComponents[t.namespace]?.includes(t.name) ?? false;
    if (!allowed)
      return {
        ok: false,
        failure: "precondition",
        detail: `${t.kind} ${t.namespace}/${t.name} is not a known networking component (${Object.entries(
          networkComponents,
        )
          .map(([ns, names]) => `${ns}: ${names.join(", ")}`)
          .join("; ")})`,
      };
    if (!(await read(ctx, t)))
      return { ok: false, failure: "target_missing", detail: `${t.kind} ${t.namespace}/${t.name} not found` };
    return { ok: true, detail: `rolling restart of ${t.kind} ${t.namespace}/${t.name}` };
  },
  async execute(ctx, t) {
    const before = await read(ctx, t);
    const at = ctx.clock.now().toISOString();
    await ctx.cluster.patch!(t.kind, t.namespace, t.name, {
      metadata: { annotations: remediationAnnotations(ctx, "restart_network") },
      spec: { template: { metadata: { annotations: { [restartedAt]: at } } } },
    });
    const after = await read(ctx, t);
    return {
      changes: [`${t.kind} ${t.namespace}/${t.name} restarted (${restartedAt}=${at})`],
      specHashBefore: specHash(before),
      specHashAfter: specHash(after),
      undo: { restartedAt: at, generation: (after?.metadata as { generation?: number })?.generation },
    };
  },
  async verify(ctx, t, _p, result) {
    const obj = await read(ctx, t);
    if (!obj) return { ok: false, detail: `${t.kind} ${t.namespace}/${t.name} is gone` };
    const generation = (obj.metadata as { generation?: number }).generation ?? 0;
    const s = (obj.status ?? {}) as Record<string, number | undefined>;
    if ((s.observedGeneration ?? 0) < Number(result.undo?.generation ?? generation))
      return { ok: false, detail: "the controller has not seen the restart yet" };
    const [want, updated, available] =
      t.kind === "DaemonSet"
        ? [s.desiredNumberScheduled ?? 0, s.updatedNumberScheduled ?? 0, s.numberAvailable ?? 0]
        : [
            (obj.spec as { replicas?: number })?.replicas ?? 1,
            s.updatedReplicas ?? 0,
            s.availableReplicas ?? 0,
          ];
    const old = t.kind === "DaemonSet" ? 0 : (s.replicas ?? 0) - updated;
    return updated >= want && available >= want && old <= 0
      ? { ok: true, detail: `${updated}/${want} pods restarted and available` }
      : { ok: false, detail: `rollout in progress: ${updated}/${want} updated, ${available} available` };
  },
});
