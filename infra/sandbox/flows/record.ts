// Builds Hubble flow records (protojson shape, zero values omitted) for one observed packet of
// the simulated datapath: where it was seen, what the policy decided, which endpoints it joined.
import { hash } from "./graph.js";
import { DROP_REASON_CODES, type PolicyRef, type PolicyVerdict, type ReservedEntity } from "./policy.js";
import type { HubbleFlow } from "./schema.js";

/** A network endpoint as Hubble sees it: a pod (with identity), a node, or an address outside the cluster. */
export interface FlowEndpoint {
  ip: string;
  /** Pods: namespace, labels, name, node. */
  namespace?: string;
  labels?: Record<string, string>;
  podName?: string;
  node?: string;
  /** Not a pod but in the cluster: the node (`host` seen from its own pods), other nodes, the API server. */
  entity?: ReservedEntity;
  workload?: { name: string; kind: string };
  /** DNS name (egress to the world). */
  fqdn?: string;
}

// Labels Cilium leaves out of identities.
const IGNORED_LABELS = new Set([
  "pod-template-hash",
  "controller-revision-hash",
  "statefulset.kubernetes.io/pod-name",
  "apps.kubernetes.io/pod-index",
  "pod-template-generation",
  "batch.kubernetes.io/controller-uid",
  "controller-uid",
  "batch.kubernetes.io/job-name",
  "job-name",
]);

/** Cilium's numeric identities of the reserved entities. */
const RESERVED_IDENTITY: Record<ReservedEntity | "world", number> = {
  host: 1,
  world: 2,
  "remote-node": 6,
  "kube-apiserver": 7,
};

export function hubbleLabels(e: FlowEndpoint, cluster: string): string[] {
  if (e.namespace === undefined) return [`reserved:${e.entity ?? "world"}`];
  const out = Object.entries(e.labels ?? {})
    .filter(([k]) => !IGNORED_LABELS.has(k))
    .map(([k, v]) => `k8s:${k}=${v}`);
  out.push(
    `k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=${e.namespace}`,
    `k8s:io.cilium.k8s.policy.cluster=${cluster}`,
    "k8s:io.cilium.k8s.policy.serviceaccount=default",
    `k8s:io.kubernetes.pod.namespace=${e.namespace}`,
  );
  return out.sort();
}

export class FlowRecorder {
  private readonly endpoints = new Map<string, Record<string, unknown>>();

  constructor(readonly cluster: string) {}

  /** The `source`/`destination` object; pods' are cached by IP and name. */
  endpoint(e: FlowEndpoint): Record<string, unknown> {
    if (e.namespace === undefined) {
      const entity = e.entity ?? "world";
      return { identity: RESERVED_IDENTITY[entity], labels: [`reserved:${entity}`] };
    }
    const key = `${e.ip}/${e.podName ?? ""}`;
    let out = this.endpoints.get(key);
    if (!out) {
      const labels = hubbleLabels(e, this.cluster);
      out = {
        ID: (hash(key) % 4000) + 1,
        identity: (hash(labels.join(",")) % 65000) + 256,
        cluster_name: this.cluster,
        namespace: e.namespace,
        labels,
        pod_name: e.podName,
        ...(e.workload ? { workloads: [e.workload] } : {}),
      };
      if (this.endpoints.size > 50_000) this.endpoints.clear();
      this.endpoints.set(key, out);
    }
    return out;
  }

  nodeName(node: string | undefined): string {
    return `${this.cluster}/${node ?? "unknown"}`;
  }

