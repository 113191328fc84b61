// update_network_policy: create or update one NetworkPolicy that Prophet owns (`prophet-<name>`,
// labelled app.kubernetes.io/managed-by=prophet). User policies are never changed or deleted.
// NetworkPolicies only ever add allowed traffic once a pod is isolated, so each change is written
// to be safe on its own: a deny keeps all other egress open, and an allow is refused for pods that
// are not isolated yet (it would cut every other connection).
import { z } from "zod";
import type { KubeObject, LabelSelector } from "../../diagnosis/objects.js";
import { selectorMatches } from "../../diagnosis/objects.js";
import { canonicalJson } from "../../store/audit.js";
import {
  defineAction,
  remediationAnnotations,
  specHash,
  type ActionContext,
  type ActionTarget,
  type CheckResult,
} from "../action.js";

const labels = z.record(z.string().max(317), z.string().max(63));
const cidr = z.union([z.cidrv4(), z.cidrv6()]);
const ports = z
  .array(
    z.strictObject({
      port: z.number().int().min(1).max(65535).describe("destination port"),
      protocol: z.enum(["TCP", "UDP", "SCTP"]).default("TCP").describe("default TCP"),
    }),
  )
  .max(10)
  .optional()
  .describe("only these ports; all ports when absent");

const change = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("denyEgressTo"),
    cidr: cidr.describe(
      "block egress to this CIDR (e.g. an attacker's 185.220.101.47/32); all other egress stays open",
    ),
  }),
  z.strictObject({
    type: z.literal("allowEgressTo"),
    cidr: cidr.describe("allow egress to this CIDR for pods whose egress is already restricted by a policy"),
    ports,
  }),
  z.strictObject({
    type: z.literal("allowFrom"),
    podSelector: labels.describe("allow ingress from pods with these labels"),
    namespaceSelector: labels
      .optional()
      .describe("in namespaces with these labels; absent: the target's namespace only"),
    ports,
  }),
]);

const params = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
    .max(50)
    .describe("short name; the policy is called prophet-<name> in the target's namespace"),
  podSelector: labels
    .optional()
    .describe(
      "labels of the pods the policy applies to; default: the target workload's pod selector, or every pod of a Namespace target",
    ),
  change: change.describe("the one change this policy makes"),
});

type Params = z.infer<typeof params>;

const managedBy = "app.kubernetes.io/managed-by";

export const policyName = (p: Params) => `prophet-${p.name}`;

const namespaceOf = (t: ActionTarget) => (t.kind === "Namespace" ? t.name : t.namespace);

const anyIp = (c: string) => (c.includes(":") ? "::/0" : "0.0.0.0/0");

/** The NetworkPolicy spec for one change. */
export function policySpec(selector: LabelSelector, c: Params["change"]): Record<string, unknown> {
  const portList = "ports" in c && c.ports ? { ports: c.ports } : {};
  switch (c.type) {
    case "denyEgressTo":
      return {
        podSelector: selector,
        policyTypes: ["Egress"],
        egress: [
          {
            to: [
              { ipBlock: { cidr: anyIp(c.cidr), except: [c.cidr] } },
              { ipBlock: { cidr: anyIp(c.cidr) === "::/0" ? "0.0.0.0/0" : "::/0" } },
              { namespaceSelector: {} },
            ],
          },
        ],
      };
    case "allowEgressTo":
      return {
        podSelector: selector,
        policyTypes: ["Egress"],
        egress: [{ to: [{ ipBlock: { cidr: c.cidr } }], ...portList }],
      };
    case "allowFrom":
      return {
        podSelector: selector,
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [
              {
                podSelector: { matchLabels: c.podSelector },
                ...(c.namespaceSelector ? { namespaceSelector: { matchLabels: c.namespaceSelector } } : {}),
              },
            ],
            ...portList,
          },
        ],
      };
  }
}

