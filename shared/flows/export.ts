// The learned service map for people and for clusters: a graph (JSON, Graphviz DOT) and
// least-privilege CiliumNetworkPolicies that allow exactly the learnt edges.
import { stringify } from "yaml";
import {
  type Baseline,
  type Edge,
  type IdentityState,
  peerKind,
  peerName,
  unpackPort,
  ratePerMinute,
} from "./baseline.js";
import type { FlowProtocol } from "./types.js";

export interface ServiceGraphNode {
  id: string;
  /** Workloads only. */
  namespace?: string;
  kind: "workload" | "external" | "dns" | "reserved";
}

export interface ServiceGraphEdge {
  from: string;
  to: string;
  /** 0 for ICMP and other portless protocols. */
  port: number;
  protocol: FlowProtocol;
  flows: number;
  /** Typical flows per minute (EWMA). */
  rate: number;
  /** Seen only after learning ended and not accepted. */
  novel: boolean;
}

export interface ServiceGraph {
  nodes: ServiceGraphNode[];
  edges: ServiceGraphEdge[];
}

export interface MapFilter {
  /** Only edges touching workloads of this namespace. */
  namespace?: string;
  /** Only edges touching this identity. */
  identity?: string;
}

/** The map as nodes and edges, sorted, each in-cluster edge once (from its source's side). */
export function serviceGraph(baseline: Baseline, filter: MapFilter = {}): ServiceGraph {
  const alpha = baseline.options.rateAlpha;
  const nodes = new Map<string, ServiceGraphNode>();
  const edges: ServiceGraphEdge[] = [];
  const node = (key: string): string => {
    const id = peerName(key);
    if (!nodes.has(id)) {
      const kind = peerKind(key);
      const ns =
        kind === "workload" ? (baseline.get(key)?.namespace ?? key.slice(0, key.indexOf("/"))) : undefined;
      nodes.set(id, ns !== undefined ? { id, namespace: ns, kind } : { id, kind });
    }
    return id;
  };
  const wanted = (a: string, b: string): boolean => {
    if (filter.identity !== undefined && a !== filter.identity && b !== filter.identity) return false;
    if (filter.namespace !== undefined) {
      const inNs = (k: string) => peerKind(k) === "workload" && k.startsWith(`${filter.namespace}/`);
      if (!inNs(a) && !inNs(b)) return false;
    }
    return true;
  };
  const add = (from: string, to: string, pp: number, e: Edge) => {
    const { port, protocol } = unpackPort(pp);
    edges.push({
      from: node(from),
      to: node(to),
      port,
      protocol,
      flows: e.flows,
      rate: round(ratePerMinute(e, alpha)),
      novel: e.novel,
    });
  };
  for (const s of baseline.identities()) {
    for (const [peer, byPort] of s.out)
      for (const [pp, e] of byPort) if (wanted(s.identity, peer)) add(s.identity, peer, pp, e);
    for (const [peer, byPort] of s.in) {
      // In-cluster sources report the edge on their own side, unless they are not tracked.
      if (peerKind(peer) === "workload" && baseline.get(peer)?.out.get(s.identity)) continue;
      for (const [pp, e] of byPort) if (wanted(peer, s.identity)) add(peer, s.identity, pp, e);
    }
    if (filter.identity === undefined || filter.identity === s.identity)
      if (filter.namespace === undefined || filter.namespace === s.namespace) node(s.identity);
  }
  edges.sort(
    (a, b) => cmp(a.from, b.from) || cmp(a.to, b.to) || a.port - b.port || cmp(a.protocol, b.protocol),
  );
  return { nodes: [...nodes.values()].sort((a, b) => cmp(a.id, b.id)), edges };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const round = (x: number): number => Math.round(x * 100) / 100;

/** A DOT string literal. */
export function dotId(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

/** Graphviz DOT: workloads boxed per namespace, DNS names and external CIDRs as dashed ellipses. */
export function toDot(graph: ServiceGraph, name = "service-map"): string {
  const lines = [`digraph ${dotId(name)} {`, "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];'];
  const byNs = new Map<string, ServiceGraphNode[]>();
  for (const n of graph.nodes) {
    if (n.kind === "workload" && n.namespace !== undefined) {
      const list = byNs.get(n.namespace) ?? [];
      list.push(n);
      byNs.set(n.namespace, list);
    } else {
      const shape = n.kind === "reserved" ? "shape=hexagon" : "shape=ellipse, style=dashed";
      lines.push(`  ${dotId(n.id)} [${shape}, label=${dotId(n.id)}];`);
    }
  }
  for (const [ns, list] of byNs) {
    lines.push(`  subgraph ${dotId(`cluster_${ns}`)} {`, `    label=${dotId(ns)};`);
    for (const n of list)
      lines.push(`    ${dotId(n.id)} [label=${dotId(n.id.slice(ns.length + 1) || n.id)}];`);
    lines.push("  }");
  }
  for (const e of graph.edges) {
    const label = `${e.port ? `${e.port}/${e.protocol}` : e.protocol} ${e.rate}/min`;
    lines.push(
      `  ${dotId(e.from)} -> ${dotId(e.to)} [label=${dotId(label)}${e.novel ? ', color="red"' : ""}];`,
    );
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

// ---- CiliumNetworkPolicy suggestions ----

type Labels = Record<string, string>;
export interface PortProtocol {
  port: string;
  protocol: "TCP" | "UDP" | "SCTP" | "ANY";
}
export interface PortRule {
  ports: PortProtocol[];
  rules?: { dns: ({ matchName: string } | { matchPattern: string })[] };
}
export interface IcmpRule {
  fields: { type: number; family: "IPv4" | "IPv6" }[];
}
export interface CiliumIngressRule {
  fromEndpoints?: { matchLabels: Labels }[];
  fromEntities?: string[];
  fromCIDR?: string[];
  toPorts?: PortRule[];
  icmps?: IcmpRule[];
}
export interface CiliumEgressRule {
  toEndpoints?: { matchLabels: Labels }[];
  toEntities?: string[];
  toCIDR?: string[];
  toFQDNs?: { matchName: string }[];
  toPorts?: PortRule[];
  icmps?: IcmpRule[];
}
export interface CiliumNetworkPolicy {
  apiVersion: "cilium.io/v2";
  kind: "CiliumNetworkPolicy";
  metadata: { name: string; namespace: string; labels: Labels; annotations: Labels };
  spec: {
    description: string;
    endpointSelector: { matchLabels: Labels };
    /** `[{}]` when nothing was learnt: deny all. */
    ingress: CiliumIngressRule[];
    egress: CiliumEgressRule[];
  };
}

export interface PolicyOptions extends MapFilter {
  /** Include edges first seen after learning (default false: only the learnt baseline). */
  includeNovel?: boolean;
  /** Identities of the cluster DNS (default kube-system/kube-dns, kube-system/coredns). */
  dnsServers?: string[];
}

const NAMESPACE_LABEL = "k8s:io.kubernetes.pod.namespace";
const ENTITIES = new Set([
  "host",
  "remote-node",
  "kube-apiserver",
  "health",
  "init",
  "ingress",
  "unmanaged",
  "world",
  "cluster",
]);

/**
 * One least-privilege CiliumNetworkPolicy per identity (with selector labels): ingress from and
 * egress to exactly its learnt peers and ports. DNS names become toFQDNs with the kube-dns rule
 * that makes Cilium's DNS proxy see the lookups (`rules.dns` lists the names the identity looked
 * up; `*` when it looked up more than the baseline keeps). Identities without selector labels are
 * skipped; peers a policy cannot name are listed in the `prophet.io/unmatched-peers` annotation.
 */
export function suggestPolicies(baseline: Baseline, options: PolicyOptions = {}): CiliumNetworkPolicy[] {
  const dnsServers = new Set(options.dnsServers ?? ["kube-system/kube-dns", "kube-system/coredns"]);
  const out: CiliumNetworkPolicy[] = [];
  const states = [...baseline.identities()].sort((a, b) => cmp(a.identity, b.identity));
  for (const s of states) {
    if (options.identity !== undefined && s.identity !== options.identity) continue;
    if (options.namespace !== undefined && s.namespace !== options.namespace) continue;
    if (!s.selector || Object.keys(s.selector).length === 0) continue;
    out.push(policyFor(baseline, s, dnsServers, options.includeNovel ?? false));
  }
  return out;
}

/** The policies as one multi-document YAML stream for `kubectl apply -f`. */
export function policiesToYaml(policies: CiliumNetworkPolicy[]): string {
  return policies.map((p) => stringify(p, { lineWidth: 0 })).join("---\n");
}

function policyFor(
  baseline: Baseline,
  s: IdentityState,
  dnsServers: Set<string>,
  includeNovel: boolean,
): CiliumNetworkPolicy {
  const unmatched: string[] = [];
  const keep = (m: Map<number, Edge>) => [...m].filter(([, e]) => includeNovel || !e.novel).map(([pp]) => pp);

  const ingress: CiliumIngressRule[] = [];
  for (const [peer, byPort] of sorted(s.in)) {
    const ports = keep(byPort);
    if (ports.length === 0) continue;
    const from = peerSelector(baseline, s, peer, "from", unmatched);
    if (from) ingress.push(...withPorts(from, ports, peer, unmatched));
  }

  const egress: CiliumEgressRule[] = [];
  let dnsServer: IdentityState | undefined;
  let usesDns = s.dns.total > 0;
  for (const [peer, byPort] of sorted(s.out)) {
    let ports = keep(byPort);
    if (dnsServers.has(peer)) {
      const dnsPorts = ports.filter((pp) => unpackPort(pp).port === 53);
      if (dnsPorts.length) {
        dnsServer = baseline.get(peer);
        usesDns = true;
        ports = ports.filter((pp) => unpackPort(pp).port !== 53);
      }
    }
    if (ports.length === 0) continue;
    if (peerKind(peer) === "dns") {
      usesDns = true;
      egress.push(...withPorts({ toFQDNs: [{ matchName: peerName(peer) }] }, ports, peer, unmatched));
      continue;
    }
    const to = peerSelector(baseline, s, peer, "to", unmatched);
    if (to) egress.push(...withPorts(to, ports, peer, unmatched));
  }
  if (usesDns) {
    const names = [...s.dnsNames].sort();
    const dns =
      s.dnsNamesOverflow || names.length === 0
        ? [{ matchPattern: "*" }]
        : names.map((matchName) => ({ matchName }));
    const server = dnsServer?.selector ? dnsServer.selector : { "k8s-app": "kube-dns" };
    egress.unshift({
      toEndpoints: [{ matchLabels: { [NAMESPACE_LABEL]: dnsServer?.namespace ?? "kube-system", ...server } }],
      toPorts: [{ ports: [{ port: "53", protocol: "ANY" }], rules: { dns } }],
    });
  }

  const app = s.identity.slice(s.identity.indexOf("/") + 1);
  const annotations: Labels = {
    "prophet.io/identity": s.identity,
    "prophet.io/learned-between": `${new Date(s.firstMs).toISOString()}/${new Date(s.lastMs).toISOString()}`,
  };
  if (s.overflowFlows > 0 || s.dnsNamesOverflow)
    annotations["prophet.io/incomplete"] = "edge or DNS-name cap reached";
  if (unmatched.length) annotations["prophet.io/unmatched-peers"] = [...new Set(unmatched)].join(", ");
  return {
    apiVersion: "cilium.io/v2",
    kind: "CiliumNetworkPolicy",
    metadata: {
      name: dnsName(`prophet-${app}`),
      namespace: s.namespace,
      labels: { "app.kubernetes.io/managed-by": "prophet" },
      annotations,
    },
    spec: {
      description: `Least privilege for ${s.identity}, from the traffic Prophet learnt`,
      endpointSelector: { matchLabels: { ...s.selector } },
      ingress: ingress.length ? ingress : [{}],
      egress: egress.length ? egress : [{}],
    },
  };
}

type Peer = Omit<CiliumIngressRule, "toPorts" | "icmps"> & Omit<CiliumEgressRule, "toPorts" | "icmps">;

function peerSelector(
  baseline: Baseline,
  s: IdentityState,
  peer: string,
  dir: "from" | "to",
  unmatched: string[],
): Peer | undefined {
  const kind = peerKind(peer);
  if (kind === "external") {
    if (peer === "world") return dir === "from" ? { fromEntities: ["world"] } : { toEntities: ["world"] };
    return dir === "from" ? { fromCIDR: [peerName(peer)] } : { toCIDR: [peerName(peer)] };
  }
  if (kind === "dns")
    return dir === "from" ? { fromEntities: ["world"] } : { toFQDNs: [{ matchName: peerName(peer) }] };
  if (kind === "reserved") {
    if (!ENTITIES.has(peer)) {
      unmatched.push(peer);
      return undefined;
    }
    return dir === "from" ? { fromEntities: [peer] } : { toEntities: [peer] };
  }
  const p = baseline.get(peer);
  if (!p?.selector || Object.keys(p.selector).length === 0) {
    unmatched.push(peer);
    return undefined;
  }
  const labels: Labels = { ...p.selector };
  if (p.namespace !== s.namespace) labels[NAMESPACE_LABEL] = p.namespace;
  return dir === "from"
    ? { fromEndpoints: [{ matchLabels: labels }] }
    : { toEndpoints: [{ matchLabels: labels }] };
}

/** The peer's rule with its ports; ICMP goes in a rule of its own, portless TCP/UDP is not guessed. */
function withPorts<R extends Peer>(
  peer: R,
  ports: number[],
  key: string,
  unmatched: string[],
): (R & { toPorts?: PortRule[]; icmps?: IcmpRule[] })[] {
  const l4: PortProtocol[] = [];
  const icmp: IcmpRule["fields"] = [];
  for (const pp of ports.sort((a, b) => a - b)) {
    const { port, protocol } = unpackPort(pp);
    if (protocol === "ICMPv4") icmp.push({ type: 8, family: "IPv4" });
    else if (protocol === "ICMPv6") icmp.push({ type: 128, family: "IPv6" });
    else if (port > 0 && (protocol === "TCP" || protocol === "UDP" || protocol === "SCTP"))
      l4.push({ port: String(port), protocol });
    else unmatched.push(`${peerName(key)} ${protocol}${port ? `/${port}` : ""}`);
  }
  const rules: (R & { toPorts?: PortRule[]; icmps?: IcmpRule[] })[] = [];
  if (l4.length) rules.push({ ...peer, toPorts: [{ ports: l4 }] });
  if (icmp.length) rules.push({ ...peer, icmps: [{ fields: icmp }] });
  return rules;
}

function sorted<V>(m: Map<string, V>): [string, V][] {
  return [...m].sort(([a], [b]) => cmp(a, b));
}

/** A valid object name: lowercase DNS-1123, at most 253 characters. */
function dnsName(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9.-]+/g, "-")
      .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "")
      .slice(0, 253) || "prophet"
  );
}
