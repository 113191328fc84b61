// A Hubble flow (validated) → the normalised Flow. Identities are workload identities: the same
// endpoint shows up in thousands of flows, so its derivation is cached, and peers without DNS names
// are shared between flows (frozen: treat a Flow and its peers as read-only values).
import type { FlowEndpoint, FlowRead } from "./schema.js";
import type { Flow, FlowPeer, FlowProtocol } from "./types.js";

/** The part of a peer that depends only on the endpoint record, not on the packet. */
export interface PeerIdentity {
  readonly peer: Readonly<FlowPeer>;
  /** Peers of this identity per IP (bounded), so a flow's peer is usually a lookup. */
  readonly byIp: Map<string, FlowPeer>;
  /** The peer last taken at an address (the fast line reader tries it before the map). */
  last: Readonly<FlowPeer> | undefined;
}

// Label keys that name the app, strongest first (as Cilium prints them: with the `k8s:` source).
const APP_LABELS = ["k8s:app.kubernetes.io/name=", "k8s:app=", "k8s:k8s-app="] as const;
const NAMESPACE_LABEL = "k8s:io.kubernetes.pod.namespace=";
// Cilium's reserved identity numbers, for endpoints Hubble sent without labels.
const RESERVED_NUMBERS: Record<number, string> = {
  1: "host",
  2: "world",
  3: "unmanaged",
  4: "health",
  5: "init",
  6: "remote-node",
  7: "kube-apiserver",
  8: "ingress",
  9: "world",
  10: "world",
};
// pod-template-hash / generateName suffixes use this alphabet (k8s.io/apimachinery rand.SafeEncodeString).
const REPLICASET_POD = /^(.+)-[a-z0-9]{5,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$/;
const STATEFULSET_POD = /^(.+)-\d+$/;
const DAEMONSET_POD = /^(.+)-[bcdfghjklmnpqrstvwxz2456789]{5}$/;
const MAX_CACHED = 50_000;
const MAX_IPS_PER_IDENTITY = 4_096;

/** The app name of a pod named by a controller: `cart-7d9f8b6c5-x2k4p` → `cart`, `pg-0` → `pg`. */
export function appFromPodName(pod: string): string {
  return (
    REPLICASET_POD.exec(pod)?.[1] ?? STATEFULSET_POD.exec(pod)?.[1] ?? DAEMONSET_POD.exec(pod)?.[1] ?? pod
  );
}

/** The identity of an endpoint record (see FlowPeer.identity). */
export function derivePeerIdentity(ep: FlowEndpoint | undefined): PeerIdentity {
  const peer: FlowPeer = { identity: "unknown", numericIdentity: ep?.identity ?? 0 };
  const labels = ep?.labels ?? [];
  let reserved: string | undefined;
  const app: (string | undefined)[] = [undefined, undefined, undefined];
  let labelNamespace: string | undefined;
  for (const l of labels) {
    if (l.startsWith("reserved:")) {
      const name = l.slice(9);
      // world-ipv4/world-ipv6 (Cilium ≥ 1.15 dual stack) are the world; kube-apiserver beats the
      // host/remote-node label it comes with.
      const r = name.startsWith("world") ? "world" : name;
      if (reserved === undefined || r === "kube-apiserver") reserved = r;
    } else if (l.startsWith("k8s:")) {
      for (let i = 0; i < APP_LABELS.length; i++) {
        const prefix = APP_LABELS[i] as string;
        if (l.startsWith(prefix)) app[i] = l.slice(prefix.length);
      }
      if (l.startsWith(NAMESPACE_LABEL)) labelNamespace = l.slice(NAMESPACE_LABEL.length);
    }
  }
  const namespace = ep?.namespace ?? labelNamespace;
  const podName = ep?.pod_name;
  const workload = ep?.workloads?.[0];
  if (reserved !== undefined && namespace === undefined) peer.identity = reserved;
  else if (namespace !== undefined) {
    const i = app.findIndex((a) => a !== undefined);
    let name: string | undefined;
    if (i >= 0) {
      name = app[i] as string;
      const key = (APP_LABELS[i] as string).slice(4, -1);
      peer.selector = Object.freeze({ [key]: name });
    } else name = workload?.name ?? (podName ? appFromPodName(podName) : undefined);
    peer.identity = name ? `${namespace}/${name}` : namespace;
    peer.namespace = namespace;
    if (podName) peer.pod = podName;
    if (workload?.name) peer.workload = workload.kind ? `${workload.kind}/${workload.name}` : workload.name;
  } else if (ep?.identity !== undefined && RESERVED_NUMBERS[ep.identity])
    peer.identity = RESERVED_NUMBERS[ep.identity] as string;
  return { peer: Object.freeze(peer), byIp: new Map(), last: undefined };
}

/** The flow's peer for an identity at an address; shared (frozen) unless it carries DNS names. */
export function peerAt(id: PeerIdentity, ip: string | undefined, names: string[] | undefined): FlowPeer {
  if (names?.length) return ip === undefined ? { ...id.peer, names } : { ...id.peer, ip, names };
  if (ip === undefined) return id.peer;
  let p = id.byIp.get(ip);
  if (!p) {
    p = Object.freeze({ ...id.peer, ip });
    if (id.byIp.size < MAX_IPS_PER_IDENTITY) id.byIp.set(ip, p);
  }
  return p;
}

/**
 * Derives and caches peer identities per endpoint record content. One per reader (a JSONL stream,
 * a Relay connection); bounded, so a long-running reader does not grow without limit.
 */
export class FlowNormaliser {
  private readonly identities = new Map<string, PeerIdentity>();
  private lastTimePrefix = "";
  private lastTimeBase = 0;

  /** The identity of an endpoint record, cached by what it contains. */
  identity(ep: FlowEndpoint | undefined): PeerIdentity {
    if (!ep) return UNKNOWN;
    const w = ep.workloads?.[0];
    const key = `${ep.namespace ?? ""}\u0000${ep.pod_name ?? ""}\u0000${ep.identity ?? 0}\u0000${
      w ? `${w.kind ?? ""}/${w.name ?? ""}` : ""
    }\u0000${ep.labels?.join("\u0001") ?? ""}`;
    let id = this.identities.get(key);
    if (!id) {
      if (this.identities.size >= MAX_CACHED) this.identities.clear();
      this.identities.set(key, (id = derivePeerIdentity(ep)));
    }
    return id;
  }

  /** Milliseconds of an RFC 3339 time (nanoseconds cut); NaN when it is not one. */
  timeMs(t: string): number {
    // Flows of one second share the prefix: parse it once, then add the fraction.
    if (t.length >= 20 && t.charCodeAt(19) === 46 /* . */ && t.charCodeAt(t.length - 1) === 90 /* Z */) {
      const prefix = t.slice(0, 19);
      if (prefix !== this.lastTimePrefix) {
        this.lastTimeBase = Date.parse(`${prefix}Z`);
        this.lastTimePrefix = prefix;
      }
      const frac = t.slice(20, Math.min(23, t.length - 1));
      if (/^\d+$/.test(frac)) return this.lastTimeBase + Math.floor(Number(frac.padEnd(3, "0")));
    }
    return Date.parse(t);
  }

  /** The normalised flow from validated fields and the two endpoint identities. */
  build(
    f: Omit<FlowRead, "source" | "destination">,
    src: PeerIdentity,
    dst: PeerIdentity,
    nodeName?: string,
    fallbackTime?: string,
  ): Flow {
    const time = f.time ?? fallbackTime;
    const l4 = f.l4;
    let protocol: FlowProtocol = "OTHER";
    let ports: { source_port?: number; destination_port?: number } | undefined;
    let syn = false;
    if (l4?.TCP) {
      protocol = "TCP";
      ports = l4.TCP;
      syn = l4.TCP.flags?.SYN === true && l4.TCP.flags.ACK !== true;
    } else if (l4?.UDP) {
      protocol = "UDP";
      ports = l4.UDP;
    } else if (l4?.SCTP) {
      protocol = "SCTP";
      ports = l4.SCTP;
    } else if (l4?.ICMPv4) protocol = "ICMPv4";
    else if (l4?.ICMPv6) protocol = "ICMPv6";
    const flow: Flow = {
      timeMs: time === undefined ? 0 : this.timeMs(time),
      verdict: f.verdict ?? "VERDICT_UNKNOWN",
      isReply: f.is_reply === true,
      protocol,
      syn,
      src: peerAt(src, f.IP?.source, f.source_names),
      dst: peerAt(dst, f.IP?.destination, f.destination_names),
    };
    if (f.drop_reason_desc !== undefined) flow.dropReason = f.drop_reason_desc;
    if (f.traffic_direction === "INGRESS" || f.traffic_direction === "EGRESS")
      flow.direction = f.traffic_direction;
    if (ports?.source_port !== undefined) flow.srcPort = ports.source_port;
    if (ports?.destination_port !== undefined) flow.dstPort = ports.destination_port;
    const dns = f.l7?.dns;
    if (dns) {
      if (dns.query !== undefined)
        flow.dnsQuery = dns.query.endsWith(".") ? dns.query.slice(0, -1) : dns.query;
      // The answer's addresses: later flows to them carry no name, the baseline maps them back.
      if (dns.ips?.length) flow.dnsIps = dns.ips;
      // rcode 0 (NOERROR) is a zero value protojson omits; it only means something on answers.
      const rcode = dns.rcode ?? (f.l7?.type === "RESPONSE" ? 0 : undefined);
      if (rcode !== undefined) flow.dnsRcode = rcode;
    }
    const node = f.node_name ?? nodeName;
    if (node) flow.node = node;
    if (f.uuid !== undefined) flow.uuid = f.uuid;
    return flow;
  }

  normalise(f: FlowRead, nodeName?: string, fallbackTime?: string): Flow {
    return this.build(f, this.identity(f.source), this.identity(f.destination), nodeName, fallbackTime);
  }
}

const UNKNOWN = derivePeerIdentity(undefined);
const shared = new FlowNormaliser();

/**
 * The normalised flow of a validated Hubble flow. `nodeName` and `fallbackTime` come from the
 * GetFlowsResponse envelope when the flow itself lacks them. Without any time, `timeMs` is 0:
 * the readers reject such lines before they get here.
 */
export function normaliseFlow(f: FlowRead, nodeName?: string, fallbackTime?: string): Flow {
  return shared.normalise(f, nodeName, fallbackTime);
}