async function podSelectorFor(
  ctx: ActionContext,
  t: ActionTarget,
  p: Params,
): Promise<LabelSelector | undefined> {
  if (p.podSelector) return { matchLabels: p.podSelector };
  if (t.kind === "Namespace") return (await ctx.cluster.get("Namespace", undefined, t.name)) ? {} : undefined;
  const w = await ctx.cluster.get(t.kind, t.namespace, t.name);
  if (!w) return undefined;
  const sel = (w.spec as { selector?: LabelSelector } | undefined)?.selector;
  return {
    matchLabels: { ...sel?.matchLabels },
    ...(sel?.matchExpressions ? { matchExpressions: sel.matchExpressions } : {}),
  };
}

function policyTypes(np: KubeObject): string[] {
  const spec = (np.spec ?? {}) as { policyTypes?: string[]; egress?: unknown };
  return spec.policyTypes ?? (spec.egress ? ["Ingress", "Egress"] : ["Ingress"]);
}

async function checkPolicy(ctx: ActionContext, t: ActionTarget, p: Params): Promise<CheckResult> {
  const ns = namespaceOf(t);
  const selector = await podSelectorFor(ctx, t, p);
  if (!selector)
    return {
      ok: false,
      failure: "target_missing",
      detail: `${t.kind} ${t.namespace ? `${t.namespace}/` : ""}${t.name} not found`,
    };
  const name = policyName(p);
  const existing = await ctx.cluster.get("NetworkPolicy", ns, name);
  if (existing && existing.metadata.labels?.[managedBy] !== "prophet")
    return {
      ok: false,
      failure: "precondition",
      detail: `NetworkPolicy ${ns}/${name} exists and is not Prophet's (no ${managedBy}=prophet label); choose another name`,
    };
  if (p.change.type === "denyEgressTo") {
    const prefix = Number(p.change.cidr.split("/")[1]);
    const min = p.change.cidr.includes(":") ? 32 : 8;
    if (prefix < min)
      return {
        ok: false,
        failure: "blast_radius",
        detail: `denying egress to ${p.change.cidr} blocks too much (prefix shorter than /${min})`,
      };
    return { ok: true, detail: `NetworkPolicy ${ns}/${name}: deny egress to ${p.change.cidr}` };
  }
  // An allow rule isolates the pods it selects: only add one where they are isolated already.
  const direction = p.change.type === "allowFrom" ? "Ingress" : "Egress";
  const pods = (await ctx.cluster.list("Pod", ns)).filter((pod) =>
    selectorMatches(selector, pod.metadata.labels),
  );
  if (pods.length === 0)
    return { ok: false, failure: "precondition", detail: `no pods in ${ns} match the policy's pod selector` };
  const others = (await ctx.cluster.list("NetworkPolicy", ns)).filter(
    (np) => np.metadata.name !== name && policyTypes(np).includes(direction),
  );
  const open = pods.filter(
    (pod) =>
      !others.some((np) =>
        selectorMatches((np.spec as { podSelector?: LabelSelector }).podSelector ?? {}, pod.metadata.labels),
      ),
  );
  if (open.length)
    return {
      ok: false,
      failure: "precondition",
      detail: `pod(s) ${open
        .slice(0, 5)
        .map((x) => `${ns}/${x.metadata.name}`)
        .join(
          ", ",
        )} are not isolated for ${direction.toLowerCase()}: an allow policy would deny all their other ${direction.toLowerCase()} traffic`,
    };
  return { ok: true, detail: `NetworkPolicy ${ns}/${name}: ${p.change.type}` };
}

