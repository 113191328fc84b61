// quarantine_pod: isolate a suspect pod (or every pod of its workload) for forensics while it keeps
// running. The labels its Services select are removed (it leaves their endpoints; its ReplicaSet
// releases it and starts a replacement), it is labelled aiops.prophet.io/quarantine=true, and a
// policy selecting that label cuts its traffic. With Cilium that policy is a
// CiliumClusterwideNetworkPolicy of deny rules, which win over every allow; without Cilium it is a
// Kubernetes NetworkPolicy, which can only add allows, so other policies' allows still apply.
// The release is undo(), on approval or when the quarantine-expires annotation passes.
import { z } from "zod";
import { selectorMatches, type KubeObject, type LabelSelector } from "../../diagnosis/objects.js";
import { parseDuration } from "../../duration.js";
import { defineAction, remediationAnnotations, type ActionContext, type ActionTarget } from "../action.js";
import { cannotWrite, rec, targetMissing } from "./workload-helpers.js";

export const QUARANTINED = "aiops.prophet.io/quarantine";
/** `strict` on pods quarantined with preserveProbes false: the strict policy selects them as well. */
export const QUARANTINE_MODE = "aiops.prophet.io/quarantine-mode";
export const QUARANTINE_EXPIRES = "aiops.prophet.io/quarantine-expires";
const SAVED_LABELS = "aiops.prophet.io/quarantine-labels";
const REASON = "aiops.prophet.io/quarantine-reason";
export const QUARANTINE_POLICY = "prophet-quarantine";
export const STRICT_QUARANTINE_POLICY = "prophet-quarantine-strict";
const CCNP = "CiliumClusterwideNetworkPolicy";
const CCNP_CRD = "ciliumclusterwidenetworkpolicies.cilium.io";
const MAX_TTL_SECONDS = 30 * 86_400;
export const NP_LEAK_WARNING =
  "Kubernetes NetworkPolicies only add allows: an allow in another NetworkPolicy that selects the pod can still let traffic through";

const params = z.strictObject({
  reason: z
    .string()
    .max(200)
    .optional()
    .describe("why the pod is quarantined (written as an annotation for responders)"),
  scope: z
    .enum(["pod", "owner"])
    .default("pod")
    .describe("pod: only the target pod; owner: every pod of its top workload (Deployment, StatefulSet …)"),
  preserveProbes: z
    .boolean()
    .default(true)
    .describe(
      "keep kubelet probes from the node and DNS to kube-dns working, so the pod is not restarted and its evidence lost",
    ),
  ttl: z
    .string()
    .refine((s) => (parseDuration(s) ?? Infinity) <= MAX_TTL_SECONDS, {
      message: 'a duration such as "4h" or "2d", at most 30d',
    })
    .optional()
    .describe("release the quarantine after this long (annotation aiops.prophet.io/quarantine-expires)"),
});

type Params = z.infer<typeof params>;

type Backend = "cilium" | "networkpolicy";
interface PolicyRef {
  kind: typeof CCNP | "NetworkPolicy";
  namespace?: string;
  name: string;
}
interface QuarantineUndo {
  pods: { name: string; labels: Record<string, string> }[];
  policy: PolicyRef;
  expiresAt?: string;
}

/** Whether the cluster serves CiliumClusterwideNetworkPolicy; an unreadable CRD counts as no. */
async function servesCilium(ctx: ActionContext): Promise<boolean> {
  try {
    if ((await ctx.cluster.list(CCNP)).length) return true;
    return (await ctx.cluster.get("CustomResourceDefinition", undefined, CCNP_CRD)) !== undefined;
  } catch {
    return false;
  }
}

/** Services in the pod's namespace whose selector picks the pod. */
async function servicesOf(ctx: ActionContext, pod: KubeObject): Promise<KubeObject[]> {
  const services = await ctx.cluster.list("Service", pod.metadata.namespace);
  const labels = pod.metadata.labels ?? {};
  return services.filter((s) => {
    const sel = rec(rec(s.spec).selector) as Record<string, string>;
    const keys = Object.keys(sel);
    return keys.length > 0 && keys.every((k) => labels[k] === sel[k]);
  });
}

