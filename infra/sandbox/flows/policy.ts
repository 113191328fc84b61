// The simulated datapath's policy verdicts from NetworkPolicy (networking.k8s.io/v1),
// CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy (cilium.io/v2) objects. An endpoint
// selected by any policy for a direction is default-deny in that direction; traffic passes when
// some rule allows it on both the sender's egress and the receiver's ingress; Cilium deny rules
// (ingressDeny/egressDeny) win over every allow. The pod's own node (entity `host`: kubelet
// probes) may always reach it unless a deny rule says otherwise, as NetworkPolicy specifies and
// Cilium's allow-localhost does. Limits: see README.md.
import type { ObjectStore } from "../apiserver/store.js";
import type { KubeObject } from "../apiserver/types.js";
import { matcherFromSpec, type LabelSelectorSpec } from "../apiserver/selectors.js";
import { arr, rec, type Obj } from "../controllers/context.js";

export const NAMESPACE_LABEL = "io.kubernetes.pod.namespace";

/** Cilium's reserved identities for peers in the cluster that are not pods. */
export type ReservedEntity = "host" | "remote-node" | "kube-apiserver";

/** One side of a connection: a pod (namespace + labels), a node or the API server, or the world. */
export interface PolicyPeer {
  ip: string;
  /** Pods only. */
  namespace?: string;
  labels?: Record<string, string>;
  /** Not a pod but in the cluster: `host` is the node the other side runs on. Neither: the world. */
  entity?: ReservedEntity;
  /** DNS name the client resolved (egress to the world). */
  fqdn?: string;
}

const isWorld = (p: PolicyPeer) => p.namespace === undefined && p.entity === undefined;

export interface PolicyRef {
  name: string;
  namespace?: string;
  kind: string;
  revision: string;
}

export type PolicyVerdict =
  | { verdict: "FORWARDED" }
  | {
      verdict: "DROPPED";
      /** POLICY_DENIED (133): no allow rule; POLICY_DENY (181): an explicit deny rule. */
      reason: "POLICY_DENIED" | "POLICY_DENY";
      direction: "INGRESS" | "EGRESS";
      deniedBy?: PolicyRef;
    };

export const DROP_REASON_CODES = { POLICY_DENIED: 133, POLICY_DENY: 181 } as const;

type PeerMatch = (peer: PolicyPeer) => boolean;
type PortMatch = (port: number, protocol: string) => boolean;
interface Rule {
  peer: PeerMatch;
  port: PortMatch;
}
interface CompiledPolicy {
  ref: PolicyRef;
  selects: (pod: PolicyPeer) => boolean;
  ingress?: Rule[];
  egress?: Rule[];
  ingressDeny: Rule[];
  egressDeny: Rule[];
}

/** Verdicts for a set of policies; compile once per change of the policies or namespaces. */
export class PolicySet {
  private readonly policies: CompiledPolicy[];

  constructor(objects: KubeObject[], namespaceLabels: Map<string, Record<string, string>>) {
    this.policies = objects.flatMap((o) => {
      const p = compile(o, namespaceLabels);
      return p ? [p] : [];
    });
  }

  get size(): number {
    return this.policies.length;
  }

  /** Whether some policy selects the pod for ingress (allow-list or deny rules). */
  policesIngress(pod: PolicyPeer): boolean {
    return this.policies.some((p) => (p.ingress || p.ingressDeny.length) && p.selects(pod));
  }

  decide(src: PolicyPeer, dst: PolicyPeer, port: number, protocol: "TCP" | "UDP"): PolicyVerdict {
    if (!this.policies.length) return { verdict: "FORWARDED" };
    const egress = src.namespace !== undefined ? this.side(src, dst, port, protocol, "egress") : undefined;
    const ingress = dst.namespace !== undefined ? this.side(dst, src, port, protocol, "ingress") : undefined;
    for (const s of [egress, ingress]) if (s?.verdict === "DROPPED" && s.reason === "POLICY_DENY") return s;
    for (const s of [egress, ingress]) if (s?.verdict === "DROPPED") return s;
    return { verdict: "FORWARDED" };
  }