export const updateNetworkPolicy = defineAction<Params>({
  name: "update_network_policy",
  description:
    "Creates or updates the NetworkPolicy prophet-<name> that Prophet owns in the target's namespace, with one change: deny egress to a CIDR (all other egress stays open), or allow egress to a CIDR or ingress from labelled pods where a policy already restricts that direction. Never changes or deletes user policies. Undo deletes the policy or restores its previous spec.",
  whenToUse:
    "Contain a compromised or misbehaving pod (connections to a known-bad address: denyEgressTo), or restore traffic a default-deny policy blocks by mistake (allowFrom, allowEgressTo), where the flows show exactly what to allow or block.",
  whenNotToUse:
    "DNS or Service problems that are not policy verdicts; to allow traffic to pods no policy isolates (it is already allowed); broad denies (more than a /8); when another policy explicitly allows the address (policies are additive, a deny cannot override an allow).",
  targetKinds: ["Namespace", "Deployment", "StatefulSet", "DaemonSet"],
  scope: "network",
  requiresApproval: true,
  readOnly: false,
  params,
  check: checkPolicy,
  async execute(ctx, t, p) {
    const ns = namespaceOf(t);
    const name = policyName(p);
    const selector = (await podSelectorFor(ctx, t, p)) ?? {};
    const spec = policySpec(selector, p.change);
    const existing = await ctx.cluster.get("NetworkPolicy", ns, name);
    const metadata = {
      name,
      namespace: ns,
      labels: { [managedBy]: "prophet" },
      annotations: remediationAnnotations(ctx, "update_network_policy"),
    };
    const after = existing
      ? await ctx.cluster.patch!("NetworkPolicy", ns, name, {
          metadata,
          spec: { ingress: null, egress: null, ...spec },
        })
      : await ctx.cluster.create!("NetworkPolicy", ns, { kind: "NetworkPolicy", metadata, spec });
    return {
      changes: [
        `${existing ? "updated" : "created"} NetworkPolicy ${ns}/${name}: ${describeChange(p.change)}`,
      ],
      specHashBefore: specHash(existing),
      specHashAfter: specHash(after),
      undo: { policy: name, namespace: ns, previousSpec: existing ? (existing.spec ?? {}) : null },
      created: existing ? [] : [`NetworkPolicy/${ns}/${name}`],
    };
  },
  async verify(ctx, t, p) {
    const ns = namespaceOf(t);
    const np = await ctx.cluster.get("NetworkPolicy", ns, policyName(p));
    if (!np) return { ok: false, detail: `NetworkPolicy ${ns}/${policyName(p)} not found` };
    const want = policySpec((await podSelectorFor(ctx, t, p)) ?? {}, p.change);
    const have = Object.fromEntries(
      Object.keys(want).map((k) => [k, (np.spec as Record<string, unknown>)?.[k]]),
    );
    return canonicalJson(have) === canonicalJson(want)
      ? { ok: true, detail: `NetworkPolicy ${ns}/${policyName(p)} is in place: ${describeChange(p.change)}` }
      : { ok: false, detail: `NetworkPolicy ${ns}/${policyName(p)} differs from what was written` };
  },
  async undo(ctx, t, result) {
    const ns = String(result.undo?.namespace ?? namespaceOf(t));
    const name = String(result.undo?.policy ?? "");
    const previous = result.undo?.previousSpec as Record<string, unknown> | null | undefined;
    if (!previous) {
      await ctx.cluster.delete!("NetworkPolicy", ns, name);
      return { changes: [`deleted NetworkPolicy ${ns}/${name}`] };
    }
    await ctx.cluster.patch!("NetworkPolicy", ns, name, {
      spec: { ingress: null, egress: null, ...previous },
    });
    return { changes: [`restored NetworkPolicy ${ns}/${name} to its previous spec`] };
  },
});

function describeChange(c: Params["change"]): string {
  switch (c.type) {
    case "denyEgressTo":
      return `deny egress to ${c.cidr}`;
    case "allowEgressTo":
      return `allow egress to ${c.cidr}`;
    case "allowFrom":
      return `allow ingress from pods ${Object.entries(c.podSelector)
        .map(([k, v]) => `${k}=${v}`)
        .join(",")}`;
  }
}