/** The pod's labels any Service selects on: removing them takes it out of every Service. */
async function selectedLabels(
  ctx: ActionContext,
  pod: KubeObject,
): Promise<{ services: string[]; labels: Record<string, string> }> {
  const services = await servicesOf(ctx, pod);
  const labels: Record<string, string> = {};
  for (const s of services)
    for (const k of Object.keys(rec(rec(s.spec).selector))) labels[k] = pod.metadata.labels?.[k] ?? "";
  return { services: services.map((s) => s.metadata.name), labels };
}

/** The pod, or with scope "owner" every live pod its top workload's selector picks. */
async function podsInScope(
  ctx: ActionContext,
  pod: KubeObject,
  scope: Params["scope"],
): Promise<KubeObject[]> {
  if (scope !== "owner") return [pod];
  const ns = pod.metadata.namespace;
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller);
  let top = owner && (await ctx.cluster.get(owner.kind, ns, owner.name));
  // A ReplicaSet's own controller (the Deployment) is the workload.
  const parent = top?.metadata.ownerReferences?.find((o) => o.controller);
  if (parent) top = await ctx.cluster.get(parent.kind, ns, parent.name);
  const selector = rec(top?.spec).selector as LabelSelector | undefined;
  if (!selector) return [pod];
  const pods = (await ctx.cluster.list("Pod", ns)).filter(
    (p) =>
      !p.metadata.deletionTimestamp &&
      p.metadata.labels?.[QUARANTINED] !== "true" &&
      selectorMatches(selector, p.metadata.labels),
  );
  return pods.some((p) => p.metadata.name === pod.metadata.name) ? pods : [pod, ...pods];
}

function policyFor(backend: Backend, namespace: string, preserveProbes: boolean): PolicyRef {
  const name = preserveProbes ? QUARANTINE_POLICY : STRICT_QUARANTINE_POLICY;
  return backend === "cilium" ? { kind: CCNP, name } : { kind: "NetworkPolicy", namespace, name };
}

const KUBE_DNS = { "k8s-app": "kube-dns" };
const NS_KEY = "k8s:io.kubernetes.pod.namespace";

/**
 * The Cilium policy. Cilium matches endpoint selectors against every identity, the reserved ones
 * (host, world, remote-node …) included, and a bare `{}` in a clusterwide policy has meant "every
 * identity" in some versions. So pods are selected with `Exists` on the namespace label, which only
 * pods carry, and the reserved identities are named as entities: `host` (the kubelet's probes) is
 * left out of ingressDeny and explicitly allowed, so probes pass whatever `allow-localhost` says.
 * The egress selectors are the complement of kube-dns: everything outside kube-system, plus
 * kube-system without k8s-app=kube-dns (NotIn also matches a missing key). Deny rules alone would
 * put the pod into default deny, so DNS needs its allow too; replies to probes are not policed.
 */
export function ciliumQuarantinePolicy(ctx: ActionContext, preserveProbes: boolean): KubeObject {
  const selector: Record<string, unknown> = { matchLabels: { [`k8s:${QUARANTINED}`]: "true" } };
  if (!preserveProbes)
    selector.matchLabels = { ...rec(selector.matchLabels), [`k8s:${QUARANTINE_MODE}`]: "strict" };
  const spec: Record<string, unknown> = preserveProbes
    ? {
        endpointSelector: selector,
        ingressDeny: [
          { fromEndpoints: [{ matchExpressions: [{ key: NS_KEY, operator: "Exists" }] }] },
          // Not kube-apiserver: on a control-plane node the local host carries that label too.
          { fromEntities: ["world", "remote-node"] },
        ],
        egressDeny: [
          {
            toEndpoints: [
              { matchExpressions: [{ key: NS_KEY, operator: "NotIn", values: ["kube-system"] }] },
              {
                matchExpressions: [
                  { key: NS_KEY, operator: "In", values: ["kube-system"] },
                  { key: "k8s:k8s-app", operator: "NotIn", values: ["kube-dns"] },
                ],
              },
            ],
          },
          { toEntities: ["world", "host", "remote-node", "kube-apiserver"] },
        ],
        ingress: [{ fromEntities: ["host"] }],
        egress: [
          {
            toEndpoints: [{ matchLabels: { [NS_KEY]: "kube-system", "k8s:k8s-app": "kube-dns" } }],
            toPorts: [{ ports: [{ port: "53", protocol: "ANY" }] }],
          },
        ],
      }
    : {
        endpointSelector: selector,
        ingressDeny: [{ fromEntities: ["all"] }],
        egressDeny: [{ toEntities: ["all"] }],
      };
  return {
    apiVersion: "cilium.io/v2",
    kind: CCNP,
    metadata: {
      name: preserveProbes ? QUARANTINE_POLICY : STRICT_QUARANTINE_POLICY,
      labels: { "app.kubernetes.io/managed-by": "prophet" },
      annotations: remediationAnnotations(ctx, "quarantine_pod"),
    },
    spec,
  };
}