  /** One flow record. `observedAt` is the endpoint whose node saw the packet. */
  record(p: {
    time: string;
    uuid: string;
    src: FlowEndpoint;
    dst: FlowEndpoint;
    protocol: "TCP" | "UDP";
    sport: number;
    dport: number;
    flags?: string[];
    verdict: PolicyVerdict;
    direction: "INGRESS" | "EGRESS";
    isReply: boolean;
    observedAt: FlowEndpoint;
    l7?: Record<string, unknown>;
  }): HubbleFlow {
    const dropped = p.verdict.verdict === "DROPPED";
    const l4 =
      p.protocol === "TCP"
        ? {
            TCP: {
              source_port: p.sport,
              destination_port: p.dport,
              flags: Object.fromEntries((p.flags ?? ["ACK"]).map((f) => [f, true])),
            },
          }
        : { UDP: { source_port: p.sport, destination_port: p.dport } };
    const at = p.observedAt;
    const ifIndex = (hash(`${at.ip}/${at.podName ?? ""}`) % 60) + 8;
    const summary = p.l7
      ? dnsSummary(p.l7)
      : p.protocol === "TCP"
        ? `TCP Flags: ${(p.flags ?? ["ACK"]).join(", ")}`
        : "UDP";
    const flow: HubbleFlow = {
      time: p.time,
      uuid: p.uuid,
      verdict: p.verdict.verdict,
      ...(dropped && p.verdict.verdict === "DROPPED"
        ? { drop_reason: DROP_REASON_CODES[p.verdict.reason] }
        : {}),
      ethernet: { source: mac(p.src.ip), destination: mac(p.dst.ip) },
      IP: { source: p.src.ip, destination: p.dst.ip, ipVersion: "IPv4" },
      l4,
      source: this.endpoint(p.src),
      destination: this.endpoint(p.dst),
      Type: p.l7 ? "L7" : "L3_L4",
      node_name: this.nodeName(at.node),
      ...(p.dst.fqdn && !p.isReply ? { destination_names: [p.dst.fqdn] } : {}),
      ...(p.src.fqdn && p.isReply ? { source_names: [p.src.fqdn] } : {}),
      event_type: p.l7
        ? { type: 129 }
        : dropped && p.verdict.verdict === "DROPPED"
          ? { type: 1, sub_type: DROP_REASON_CODES[p.verdict.reason] }
          : { type: 4 },
      traffic_direction: p.direction,
      ...(p.l7 ? { l7: p.l7 } : {}),
    };
    if (p.verdict.verdict === "DROPPED") {
      flow.drop_reason_desc = p.verdict.reason;
      if (p.verdict.deniedBy)
        flow[p.verdict.direction === "INGRESS" ? "ingress_denied_by" : "egress_denied_by"] = [
          policyRef(p.verdict.deniedBy),
        ];
    } else if (!p.l7) {
      flow.trace_observation_point = at.ip === p.dst.ip ? "TO_ENDPOINT" : "TO_STACK";
      flow.trace_reason = p.isReply ? "REPLY" : p.flags?.includes("SYN") ? "NEW" : "ESTABLISHED";
    }
    if (p.isReply) flow.is_reply = true;
    if (at.namespace !== undefined)
      flow.interface = { index: ifIndex, name: `lxc${hex(at.ip).slice(0, 11)}` };
    flow.Summary = summary;
    return flow;
  }
}

function policyRef(r: PolicyRef): Record<string, unknown> {
  return {
    name: r.name,
    ...(r.namespace ? { namespace: r.namespace } : {}),
    labels: [
      `k8s:io.cilium.k8s.policy.derived-from=${r.kind}`,
      `k8s:io.cilium.k8s.policy.name=${r.name}`,
      ...(r.namespace ? [`k8s:io.cilium.k8s.policy.namespace=${r.namespace}`] : []),
    ],
    revision: r.revision,
    kind: r.kind,
  };
}

function dnsSummary(l7: Record<string, unknown>): string {
  const dns = l7.dns as { query?: string; ips?: string[]; qtypes?: string[] } | undefined;
  const q = dns?.query ?? "";
  const qt = dns?.qtypes?.[0] ?? "A";
  return l7.type === "RESPONSE"
    ? `DNS Answer "${(dns?.ips ?? []).join(",")}" TTL: 30 (Proxy ${q} ${qt})`
    : `DNS Query ${q} ${qt}`;
}

function hex(s: string): string {
  return hash(s).toString(16).padStart(8, "0") + hash(`${s}#`).toString(16).padStart(8, "0");
}

const macs = new Map<string, string>();

function mac(ip: string): string {
  let m = macs.get(ip);
  if (m === undefined) {
    if (macs.size > 50_000) macs.clear();
    macs.set(ip, (m = macOf(ip)));
  }
  return m;
}

function macOf(ip: string): string {
  const h = hex(ip);
  // Locally administered, unicast.
  const first = ((parseInt(h.slice(0, 2), 16) & 0xfc) | 0x02).toString(16).padStart(2, "0");
  return [first, h.slice(2, 4), h.slice(4, 6), h.slice(6, 8), h.slice(8, 10), h.slice(10, 12)].join(":");
}
