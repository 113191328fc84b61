import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { Baseline } from "../../shared/flows/baseline.js";
import {
  policiesToYaml,
  serviceGraph,
  suggestPolicies,
  toDot,
  type CiliumNetworkPolicy,
} from "../../shared/flows/export.js";
import type { Flow, FlowPeer } from "../../shared/flows/types.js";
import { world } from "../support/flows.js";

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
const pod = (ns: string, app: string, selector: Record<string, string> = { app }): FlowPeer => ({
  identity: `${ns}/${app}`,
  namespace: ns,
  pod: `${app}-5d8c7-0`,
  ip: `10.0.${app.length}.1`,
  selector,
  numericIdentity: 1000 + app.length,
});
const host: FlowPeer = { identity: "host", numericIdentity: 1, ip: "192.168.0.10" };
const flow = (
  t: number,
  src: FlowPeer,
  dst: FlowPeer,
  dstPort: number | undefined,
  o: Partial<Flow> = {},
): Flow => ({
  timeMs: T0 + t,
  verdict: "FORWARDED",
  isReply: false,
  protocol: "TCP",
  dstPort,
  syn: true,
  src,
  dst,
  ...o,
});

const cart = pod("shop", "cart");
const web = pod("shop", "web");
const redis = pod("shop", "redis");
const kubeDns = pod("kube-system", "kube-dns", { "k8s-app": "kube-dns" });
const prom = pod("monitoring", "prometheus", { "app.kubernetes.io/name": "prometheus" });

/** web → cart:8080, cart → redis:6379, cart → api.stripe.com:443 (looked up via kube-dns), cart →
 * 192.0.2.0/24:8443, prometheus (another namespace) → cart:9090, the node → cart:8080 probes,
 * internet clients → web:443, cart pings redis. */
function shopMap(): Baseline {
  const b = new Baseline({ learningMs: 60_000 });
  const flows = [
    flow(0, web, cart, 8080),
    flow(1, cart, redis, 6379),
    flow(2, cart, kubeDns, 53, { protocol: "UDP", syn: false, dnsQuery: "api.stripe.com" }),
    flow(3, cart, world("203.0.113.10", ["api.stripe.com"]), 443),
    flow(4, cart, world("192.0.2.44"), 8443),
    flow(5, prom, cart, 9090),
    flow(6, host, cart, 8080),
    flow(7, world("100.64.1.1"), web, 443),
    flow(8, cart, redis, undefined, { protocol: "ICMPv4", syn: false }),
    flow(9, cart, redis, 6379, { isReply: true }),
  ];
  for (const f of flows) b.observe(f);
  // after learning: a novel edge that policies leave out by default
  b.observe(flow(120_000, cart, world("198.51.100.7"), 22));
  return b;
}

describe("service graph", () => {
  it("lists nodes by kind and every edge once", () => {
    const g = serviceGraph(shopMap());
    expect(g.nodes).toEqual([
      { id: "100.64.1.0/24", kind: "external" },
      { id: "192.0.2.0/24", kind: "external" },
      { id: "198.51.100.0/24", kind: "external" },
      { id: "api.stripe.com", kind: "dns" },
      { id: "host", kind: "reserved" },
      { id: "kube-system/kube-dns", namespace: "kube-system", kind: "workload" },
      { id: "monitoring/prometheus", namespace: "monitoring", kind: "workload" },
      { id: "shop/cart", namespace: "shop", kind: "workload" },
      { id: "shop/redis", namespace: "shop", kind: "workload" },
      { id: "shop/web", namespace: "shop", kind: "workload" },
    ]);
    const edges = g.edges.map(
      (e) => `${e.from} -> ${e.to} ${e.port}/${e.protocol}${e.novel ? " novel" : ""}`,
    );
    expect(edges).toEqual([
      "100.64.1.0/24 -> shop/web 443/TCP",
      "host -> shop/cart 8080/TCP",
      "monitoring/prometheus -> shop/cart 9090/TCP",
      "shop/cart -> 192.0.2.0/24 8443/TCP",
      "shop/cart -> 198.51.100.0/24 22/TCP novel",
      "shop/cart -> api.stripe.com 443/TCP",
      "shop/cart -> kube-system/kube-dns 53/UDP",
      "shop/cart -> shop/redis 0/ICMPv4",
      "shop/cart -> shop/redis 6379/TCP",
      "shop/web -> shop/cart 8080/TCP",
    ]);
    expect(g.edges.every((e) => e.flows === 1 && e.rate === 1)).toBe(true);
  });

  it("filters by namespace and by identity", () => {
    const b = shopMap();
    expect(serviceGraph(b, { namespace: "monitoring" }).edges.map((e) => e.to)).toEqual(["shop/cart"]);
    expect(serviceGraph(b, { identity: "shop/web" }).edges.map((e) => `${e.from}>${e.to}`)).toEqual([
      "100.64.1.0/24>shop/web",
      "shop/web>shop/cart",
    ]);
  });
});