/**
 * The fallback: a NetworkPolicy in the pod's namespace that allows nothing in (the node's probes
 * pass anyway: NetworkPolicy never blocks the pod's own node) and, preserving, DNS out to kube-dns.
 * Allows add up across NetworkPolicies, so the preserving one must not select strict pods.
 */
function networkPolicy(ctx: ActionContext, namespace: string, preserveProbes: boolean): KubeObject {
  const podSelector = preserveProbes
    ? {
        matchLabels: { [QUARANTINED]: "true" },
        matchExpressions: [{ key: QUARANTINE_MODE, operator: "DoesNotExist" }],
      }
    : { matchLabels: { [QUARANTINED]: "true", [QUARANTINE_MODE]: "strict" } };
  const dns = {
    to: [
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
        podSelector: { matchLabels: KUBE_DNS },
      },
    ],
    ports: [
      { protocol: "UDP", port: 53 },
      { protocol: "TCP", port: 53 },
    ],
  };
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: {
      name: preserveProbes ? QUARANTINE_POLICY : STRICT_QUARANTINE_POLICY,
      namespace,
      labels: { "app.kubernetes.io/managed-by": "prophet" },
      annotations: remediationAnnotations(ctx, "quarantine_pod"),
    },
    spec: {
      podSelector,
      policyTypes: ["Ingress", "Egress"],
      ingress: [],
      egress: preserveProbes ? [dns] : [],
    },
  };
}

/**
 * The undo record. A release without one (the remediation's result is lost, or predates scope and
 * Cilium) still works: the pod's own annotation holds the labels it lost.
 */
function undoOf(
  t: ActionTarget,
  result: { undo?: Record<string, unknown> },
): Partial<QuarantineUndo> & {
  pods: QuarantineUndo["pods"];
} {
  const u = result.undo ?? {};
  if (Array.isArray(u.pods)) return u as unknown as QuarantineUndo;
  return { pods: [{ name: t.name, labels: rec(u.labels) as Record<string, string> }] };
}

/** The labels saved on the pod when it was quarantined. */
function savedLabels(pod: KubeObject): Record<string, string> {
  try {
    return rec(JSON.parse(pod.metadata.annotations?.[SAVED_LABELS] ?? "{}")) as Record<string, string>;
  } catch {
    return {};
  }
}

function describePolicy(p: PolicyRef): string {
  return p.namespace ? `${p.kind} ${p.namespace}/${p.name}` : `${p.kind} ${p.name}`;
}

/** Pods still selected by the policy: the policy stays while one is left. */
async function stillQuarantined(ctx: ActionContext, policy: PolicyRef): Promise<boolean> {
  const strict = policy.name === STRICT_QUARANTINE_POLICY;
  const pods = await ctx.cluster.list("Pod", policy.namespace, { labelSelector: `${QUARANTINED}=true` });
  return pods.some(
    (p) =>
      p.metadata.labels?.[QUARANTINED] === "true" &&
      (!strict || p.metadata.labels[QUARANTINE_MODE] === "strict") &&
      // The NetworkPolicy for preserving pods does not select strict ones.
      (strict || policy.kind === CCNP || p.metadata.labels[QUARANTINE_MODE] === undefined),
  );
}