  private side(
    self: PolicyPeer,
    peer: PolicyPeer,
    port: number,
    protocol: string,
    dir: "ingress" | "egress",
  ): PolicyVerdict {
    const direction = dir === "ingress" ? "INGRESS" : "EGRESS";
    let selected = false;
    let allowed = false;
    let firstSelector: PolicyRef | undefined;
    for (const p of this.policies) {
      if (!p.selects(self)) continue;
      const deny = dir === "ingress" ? p.ingressDeny : p.egressDeny;
      if (deny.some((r) => r.peer(peer) && r.port(port, protocol)))
        return { verdict: "DROPPED", reason: "POLICY_DENY", direction, deniedBy: p.ref };
      // The node's own traffic to its pods (probes) passes every allow-list; only a deny stops it.
      if (dir === "ingress" && peer.entity === "host") continue;
      const allow = dir === "ingress" ? p.ingress : p.egress;
      if (!allow) continue;
      selected = true;
      firstSelector ??= p.ref;
      if (!allowed && allow.some((r) => r.peer(peer) && r.port(port, protocol))) allowed = true;
    }
    if (!selected || allowed) return { verdict: "FORWARDED" };
    return { verdict: "DROPPED", reason: "POLICY_DENIED", direction };
  }
}

export const policyKinds = ["NetworkPolicy", "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"];
export const POLICY_STORAGE_KEYS = [
  "networkpolicies.networking.k8s.io",
  "ciliumnetworkpolicies.cilium.io",
  "ciliumclusterwidenetworkpolicies.cilium.io",
];

/** The policies the store holds now, with the namespaces' labels (storage keys not served are skipped). */
export function loadPolicySet(store: ObjectStore): PolicySet {
  const objects: KubeObject[] = [];
  for (const k of POLICY_STORAGE_KEYS) {
    const rt = store.catalog.forStorageKey(k);
    if (rt) objects.push(...store.list(rt));
  }
  const nsLabels = new Map<string, Record<string, string>>();
  for (const ns of store.list(store.resource("namespaces"))) {
    const name = ns.metadata.name ?? "";
    nsLabels.set(name, { ...ns.metadata.labels, "kubernetes.io/metadata.name": name });
  }
  return new PolicySet(objects, nsLabels);
}

function compile(o: KubeObject, nsLabels: Map<string, Record<string, string>>): CompiledPolicy | undefined {
  const spec = rec(o.spec);
  const ref: PolicyRef = {
    name: o.metadata.name ?? "",
    ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
    kind: o.kind,
    revision: String(o.metadata.generation ?? 1),
  };
  if (o.kind === "NetworkPolicy") return compileK8s(spec, o.metadata.namespace ?? "default", ref, nsLabels);
  if (o.kind === "CiliumNetworkPolicy" || o.kind === "CiliumClusterwideNetworkPolicy") {
    const ns = o.kind === "CiliumNetworkPolicy" ? (o.metadata.namespace ?? "default") : undefined;
    // A CNP may carry one rule in `spec` and more in `specs`; each is its own policy.
    const specs = [...(o.spec ? [spec] : []), ...arr(o.specs)];
    const compiled = specs.map((s) => compileCilium(s, ns, ref));
    return compiled.length === 1 ? compiled[0] : merge(compiled, ref);
  }
  return undefined;
}

function merge(parts: CompiledPolicy[], ref: PolicyRef): CompiledPolicy | undefined {
  if (!parts.length) return undefined;
  // `specs` with several rules: coarse, the parts' selectors and rules are pooled.
  const wrap = (pick: (p: CompiledPolicy) => Rule[] | undefined): Rule[] | undefined => {
    const withRules = parts.filter((p) => pick(p));
    return withRules.length ? withRules.flatMap((p) => pick(p) ?? []) : undefined;
  };
  return {
    ref,
    selects: (pod) => parts.some((p) => p.selects(pod)),
    ...(wrap((p) => p.ingress) ? { ingress: wrap((p) => p.ingress) } : {}),
    ...(wrap((p) => p.egress) ? { egress: wrap((p) => p.egress) } : {}),
    ingressDeny: parts.flatMap((p) => p.ingressDeny),
    egressDeny: parts.flatMap((p) => p.egressDeny),
  };
}

// --- Kubernetes NetworkPolicy ---

function compileK8s(
  spec: Obj,
  ns: string,
  ref: PolicyRef,
  nsLabels: Map<string, Record<string, string>>,
): CompiledPolicy {
  const podSel = matcherFromSpec(rec(spec.podSelector) as LabelSelectorSpec);
  const types = Array.isArray(spec.policyTypes)
    ? spec.policyTypes.map(String)
    : ["Ingress", ...(spec.egress !== undefined ? ["Egress"] : [])];
  const rules = (list: unknown, peersKey: "from" | "to"): Rule[] =>
    arr(list).map((r) => ({
      peer: k8sPeers(r[peersKey], ns, nsLabels),
      port: k8sPorts(r.ports),
    }));
  return {
    ref,
    selects: (pod) => pod.namespace === ns && podSel(pod.labels),
    ...(types.includes("Ingress") ? { ingress: rules(spec.ingress, "from") } : {}),
    ...(types.includes("Egress") ? { egress: rules(spec.egress, "to") } : {}),
    ingressDeny: [],
    egressDeny: [],
  };
}