describe("Graphviz DOT", () => {
  it("is a digraph with quoted ids, a cluster per namespace and one line per edge", () => {
    const g = serviceGraph(shopMap());
    const dot = toDot(g);
    expect(dot.startsWith('digraph "service-map" {\n')).toBe(true);
    expect(dot.trimEnd().endsWith("}")).toBe(true);
    expect(dot.split("{").length).toBe(dot.split("}").length);
    expect(dot).toContain('subgraph "cluster_shop" {');
    expect(dot).toContain('"shop/cart" -> "api.stripe.com" [label="443/TCP 1/min"];');
    expect(dot).toContain('"shop/cart" -> "198.51.100.0/24" [label="22/TCP 1/min", color="red"];');
    const edgeLines = dot.split("\n").filter((l) => l.includes("->"));
    expect(edgeLines).toHaveLength(g.edges.length);
    for (const l of edgeLines)
      expect(l).toMatch(/^ {2}"(?:[^"\\]|\\.)+" -> "(?:[^"\\]|\\.)+" \[label="[^"]*"(?:, color="red")?\];$/);
  });

  it("escapes quotes and backslashes in ids", () => {
    const dot = toDot({ nodes: [{ id: 'we"ird\\name', kind: "reserved" }], edges: [] }, "m");
    expect(dot).toContain('"we\\"ird\\\\name" [shape=hexagon');
  });
});

describe("CiliumNetworkPolicy suggestions", () => {
  const policies = suggestPolicies(shopMap());
  const byName = (identity: string): CiliumNetworkPolicy =>
    policies.find((p) => p.metadata.annotations["prophet.io/identity"] === identity)!;

  it("writes one cilium.io/v2 policy per identity with selector labels", () => {
    expect(policies.map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual([
      "kube-system/prophet-kube-dns",
      "monitoring/prophet-prometheus",
      "shop/prophet-cart",
      "shop/prophet-redis",
      "shop/prophet-web",
    ]);
    for (const p of policies) {
      expect(p.apiVersion).toBe("cilium.io/v2");
      expect(p.kind).toBe("CiliumNetworkPolicy");
      expect(p.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
      expect(Object.keys(p.spec.endpointSelector.matchLabels).length).toBeGreaterThan(0);
    }
    expect(byName("kube-system/kube-dns").spec.endpointSelector).toEqual({
      matchLabels: { "k8s-app": "kube-dns" },
    });
  });

  it("allows cart exactly its learnt ingress and egress", () => {
    const cartPolicy = byName("shop/cart");
    expect(cartPolicy.spec.ingress).toEqual([
      { fromEntities: ["host"], toPorts: [{ ports: [{ port: "8080", protocol: "TCP" }] }] },
      {
        fromEndpoints: [
          {
            matchLabels: {
              "app.kubernetes.io/name": "prometheus",
              "k8s:io.kubernetes.pod.namespace": "monitoring",
            },
          },
        ],
        toPorts: [{ ports: [{ port: "9090", protocol: "TCP" }] }],
      },
      {
        fromEndpoints: [{ matchLabels: { app: "web" } }],
        toPorts: [{ ports: [{ port: "8080", protocol: "TCP" }] }],
      },
    ]);
    expect(cartPolicy.spec.egress).toEqual([
      {
        toEndpoints: [
          { matchLabels: { "k8s:io.kubernetes.pod.namespace": "kube-system", "k8s-app": "kube-dns" } },
        ],
        toPorts: [
          { ports: [{ port: "53", protocol: "ANY" }], rules: { dns: [{ matchName: "api.stripe.com" }] } },
        ],
      },
      { toCIDR: ["192.0.2.0/24"], toPorts: [{ ports: [{ port: "8443", protocol: "TCP" }] }] },
      {
        toFQDNs: [{ matchName: "api.stripe.com" }],
        toPorts: [{ ports: [{ port: "443", protocol: "TCP" }] }],
      },
      {
        toEndpoints: [{ matchLabels: { app: "redis" } }],
        toPorts: [{ ports: [{ port: "6379", protocol: "TCP" }] }],
      },
      {
        toEndpoints: [{ matchLabels: { app: "redis" } }],
        icmps: [{ fields: [{ type: 8, family: "IPv4" }] }],
      },
    ]);
  });

  it("denies a direction nothing was learnt in, and includes novel edges only when asked", () => {
    expect(byName("shop/redis").spec.egress).toEqual([{}]);
    const withNovel = suggestPolicies(shopMap(), { identity: "shop/cart", includeNovel: true });
    expect(withNovel).toHaveLength(1);
    expect(withNovel[0]!.spec.egress).toContainEqual({
      toCIDR: ["198.51.100.0/24"],
      toPorts: [{ ports: [{ port: "22", protocol: "TCP" }] }],
    });
    expect(suggestPolicies(shopMap(), { namespace: "monitoring" }).map((p) => p.metadata.name)).toEqual([
      "prophet-prometheus",
    ]);
  });

  it("lets web in from the internet by CIDR", () => {
    expect(byName("shop/web").spec.ingress).toEqual([
      { fromCIDR: ["100.64.1.0/24"], toPorts: [{ ports: [{ port: "443", protocol: "TCP" }] }] },
    ]);
  });

  it("renders as multi-document YAML that parses back to the same objects", () => {
    const docs = parseAllDocuments(policiesToYaml(policies));
    expect(docs.map((d) => d.errors)).toEqual(policies.map(() => []));
    expect(docs.map((d) => d.toJS() as unknown)).toEqual(policies);
  });
});