export const quarantinePod = defineAction<Params>({
  name: "quarantine_pod",
  description:
    "Isolates a pod (or every pod of its workload) for forensics: it leaves its Services and its controller (a replacement starts), is labelled aiops.prophet.io/quarantine=true, and a Cilium deny policy (or, without Cilium, a deny-all NetworkPolicy) cuts its traffic; it keeps running, with kubelet probes and DNS kept unless preserveProbes is false.",
  whenToUse:
    "A pod suspected compromised or misbehaving dangerously (port scans, unexpected egress, DNS tunnelling, crypto-mining, data exfiltration) whose state must be kept for investigation; scope owner when every replica is suspect.",
  whenNotToUse:
    "Ordinary failures (restart_pod); clusters whose CNI enforces neither Cilium policies nor NetworkPolicy.",
  targetKinds: ["Pod"],
  scope: "pod",
  requiresApproval: false,
  readOnly: false,
  params,
  async check(ctx, t, p) {
    const pod = await ctx.cluster.get("Pod", t.namespace, t.name);
    if (!pod) return targetMissing(t);
    if (pod.metadata.labels?.[QUARANTINED] === "true")
      return {
        ok: false,
        failure: "precondition",
        detail: `Pod ${t.namespace}/${t.name} is already quarantined`,
      };
    const blocked = cannotWrite(ctx, "patch", "create");
    if (blocked) return blocked;
    const pods = await podsInScope(ctx, pod, p.scope);
    const { services } = await selectedLabels(ctx, pod);
    const cilium = await servesCilium(ctx);
    const policy = policyFor(cilium ? "cilium" : "networkpolicy", t.namespace, p.preserveProbes);
    return {
      ok: true,
      detail: [
        pods.length > 1 ? `${pods.length} pods of the workload quarantined` : `Pod ${t.namespace}/${t.name}`,
        services.length ? `leaves Service(s) ${services.join(", ")}` : "no Service selects it",
        `isolated by ${describePolicy(policy)}${cilium ? " (deny rules)" : `; ${NP_LEAK_WARNING}`}`,
      ].join("; "),
    };
  },
  async execute(ctx, t, p) {
    const pod = await ctx.cluster.get("Pod", t.namespace, t.name);
    if (!pod) throw new Error(`Pod ${t.namespace}/${t.name} not found`);
    const cilium = await servesCilium(ctx);
    const policy = policyFor(cilium ? "cilium" : "networkpolicy", t.namespace, p.preserveProbes);
    const changes: string[] = [];
    const created: string[] = [];
    // The policy first: the pods are cut off before they are relabelled out of their Services.
    if (!(await ctx.cluster.get(policy.kind, policy.namespace, policy.name))) {
      const obj = cilium
        ? ciliumQuarantinePolicy(ctx, p.preserveProbes)
        : networkPolicy(ctx, t.namespace, p.preserveProbes);
      await ctx.cluster.create!(policy.kind, policy.namespace, obj);
      created.push(
        policy.namespace
          ? `${policy.kind}/${policy.namespace}/${policy.name}`
          : `${policy.kind}/${policy.name}`,
      );
      changes.push(
        `created ${describePolicy(policy)} ${cilium ? "denying" : "allowing no"} traffic of ${QUARANTINED}=true pods` +
          (p.preserveProbes ? " except kubelet probes and DNS to kube-dns" : ""),
      );
    }
    if (!cilium) changes.push(`warning: no Cilium CRDs, fell back to a NetworkPolicy; ${NP_LEAK_WARNING}`);
    const expiresAt = p.ttl
      ? new Date(ctx.clock.now().getTime() + (parseDuration(p.ttl) ?? 0) * 1000).toISOString()
      : undefined;
    const undo: QuarantineUndo = { pods: [], policy, ...(expiresAt ? { expiresAt } : {}) };
    for (const target of await podsInScope(ctx, pod, p.scope)) {
      const name = target.metadata.name;
      const { services, labels } = await selectedLabels(ctx, target);
      const removed = Object.fromEntries(Object.keys(labels).map((k) => [k, null]));
      await ctx.cluster.patch!("Pod", t.namespace, name, {
        metadata: {
          labels: {
            ...removed,
            [QUARANTINED]: "true",
            ...(p.preserveProbes ? {} : { [QUARANTINE_MODE]: "strict" }),
          },
          annotations: {
            ...remediationAnnotations(ctx, "quarantine_pod"),
            [SAVED_LABELS]: JSON.stringify(labels),
            ...(p.reason ? { [REASON]: p.reason } : {}),
            ...(expiresAt ? { [QUARANTINE_EXPIRES]: expiresAt } : {}),
          },
        },
      });
      undo.pods.push({ name, labels });
      changes.push(
        `Pod ${t.namespace}/${name} labelled ${QUARANTINED}=true` +
          (services.length
            ? `, removed ${Object.keys(labels).join(", ")} (out of Service(s) ${services.join(", ")})`
            : "") +
          (expiresAt ? `, expires ${expiresAt}` : ""),
      );
    }
    return { changes, created, undo: { ...undo } };
  },
  async verify(ctx, t, _p, result) {
    const u = undoOf(t, result);
    if (!u.policy) return { ok: false, detail: "the result records no quarantine policy" };
    const policyRef = u.policy;
    for (const { name } of u.pods) {
      const pod = await ctx.cluster.get("Pod", t.namespace, name);
      if (!pod)
        return { ok: false, detail: `quarantined Pod ${t.namespace}/${name} is gone (evidence lost)` };
      if (pod.metadata.labels?.[QUARANTINED] !== "true")
        return { ok: false, detail: `Pod ${t.namespace}/${name} is not labelled ${QUARANTINED}=true` };
      const services = await servicesOf(ctx, pod);
      if (services.length)
        return {
          ok: false,
          detail: `Service(s) ${services.map((s) => s.metadata.name).join(", ")} still select Pod ${t.namespace}/${name}`,
        };
    }
    if (!(await ctx.cluster.get(policyRef.kind, policyRef.namespace, policyRef.name)))
      return { ok: false, detail: `${describePolicy(policyRef)} is missing` };
    return {
      ok: true,
      detail: `${u.pods.length} pod(s) out of every Service and under ${describePolicy(policyRef)}${
        policyRef.kind === "NetworkPolicy" ? `; ${NP_LEAK_WARNING}` : ""
      }`,
    };
  },
  async undo(ctx, t: ActionTarget, result) {
    const u = undoOf(t, result);
    const changes: string[] = [];
    for (const { name, labels } of u.pods) {
      const pod = await ctx.cluster.get("Pod", t.namespace, name);
      // Released already (a second undo, or another pod of the same owner-scope release).
      if (pod?.metadata.labels?.[QUARANTINED] !== "true") continue;
      const restore = Object.keys(labels).length ? labels : savedLabels(pod);
      await ctx.cluster.patch!("Pod", t.namespace, name, {
        metadata: {
          labels: { ...restore, [QUARANTINED]: null, [QUARANTINE_MODE]: null },
          annotations: { [SAVED_LABELS]: null, [QUARANTINE_EXPIRES]: null, [REASON]: null },
        },
      });
      changes.push(`Pod ${t.namespace}/${name} released, labels restored`);
    }
    // Every quarantine policy Prophet made that selects no pod any more goes, whoever created it.
    for (const backend of ["cilium", "networkpolicy"] as const)
      for (const preserve of [true, false]) {
        const ref = policyFor(backend, t.namespace, preserve);
        // A cluster without Cilium, or an RBAC role without cilium.io, answers 404 or 403.
        const policy = await ctx.cluster.get(ref.kind, ref.namespace, ref.name).catch(() => undefined);
        if (policy?.metadata.labels?.["app.kubernetes.io/managed-by"] !== "prophet") continue;
        if (await stillQuarantined(ctx, ref)) continue;
        await ctx.cluster.delete!(ref.kind, ref.namespace, ref.name);
        changes.push(`deleted ${describePolicy(ref)}`);
      }
    return { changes };
  },
});
