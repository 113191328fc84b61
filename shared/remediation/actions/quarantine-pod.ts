// quarantine_pod: take one pod out of its Services and its controller, and cut its network, but keep
// it running for forensics. The labels its Services select on are removed (its ReplicaSet then
// releases it and starts a replacement) and a deny-all NetworkPolicy selects quarantined pods.
import { z } from "zod";
import type { KubeObject } from "../../diagnosis/objects.js";
import { defineAction, remediationAnnotations, type ActionContext, type ActionTarget } from "../action.js";
import { cannotWrite, rec, targetMissing } from "./workload-helpers.js";

export const QUARANTINED = "aiops.prophet.io/quarantined";
const SAVED_LABELS = "aiops.prophet.io/quarantined-labels";
export const QUARANTINE_POLICY = "prophet-quarantine";

const params = z.strictObject({
  reason: z
    .string()
    .max(200)
    .optional()
    .describe("why the pod is quarantined (written as an annotation for responders)"),
});

type Params = z.infer<typeof params>;

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

function denyAll(ctx: ActionContext, namespace: string): KubeObject {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: {
      name: QUARANTINE_POLICY,
      namespace,
      labels: { "app.kubernetes.io/managed-by": "prophet" },
      annotations: remediationAnnotations(ctx, "quarantine_pod"),
    },
    spec: { podSelector: { matchLabels: { [QUARANTINED]: "true" } }, policyTypes: ["Ingress", "Egress"] },
  };
}

export const quarantinePod = defineAction<Params>({
  name: "quarantine_pod",
  description:
    "Isolates one pod for forensics: removes the labels its Services select (its controller starts a replacement) and applies a deny-all NetworkPolicy to it; the pod keeps running.",
  whenToUse:
    "A pod suspected compromised or misbehaving dangerously (port scans, unexpected egress, crypto-mining, data exfiltration) whose state must be kept for investigation.",
  whenNotToUse:
    "Ordinary failures (restart_pod); a whole workload compromised (isolate the workload's network instead); pods in a namespace whose CNI does not enforce NetworkPolicy.",
  targetKinds: ["Pod"],
  scope: "pod",
  requiresApproval: false,
  readOnly: false,
  params,
  async check(ctx, t) {
    const pod = await ctx.cluster.get("Pod", t.namespace, t.name);
    if (!pod) return targetMissing(t);
    if (pod.metadata.labels?.[QUARANTINED] === "true")
      return {
        ok: false,
        failure: "precondition",
        detail: `Pod ${t.namespace}/${t.name} is already quarantined`,
      };
    const { services } = await selectedLabels(ctx, pod);
    const blocked = cannotWrite(ctx, "patch", "create");
    if (blocked) return blocked;
    return {
      ok: true,
      detail: services.length
        ? `Pod leaves Service(s) ${services.join(", ")}; network isolated`
        : "no Service selects the pod; network isolated",
    };
  },
  async execute(ctx, t, p) {
    const pod = await ctx.cluster.get("Pod", t.namespace, t.name);
    if (!pod) throw new Error(`Pod ${t.namespace}/${t.name} not found`);
    const { services, labels } = await selectedLabels(ctx, pod);
    const changes: string[] = [];
    const created: string[] = [];
    // The policy first: the pod is cut off before it is relabelled into its selector.
    let policyCreated = false;
    if (!(await ctx.cluster.get("NetworkPolicy", t.namespace, QUARANTINE_POLICY))) {
      await ctx.cluster.create!("NetworkPolicy", t.namespace, denyAll(ctx, t.namespace));
      policyCreated = true;
      created.push(`NetworkPolicy/${t.namespace}/${QUARANTINE_POLICY}`);
      changes.push(
        `created deny-all NetworkPolicy ${t.namespace}/${QUARANTINE_POLICY} for ${QUARANTINED}=true pods`,
      );
    }
    const removed = Object.fromEntries(Object.keys(labels).map((k) => [k, null]));
    await ctx.cluster.patch!("Pod", t.namespace, t.name, {
      metadata: {
        labels: { ...removed, [QUARANTINED]: "true" },
        annotations: {
          ...remediationAnnotations(ctx, "quarantine_pod"),
          [SAVED_LABELS]: JSON.stringify(labels),
          ...(p.reason ? { "aiops.prophet.io/quarantine-reason": p.reason } : {}),
        },
      },
    });
    changes.push(
      `Pod ${t.namespace}/${t.name} labelled ${QUARANTINED}=true` +
        (services.length
          ? `, removed ${Object.keys(labels).join(", ")} (out of Service(s) ${services.join(", ")})`
          : ""),
    );
    return { changes, created, undo: { labels, policyCreated } };
  },
  async verify(ctx, t) {
    const pod = await ctx.cluster.get("Pod", t.namespace, t.name);
    if (!pod) return { ok: false, detail: "the quarantined pod is gone (evidence lost)" };
    if (pod.metadata.labels?.[QUARANTINED] !== "true")
      return { ok: false, detail: "the pod is not labelled quarantined" };
    const services = await servicesOf(ctx, pod);
    if (services.length)
      return {
        ok: false,
        detail: `Service(s) ${services.map((s) => s.metadata.name).join(", ")} still select the pod`,
      };
    const policy = await ctx.cluster.get("NetworkPolicy", t.namespace, QUARANTINE_POLICY);
    if (!policy) return { ok: false, detail: `NetworkPolicy ${t.namespace}/${QUARANTINE_POLICY} is missing` };
    return { ok: true, detail: "the pod is out of every Service and under the deny-all NetworkPolicy" };
  },
  async undo(ctx, t: ActionTarget, result) {
    const u = result.undo as { labels: Record<string, string>; policyCreated: boolean };
    const changes: string[] = [];
    if (await ctx.cluster.get("Pod", t.namespace, t.name)) {
      await ctx.cluster.patch!("Pod", t.namespace, t.name, {
        metadata: { labels: { ...u.labels, [QUARANTINED]: null }, annotations: { [SAVED_LABELS]: null } },
      });
      changes.push(`Pod ${t.namespace}/${t.name} labels restored`);
    }
    const stillQuarantined = (await ctx.cluster.list("Pod", t.namespace)).some(
      (p) => p.metadata.labels?.[QUARANTINED] === "true",
    );
    if (u.policyCreated && !stillQuarantined) {
      await ctx.cluster.delete!("NetworkPolicy", t.namespace, QUARANTINE_POLICY);
      changes.push(`deleted NetworkPolicy ${t.namespace}/${QUARANTINE_POLICY}`);
    }
    return { changes };
  },
});
