// The normalised flow every part of hubble-quarantine works on: ingestion (JSONL, CloudEvent
// batches, the Relay gRPC stream) turns a Hubble flow into this; the baseline and the detectors
// read only this. Kept flat and small: one instance per flow at 200k flows/s.

/** Who a side of a flow is. Workload identity, not pod names: pods come and go, identities stay. */
export interface FlowPeer {
  /**
   * The identity key the baseline learns per: `namespace/app` for pods (app from the
   * `app.kubernetes.io/name`, `app`, `k8s-app` labels, else the workload name, else the pod name
   * with its generated suffixes cut), `world` for addresses outside the cluster, `host`,
   * `remote-node`, `kube-apiserver` etc. for Cilium's reserved identities.
   */
  identity: string;
  /** Pods only. */
  namespace?: string;
  pod?: string;
  /** e.g. `Deployment/cart` when Hubble names the workload. */
  workload?: string;
  ip?: string;
  /**
   * The labels that make the identity, for policies: e.g. `{ app: "cart" }` (the label the
   * identity's app part came from). Absent for reserved identities and the world.
   */
  selector?: Record<string, string>;
  /** Cilium security identity number (0 when absent). */
  numericIdentity: number;
  /** DNS names Hubble attached to the address (destination_names / source_names). */
  names?: string[];
}

export type FlowVerdict =
  "FORWARDED" | "DROPPED" | "ERROR" | "AUDIT" | "REDIRECTED" | "TRACED" | "TRANSLATED" | "VERDICT_UNKNOWN";

export type FlowProtocol = "TCP" | "UDP" | "SCTP" | "ICMPv4" | "ICMPv6" | "OTHER";

export interface Flow {
  /** Milliseconds since the epoch (Hubble's nanoseconds are cut). */
  timeMs: number;
  verdict: FlowVerdict;
  /** e.g. `POLICY_DENIED`, `POLICY_DENY` (drop_reason_desc). */
  dropReason?: string;
  direction?: "INGRESS" | "EGRESS";
  /** A reply of an existing connection: not a new edge. */
  isReply: boolean;
  protocol: FlowProtocol;
  srcPort?: number;
  dstPort?: number;
  /** TCP SYN without ACK: a connection attempt. */
  syn: boolean;
  src: FlowPeer;
  dst: FlowPeer;
  /** DNS query name (L7 DNS flows), without the trailing dot. */
  dnsQuery?: string;
  dnsRcode?: number;
  /** Addresses a DNS response returned (l7.dns.ips), so the baseline can name later flows to them. */
  dnsIps?: string[];
  node?: string;
  uuid?: string;
}