function k8sPeers(list: unknown, ns: string, nsLabels: Map<string, Record<string, string>>): PeerMatch {
  if (!Array.isArray(list) || !list.length) return () => true;
  const matchers = arr(list).map((p): PeerMatch => {
    if (p.ipBlock) return cidrMatch(String(rec(p.ipBlock).cidr ?? ""), rec(p.ipBlock).except);
    const pods = p.podSelector ? matcherFromSpec(rec(p.podSelector) as LabelSelectorSpec) : () => true;
    const nsSel = p.namespaceSelector
      ? matcherFromSpec(rec(p.namespaceSelector) as LabelSelectorSpec)
      : undefined;
    return (peer) =>
      peer.namespace !== undefined &&
      (nsSel ? nsSel(namespaceLabels(nsLabels, peer.namespace)) : peer.namespace === ns) &&
      pods(peer.labels);
  });
  return (peer) => matchers.some((m) => m(peer));
}

function namespaceLabels(nsLabels: Map<string, Record<string, string>>, ns: string): Record<string, string> {
  return nsLabels.get(ns) ?? { "kubernetes.io/metadata.name": ns };
}

function k8sPorts(list: unknown): PortMatch {
  if (!Array.isArray(list) || !list.length) return () => true;
  const ports = arr(list).map((p) => ({
    protocol: String(p.protocol ?? "TCP"),
    port: p.port,
    endPort: typeof p.endPort === "number" ? p.endPort : undefined,
  }));
  return (port, protocol) =>
    ports.some(
      (p) =>
        p.protocol === protocol &&
        (p.port === undefined ||
          (p.endPort !== undefined
            ? port >= Number(p.port) && port <= p.endPort
            : String(p.port) === String(port))),
    );
}

// --- Cilium ---

/**
 * Cilium label selectors carry source prefixes (`k8s:app`, `any:app`); the sandbox's labels have none.
 * An empty selector means every pod (of the policy's namespace for a CNP). Otherwise Cilium matches
 * the selector against every identity: a reserved one carries only `reserved:<entity>`, so
 * `reserved:host` selects the node and `NotIn`/`DoesNotExist` match reserved identities too, except
 * in a CNP, whose selectors are pinned to its namespace, which reserved identities lack.
 */
function ciliumSelector(sel: unknown, ns: string | undefined): (peer: PolicyPeer) => boolean {
  const s = rec(sel);
  const strip = (k: string) => k.replace(/^(k8s|any):/, "");
  const matchLabels: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec(s.matchLabels))) matchLabels[strip(k)] = String(v);
  const matchExpressions = arr(s.matchExpressions).map((e) => ({
    key: strip(String(e.key)),
    operator: String(e.operator),
    values: Array.isArray(e.values) ? e.values.map(String) : [],
  }));
  const nsPinned = NAMESPACE_LABEL in matchLabels || matchExpressions.some((e) => e.key === NAMESPACE_LABEL);
  const m = matcherFromSpec({ matchLabels, matchExpressions });
  const wildcard = !Object.keys(matchLabels).length && !matchExpressions.length;
  const reservedToo = !wildcard && (nsPinned || ns === undefined);
  return (peer) =>
    peer.namespace !== undefined
      ? (nsPinned || ns === undefined || peer.namespace === ns) &&
        m({ ...peer.labels, [NAMESPACE_LABEL]: peer.namespace })
      : reservedToo && m({ [`reserved:${peer.entity ?? "world"}`]: "" });
}

function ciliumPorts(list: unknown): PortMatch {
  if (!Array.isArray(list) || !list.length) return () => true;
  const ports = arr(list).flatMap((tp) =>
    arr(tp.ports).map((p) => ({
      port: Number(p.port ?? 0),
      endPort: typeof p.endPort === "number" ? p.endPort : undefined,
      protocol: String(p.protocol ?? "ANY"),
    })),
  );
  return (port, protocol) =>
    ports.some(
      (p) =>
        (p.protocol === "ANY" || p.protocol === protocol) &&
        (p.port === 0 || (p.endPort !== undefined ? port >= p.port && port <= p.endPort : port === p.port)),
    );
}

