// The simulated application's service graph: who calls whom, derived from the workloads that
// exist. Known demo services get their usual callers (frontend → cart/catalog/recommender/checkout,
// checkout → fraud-scorer/postgres …); any other namespace gets a call chain through its Services
// in name order, so every workload has east-west traffic. A few workloads call external APIs.

/** A workload that serves traffic: "ns/Kind/name" plus the port its Service exposes. */
export interface GraphWorkload {
  key: string;
  namespace: string;
  name: string;
  port: number;
}

export interface ServiceEdge {
  from: string;
  to: string;
  port: number;
  /** Fraction of the caller's request rate that becomes calls on this edge. */
  share: number;
}

export interface ExternalService {
  fqdn: string;
  ip: string;
  port: number;
}

export interface EgressEdge extends ExternalService {
  from: string;
  share: number;
}

const KNOWN_CALLS: Record<string, string[]> = {
  frontend: ["cart", "catalog", "recommender", "checkout"],
  cart: ["postgres", "redis"],
  checkout: ["fraud-scorer", "postgres", "cart"],
  recommender: ["catalog"],
  grafana: ["prometheus"],
};

const KNOWN_EGRESS: Record<string, string[]> = {
  checkout: ["api.stripe.com"],
  "fraud-scorer": ["api.maxmind.com"],
  recommender: ["s3.us-east-1.amazonaws.com"],
  grafana: ["grafana.com"],
};

/** External names and the addresses the simulated DNS answers for them. */
export const EXTERNAL_SERVICES: ExternalService[] = [
  { fqdn: "api.stripe.com", ip: "54.187.174.169", port: 443 },
  { fqdn: "api.maxmind.com", ip: "104.17.201.89", port: 443 },
  { fqdn: "s3.us-east-1.amazonaws.com", ip: "52.217.165.40", port: 443 },
  { fqdn: "grafana.com", ip: "34.120.177.193", port: 443 },
  { fqdn: "api.github.com", ip: "140.82.112.6", port: 443 },
];

export function serviceGraph(workloads: GraphWorkload[]): { edges: ServiceEdge[]; egress: EgressEdge[] } {
  const byName = new Map<string, GraphWorkload[]>();
  for (const w of workloads) byName.set(w.name, [...(byName.get(w.name) ?? []), w]);
  const pick = (name: string, ns: string) => {
    const all = byName.get(name) ?? [];
    return all.find((w) => w.namespace === ns) ?? all[0];
  };
  const edges: ServiceEdge[] = [];
  const covered = new Set<string>();
  for (const w of workloads) {
    const callees = (KNOWN_CALLS[w.name] ?? []).flatMap((n) => {
      const t = pick(n, w.namespace);
      return t && t.key !== w.key ? [t] : [];
    });
    for (const t of callees) {
      edges.push({ from: w.key, to: t.key, port: t.port, share: 0.6 });
      covered.add(w.namespace).add(t.namespace);
    }
  }
  const byNs = new Map<string, GraphWorkload[]>();
  for (const w of workloads)
    if (!covered.has(w.namespace)) byNs.set(w.namespace, [...(byNs.get(w.namespace) ?? []), w]);
  for (const list of byNs.values()) {
    const sorted = [...list].sort((a, b) => a.name.localeCompare(b.name));
    for (let i = 0; i + 1 < sorted.length; i++) {
      const [a, b] = [sorted[i], sorted[i + 1]];
      if (a && b) edges.push({ from: a.key, to: b.key, port: b.port, share: 0.5 });
    }
  }
  const egress: EgressEdge[] = [];
  for (const w of workloads) {
    const names = KNOWN_EGRESS[w.name] ?? (hash(w.key) % 7 === 0 ? ["api.github.com"] : []);
    for (const n of names) {
      const ext = EXTERNAL_SERVICES.find((e) => e.fqdn === n);
      if (ext) egress.push({ ...ext, from: w.key, share: 0.1 });
    }
  }
  return { edges, egress };
}

/** FNV-1a: stable small numbers (identities, endpoint IDs, MACs) from names. */
export function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