function fqdnMatch(list: unknown): PeerMatch | undefined {
  if (!Array.isArray(list)) return undefined;
  const res = arr(list).map((f) => {
    if (typeof f.matchName === "string")
      return new RegExp(`^${escape(f.matchName.replace(/\.$/, ""))}$`, "i");
    const pattern = String(f.matchPattern ?? "").replace(/\.$/, "");
    return new RegExp(`^${pattern.split("*").map(escape).join("[-a-zA-Z0-9_.]*")}$`, "i");
  });
  return (peer) => peer.fqdn !== undefined && res.some((r) => r.test(peer.fqdn ?? ""));
}

const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");

/** world, cluster (pods and the cluster's reserved identities), host, remote-node, kube-apiserver, all. */
function entityMatch(list: unknown): PeerMatch | undefined {
  if (!Array.isArray(list)) return undefined;
  const entities = new Set(list.map(String));
  if (entities.has("world-ipv4")) entities.add("world");
  return (peer) =>
    entities.has("all") ||
    (isWorld(peer)
      ? entities.has("world")
      : entities.has("cluster") || (peer.entity !== undefined && entities.has(peer.entity)));
}

function ciliumRule(r: Obj, ns: string | undefined, dir: "from" | "to"): Rule | undefined {
  const peers: PeerMatch[] = [];
  const endpoints = r[`${dir}Endpoints`];
  if (Array.isArray(endpoints)) {
    const sels = endpoints.map((s) => ciliumSelector(s, ns));
    peers.push((p) => sels.some((m) => m(p)));
  }
  const entities = entityMatch(r[`${dir}Entities`]);
  if (entities) peers.push(entities);
  const cidrs = [
    ...(Array.isArray(r[`${dir}CIDR`])
      ? (r[`${dir}CIDR`] as unknown[]).map((c) => cidrMatch(String(c)))
      : []),
    ...arr(r[`${dir}CIDRSet`]).map((c) => cidrMatch(String(c.cidr ?? ""), c.except)),
  ];
  if (cidrs.length) peers.push((p) => isWorld(p) && cidrs.some((m) => m(p)));
  const fqdns = dir === "to" ? fqdnMatch(r.toFQDNs) : undefined;
  if (fqdns) peers.push(fqdns);
  const hasPorts = Array.isArray(r.toPorts) && r.toPorts.length > 0;
  // An empty rule (`ingress: [{}]`) selects the endpoint without allowing anything: default deny.
  if (!peers.length && !hasPorts) return undefined;
  return {
    peer: peers.length ? (p) => peers.some((m) => m(p)) : () => true,
    port: ciliumPorts(r.toPorts),
  };
}

function compileCilium(spec: Obj, ns: string | undefined, ref: PolicyRef): CompiledPolicy {
  const selector = spec.endpointSelector ? ciliumSelector(spec.endpointSelector, ns) : () => false;
  const rules = (key: string, dir: "from" | "to"): Rule[] | undefined =>
    Array.isArray(spec[key])
      ? arr(spec[key]).flatMap((r) => {
          const c = ciliumRule(r, ns, dir);
          return c ? [c] : [];
        })
      : undefined;
  const ingress = rules("ingress", "from");
  const egress = rules("egress", "to");
  const ingressDeny = rules("ingressDeny", "from") ?? [];
  const egressDeny = rules("egressDeny", "to") ?? [];
  // Any rule, deny rules included, puts the endpoint into default deny for that direction unless
  // `enableDefaultDeny` says otherwise, as in Cilium.
  const defaultDeny = rec(spec.enableDefaultDeny);
  const ingressOn = (ingress || spec.ingressDeny) && defaultDeny.ingress !== false;
  const egressOn = (egress || spec.egressDeny) && defaultDeny.egress !== false;
  return {
    ref,
    selects: selector,
    ...(ingressOn ? { ingress: ingress ?? [] } : {}),
    ...(egressOn ? { egress: egress ?? [] } : {}),
    ingressDeny,
    egressDeny,
  };
}

// --- CIDRs (IPv4) ---

function ipv4(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!Number.isInteger(v) || v < 0 || v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

function inCidr(ip: string, cidr: string): boolean {
  const [base = "", bits = "32"] = cidr.split("/");
  const a = ipv4(ip);
  const b = ipv4(base);
  if (a === undefined || b === undefined) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(a / size) === Math.floor(b / size);
}

function cidrMatch(cidr: string, except?: unknown): PeerMatch {
  const ex = Array.isArray(except) ? except.map(String) : [];
  return (peer) => inCidr(peer.ip, cidr) && !ex.some((e) => inCidr(peer.ip, e));
}
