// The learned service map: per workload identity, whom it talks to (outgoing edges) and who talks to
// it (incoming edges), keyed by (peer, port, protocol). A peer is another in-cluster identity, a
// reserved identity (`host`, `kube-apiserver`, …), a DNS name, or an external /24 (IPv4) or /64
// (IPv6) when no name is known. Time comes only from the flows: learning ends for an identity once
// `learningMs` of flow time has passed since its first flow; from then on it is "enforcing" and the
// edges it has not shown before are kept but marked `novel` (so the map stays true to the traffic
// while detectors still treat them as unknown until an operator accepts them).
//
// Hot path: `resolve` + `record` run for every flow. Peer keys are interned through bounded caches
// and edges sit in nested maps (peer → packed port/protocol → edge), so a flow on a known edge
// allocates nothing.

import { z } from "zod";
import type { Flow, FlowPeer, FlowProtocol } from "./types.js";

export interface BaselineOptions {
  /** Flow time an identity learns before it enforces, from its first flow (default 24 h). */
  learningMs: number;
  /** Identities tracked; flows of further identities are counted in `overflowIdentities` only. */
  maxIdentities: number;
  /** Edges kept per identity and direction; further new edges only count in `overflowFlows`. */
  maxEdgesPerIdentity: number;
  /** Distinct DNS names kept per identity (for FQDN policies); beyond it `dnsNamesOverflow` is set. */
  maxDnsNamesPerIdentity: number;
  /** Address → DNS name entries remembered from DNS responses (oldest forgotten first). */
  maxResolvedAddresses: number;
  /** Weight of the latest minute in the per-minute rate EWMAs. */
  rateAlpha: number;
  /** Window over which the normal fan-out (distinct destinations/ports) is learnt. */
  fanOutWindowMs: number;
}

export const DEFAULT_BASELINE_OPTIONS: BaselineOptions = {
  learningMs: 24 * 3_600_000,
  maxIdentities: 2_000,
  maxEdgesPerIdentity: 256,
  maxDnsNamesPerIdentity: 64,
  maxResolvedAddresses: 8_192,
  rateAlpha: 0.1,
  fanOutWindowMs: 30_000,
};

export type PeerKind = "workload" | "external" | "dns" | "reserved";

/** A rate in events per minute: an EWMA over whole minutes plus the minute being counted. */
export interface MinuteRate {
  /** EWMA of completed minutes; -1 until the first minute completes. */
  rate: number;
  /** Minute index (ms / 60 000) being counted, -1 before the first event. */
  minute: number;
  count: number;
}

export interface Edge extends MinuteRate {
  flows: number;
  firstMs: number;
  lastMs: number;
  /** Bit h set when the edge carried a flow in hour h (UTC) of some day. */
  hours: number;
  /** First seen after the identity started enforcing and not accepted since. */
  novel: boolean;
}

export interface IdentityState {
  identity: string;
  namespace: string;
  selector?: Record<string, string>;
  firstMs: number;
  lastMs: number;
  /** Set once learning ended; undefined while learning. */
  enforcingSinceMs?: number;
  /** peer key → packed port/protocol → edge. */
  out: Map<string, Map<number, Edge>>;
  in: Map<string, Map<number, Edge>>;
  outCount: number;
  inCount: number;
  /** Packed port/protocol values this identity accepted connections on. */
  served: Set<number>;
  /** Flows on edges that could not be added because the identity was full. */
  overflowFlows: number;
  forwarded: number;
  dropped: number;
  /** Policy drops from or to this identity. */
  policyDrops: MinuteRate & { total: number };
  /** DNS queries this identity sent. */
  dns: MinuteRate & { total: number };
  dnsNames: Set<string>;
  dnsNamesOverflow: boolean;
  /** The two largest counts of distinct destination addresses / ports per fan-out window seen
   * while learning; the second is the "normal" fan-out (a level seen at least twice). */
  fanOut: { addresses: [number, number]; ports: [number, number] };
  fanOutWindow?: { index: number; addresses: Set<string>; ports: Set<number> };
}

/**
 * What `resolve` found about a flow; one instance is reused for every flow (read it before the
 * next call, never keep it).
 */
export interface ResolvedFlow {
  flow: Flow;
  src: IdentityState | undefined;
  dst: IdentityState | undefined;
  srcKey: string;
  dstKey: string;
  /** `packPort(dstPort, protocol)`. */
  portProto: number;
  /** For forwarded non-reply flows: the edge this flow is on, seen from each side, if recorded. */
  outEdge: Edge | undefined;
  inEdge: Edge | undefined;
}

/** The edge is in the baseline and was learnt (not novel). */
export const learnt = (e: Edge | undefined): boolean => e !== undefined && !e.novel;

const PROTOCOLS: readonly FlowProtocol[] = ["TCP", "UDP", "SCTP", "ICMPv4", "ICMPv6", "OTHER"];
const PROTOCOL_INDEX: Record<FlowProtocol, number> = {
  TCP: 0,
  UDP: 1,
  SCTP: 2,
  ICMPv4: 3,
  ICMPv6: 4,
  OTHER: 5,
};

/** Port and protocol in one number, so edge lookups need no string. */
export function packPort(port: number | undefined, protocol: FlowProtocol): number {
  return (port ?? 0) * 8 + PROTOCOL_INDEX[protocol];
}

export function unpackPort(packed: number): { port: number; protocol: FlowProtocol } {
  return { port: Math.floor(packed / 8), protocol: PROTOCOLS[packed % 8] ?? "OTHER" };
}

/** `443/TCP`, `ICMPv4`. */
export function portLabel(packed: number): string {
  const { port, protocol } = unpackPort(packed);
  return port ? `${port}/${protocol}` : protocol;
}

export function peerKind(key: string): PeerKind {
  if (key.startsWith("dns:")) return "dns";
  if (key.startsWith("cidr:") || key === "world") return "external";
  return key.includes("/") ? "workload" : "reserved";
}

/** The key without its kind prefix: `api.stripe.com`, `203.0.113.0/24`, `shop/cart`, `host`. */
export function peerName(key: string): string {
  if (key.startsWith("dns:")) return key.slice(4);
  if (key.startsWith("cidr:")) return key.slice(5);
  return key;
}

/** `10.1.2.0/24` for IPv4, `2001:db8:1:2::/64` for IPv6, undefined when not an address. */
export function cidrOf(ip: string): string | undefined {
  if (ip.includes(":")) {
    const [head = "", tail] = ip.split("::");
    const h = head ? head.split(":") : [];
    const t = tail ? tail.split(":") : [];
    const groups =
      tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill("0"), ...t];
    if (groups.length !== 8) return undefined;
    const prefix = groups.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16));
    while (prefix.length > 0 && prefix[prefix.length - 1] === "0") prefix.pop(); // RFC 5952: `2001:db8::/64`
    return `${prefix.join(":")}::/64`;
  }
  const dot = ip.lastIndexOf(".");
  if (dot < 0) return undefined;
  return `${ip.slice(0, dot)}.0/24`;
}

export const isWorld = (peer: FlowPeer): boolean => peer.identity.startsWith("world");

/** A new connection attempt: TCP SYN, or the first direction of any other protocol. */
export const isAttempt = (flow: Flow): boolean => !flow.isReply && (flow.protocol !== "TCP" || flow.syn);

export const isPolicyDrop = (flow: Flow): boolean =>
  flow.verdict === "DROPPED" && flow.dropReason !== undefined && flow.dropReason.startsWith("POLICY");

const MINUTE = 60_000;
const HOUR = 3_600_000;
const CACHE_LIMIT = 65_536;

function countMinute(r: MinuteRate, minute: number, alpha: number): void {
  if (minute > r.minute) {
    if (r.minute >= 0) {
      r.rate = r.rate < 0 ? r.count : r.rate + alpha * (r.count - r.rate);
      const idle = minute - r.minute - 1;
      if (idle > 0) r.rate *= Math.pow(1 - alpha, Math.min(idle, 100_000));
    }
    r.minute = minute;
    r.count = 0;
  }
  r.count++;
}

/** The per-minute rate including the minute being counted. */
export function ratePerMinute(r: MinuteRate, alpha: number): number {
  if (r.minute < 0) return 0;
  return r.rate < 0 ? r.count : r.rate + alpha * (r.count - r.rate);
}

/** The EWMA of completed minutes only (0 before one completed): the "normal" a spike is measured by. */
export const learnedRate = (r: MinuteRate): number => Math.max(0, r.rate);

const newRate = (): MinuteRate & { total: number } => ({ rate: -1, minute: -1, count: 0, total: 0 });

export class Baseline {
  readonly options: BaselineOptions;
  private readonly states = new Map<string, IdentityState>();
  /** ip → DNS name from DNS responses, oldest first. */
  private readonly resolved = new Map<string, string>();
  private readonly nameKeys = new Map<string, string>();
  private readonly cidrKeys = new Map<string, string>();
  private readonly view: ResolvedFlow;
  overflowIdentities = 0;

  constructor(options: Partial<BaselineOptions> = {}) {
    this.options = { ...DEFAULT_BASELINE_OPTIONS, ...options };
    this.view = {
      flow: undefined as unknown as Flow,
      src: undefined,
      dst: undefined,
      srcKey: "",
      dstKey: "",
      portProto: 0,
      outEdge: undefined,
      inEdge: undefined,
    };
  }

  /** Learn from one flow. */
  observe(flow: Flow): void {
    this.record(this.resolve(flow));
  }

  /**
   * Look a flow's sides up without learning from it (ends learning for an identity whose period
   * has passed by this flow's time). The result is reused by the next call.
   */
  resolve(flow: Flow): ResolvedFlow {
    const v = this.view;
    v.flow = flow;
    v.src = this.states.get(flow.src.identity);
    v.dst = this.states.get(flow.dst.identity);
    if (v.src) this.advance(v.src, flow.timeMs);
    if (v.dst) this.advance(v.dst, flow.timeMs);
    v.srcKey = this.peerKey(flow.src);
    v.dstKey = this.peerKey(flow.dst);
    v.portProto = packPort(flow.dstPort, flow.protocol);
    const edge = flow.verdict === "FORWARDED" && !flow.isReply;
    v.outEdge = edge ? v.src?.out.get(v.dstKey)?.get(v.portProto) : undefined;
    v.inEdge = edge ? v.dst?.in.get(v.srcKey)?.get(v.portProto) : undefined;
    return v;
  }

  /** Learn from a flow `resolve` just returned. */
  record(v: ResolvedFlow): void {
    const flow = v.flow;
    const t = flow.timeMs;
    const src = v.src ?? (flow.src.namespace !== undefined ? this.create(flow.src, t) : undefined);
    const dst = v.dst ?? (flow.dst.namespace !== undefined ? this.create(flow.dst, t) : undefined);
    const alpha = this.options.rateAlpha;
    const minute = Math.floor(t / MINUTE);
    if (src) this.touch(src, flow.src, t);
    if (dst) this.touch(dst, flow.dst, t);

    if (flow.dnsQuery !== undefined) {
      if (flow.isReply) {
        if (flow.dnsIps) for (const ip of flow.dnsIps) this.remember(ip, flow.dnsQuery);
      } else if (src) {
        src.dns.total++;
        countMinute(src.dns, minute, alpha);
        if (!src.dnsNames.has(flow.dnsQuery)) {
          if (src.dnsNames.size < this.options.maxDnsNamesPerIdentity) src.dnsNames.add(flow.dnsQuery);
          else src.dnsNamesOverflow = true;
        }
      }
    }

    if (flow.verdict === "DROPPED") {
      if (src) src.dropped++;
      if (dst) dst.dropped++;
      if (isPolicyDrop(flow)) {
        if (src) {
          src.policyDrops.total++;
          countMinute(src.policyDrops, minute, alpha);
        }
        if (dst && dst !== src) {
          dst.policyDrops.total++;
          countMinute(dst.policyDrops, minute, alpha);
        }
      }
      if (src && src.enforcingSinceMs === undefined && isAttempt(flow)) this.countFanOut(src, flow);
      return;
    }
    if (flow.verdict !== "FORWARDED" || flow.isReply) return;
    if (src) {
      src.forwarded++;
      if (src.enforcingSinceMs === undefined && isAttempt(flow)) this.countFanOut(src, flow);
      if (v.outEdge !== undefined) this.count(v.outEdge, t, minute);
      else this.addEdge(src, src.out, v.dstKey, v.portProto, t, minute, true);
    }
    if (dst) {
      if (dst !== src) dst.forwarded++;
      if (v.inEdge !== undefined) this.count(v.inEdge, t, minute);
      else this.addEdge(dst, dst.in, v.srcKey, v.portProto, t, minute, false);
      // Ports served after learning stay unknown to the detectors until accepted (`acceptNovel`).
      if (dst.enforcingSinceMs === undefined && dst.served.size < this.options.maxEdgesPerIdentity)
        dst.served.add(v.portProto);
    }
  }

  /** The peer key of a flow side: identity for pods and reserved identities, else name or CIDR. */
  peerKey(peer: FlowPeer): string {
    if (!isWorld(peer)) return peer.identity;
    const name = peer.names?.[0] ?? (peer.ip !== undefined ? this.resolved.get(peer.ip) : undefined);
    if (name !== undefined) {
      let key = this.nameKeys.get(name);
      if (key === undefined) {
        if (this.nameKeys.size >= CACHE_LIMIT) this.nameKeys.clear();
        key = `dns:${name.toLowerCase()}`;
        this.nameKeys.set(name, key);
      }
      return key;
    }
    return peer.ip === undefined ? "world" : this.addressKey(peer.ip);
  }

  /** The external peer key of an address regardless of names: `cidr:203.0.113.0/24`. */
  addressKey(ip: string): string {
    let key = this.cidrKeys.get(ip);
    if (key === undefined) {
      if (this.cidrKeys.size >= CACHE_LIMIT) this.cidrKeys.clear();
      const cidr = cidrOf(ip);
      key = cidr === undefined ? "world" : `cidr:${cidr}`;
      this.cidrKeys.set(ip, key);
    }
    return key;
  }

  get(identity: string): IdentityState | undefined {
    return this.states.get(identity);
  }

  identities(): IterableIterator<IdentityState> {
    return this.states.values();
  }

  get size(): number {
    return this.states.size;
  }

  isEnforcing(identity: string): boolean {
    return this.states.get(identity)?.enforcingSinceMs !== undefined;
  }

  /** A learned (not novel) edge from `identity` to `peerKey` on `portProto`. */
  knowsOut(state: IdentityState, peerKey: string, portProto: number): boolean {
    const e = state.out.get(peerKey)?.get(portProto);
    return e !== undefined && !e.novel;
  }

  knowsIn(state: IdentityState, peerKey: string, portProto: number): boolean {
    const e = state.in.get(peerKey)?.get(portProto);
    return e !== undefined && !e.novel;
  }

  /** End learning now for one identity (or all), e.g. when an operator trusts what was seen. */
  enforce(atMs: number, identity?: string): void {
    for (const s of identity === undefined ? this.states.values() : [this.states.get(identity)]) {
      if (s && s.enforcingSinceMs === undefined) s.enforcingSinceMs = atMs;
    }
  }

  /** Accept the novel edges of one identity (or all) into its baseline. */
  acceptNovel(identity?: string): number {
    let n = 0;
    for (const s of identity === undefined ? this.states.values() : [this.states.get(identity)]) {
      if (!s) continue;
      for (const side of [s.out, s.in])
        for (const m of side.values())
          for (const [pp, e] of m)
            if (e.novel) {
              e.novel = false;
              if (side === s.in) s.served.add(pp);
              n++;
            }
    }
    return n;
  }

  toJSON(): BaselineJSON {
    return {
      version: 1,
      options: { ...this.options },
      overflowIdentities: this.overflowIdentities,
      resolved: [...this.resolved],
      identities: [...this.states.values()].map(identityToJSON),
    };
  }

  /** Rebuild from `toJSON()` output; throws a zod error on a malformed object. */
  static fromJSON(json: unknown, options: Partial<BaselineOptions> = {}): Baseline {
    const data = BaselineJSONSchema.parse(json);
    const b = new Baseline({ ...data.options, ...options });
    b.overflowIdentities = data.overflowIdentities;
    for (const [ip, name] of data.resolved) b.remember(ip, name);
    for (const i of data.identities) b.states.set(i.identity, identityFromJSON(i));
    return b;
  }

  private advance(s: IdentityState, t: number): void {
    if (s.enforcingSinceMs === undefined && t - s.firstMs >= this.options.learningMs) s.enforcingSinceMs = t;
  }

  private touch(s: IdentityState, peer: FlowPeer, t: number): void {
    if (t > s.lastMs) s.lastMs = t;
    if (t < s.firstMs) s.firstMs = t;
    if (s.selector === undefined && peer.selector) s.selector = { ...peer.selector };
  }

  private create(peer: FlowPeer, t: number): IdentityState | undefined {
    if (this.states.size >= this.options.maxIdentities) {
      this.overflowIdentities++;
      return undefined;
    }
    const s: IdentityState = {
      identity: peer.identity,
      namespace: peer.namespace ?? "",
      firstMs: t,
      lastMs: t,
      out: new Map(),
      in: new Map(),
      outCount: 0,
      inCount: 0,
      served: new Set(),
      overflowFlows: 0,
      forwarded: 0,
      dropped: 0,
      policyDrops: newRate(),
      dns: newRate(),
      dnsNames: new Set(),
      dnsNamesOverflow: false,
      fanOut: { addresses: [0, 0], ports: [0, 0] },
    };
    if (peer.selector) s.selector = { ...peer.selector };
    if (this.options.learningMs <= 0) s.enforcingSinceMs = t;
    this.states.set(peer.identity, s);
    return s;
  }

  private addEdge(
    s: IdentityState,
    side: Map<string, Map<number, Edge>>,
    peer: string,
    portProto: number,
    t: number,
    minute: number,
    outgoing: boolean,
  ): void {
    let byPort = side.get(peer);
    let e = byPort?.get(portProto);
    if (e === undefined) {
      if ((outgoing ? s.outCount : s.inCount) >= this.options.maxEdgesPerIdentity) {
        s.overflowFlows++;
        return;
      }
      if (byPort === undefined) {
        byPort = new Map();
        side.set(peer, byPort);
      }
      e = {
        flows: 0,
        firstMs: t,
        lastMs: t,
        hours: 0,
        rate: -1,
        minute: -1,
        count: 0,
        novel: s.enforcingSinceMs !== undefined,
      };
      byPort.set(portProto, e);
      if (outgoing) s.outCount++;
      else s.inCount++;
    }
    this.count(e, t, minute);
  }

  private count(e: Edge, t: number, minute: number): void {
    e.flows++;
    if (t > e.lastMs) e.lastMs = t;
    e.hours |= 1 << Math.floor((t / HOUR) % 24);
    countMinute(e, minute, this.options.rateAlpha);
  }

  private countFanOut(s: IdentityState, flow: Flow): void {
    const index = Math.floor(flow.timeMs / this.options.fanOutWindowMs);
    let w = s.fanOutWindow;
    if (w === undefined) {
      w = { index, addresses: new Set(), ports: new Set() };
      s.fanOutWindow = w;
    } else if (index > w.index) {
      pushTop(s.fanOut.addresses, w.addresses.size);
      pushTop(s.fanOut.ports, w.ports.size);
      w.index = index;
      w.addresses.clear();
      w.ports.clear();
    }
    const limit = this.options.maxEdgesPerIdentity * 16;
    const addr = flow.dst.ip ?? flow.dst.identity;
    if (w.addresses.size < limit) w.addresses.add(addr);
    if (flow.dstPort !== undefined && w.ports.size < limit) w.ports.add(flow.dstPort);
  }

  private remember(ip: string, name: string): void {
    if (this.resolved.has(ip)) this.resolved.delete(ip);
    else if (this.resolved.size >= this.options.maxResolvedAddresses) {
      const oldest = this.resolved.keys().next();
      if (!oldest.done) this.resolved.delete(oldest.value);
    }
    this.resolved.set(ip, name);
  }
}

function pushTop(top: [number, number], n: number): void {
  if (n > top[0]) {
    top[1] = top[0];
    top[0] = n;
  } else if (n > top[1]) top[1] = n;
}

// ---- serialisation: a plain JSON object, edges as tuples to keep stored rows small ----

const rateSchema = z.object({ rate: z.number(), minute: z.number(), count: z.number(), total: z.number() });
const protocolSchema = z.enum(["TCP", "UDP", "SCTP", "ICMPv4", "ICMPv6", "OTHER"]);
/** [peer, port, protocol, flows, firstMs, lastMs, hours bitmap, rate EWMA, minute, count in minute, novel 0|1] */
const edgeTupleSchema = z.tuple([
  z.string(),
  z.number().int().min(0),
  protocolSchema,
  z.number(),
  z.number(),
  z.number(),
  z.number().int(),
  z.number(),
  z.number(),
  z.number(),
  z.union([z.literal(0), z.literal(1)]),
]);

const identitySchema = z.object({
  identity: z.string(),
  namespace: z.string(),
  selector: z.record(z.string(), z.string()).optional(),
  firstMs: z.number(),
  lastMs: z.number(),
  enforcingSinceMs: z.number().optional(),
  forwarded: z.number(),
  dropped: z.number(),
  overflowFlows: z.number(),
  policyDrops: rateSchema,
  dns: rateSchema.extend({ names: z.array(z.string()), namesOverflow: z.boolean() }),
  fanOut: z.object({
    addresses: z.tuple([z.number(), z.number()]),
    ports: z.tuple([z.number(), z.number()]),
  }),
  served: z.array(z.tuple([z.number().int().min(0), protocolSchema])),
  out: z.array(edgeTupleSchema),
  in: z.array(edgeTupleSchema),
});

export const BaselineJSONSchema = z.object({
  version: z.literal(1),
  options: z.object({
    learningMs: z.number().min(0),
    maxIdentities: z.number().int().positive(),
    maxEdgesPerIdentity: z.number().int().positive(),
    maxDnsNamesPerIdentity: z.number().int().min(0),
    maxResolvedAddresses: z.number().int().min(0),
    rateAlpha: z.number().gt(0).max(1),
    fanOutWindowMs: z.number().positive(),
  }),
  overflowIdentities: z.number(),
  resolved: z.array(z.tuple([z.string(), z.string()])),
  identities: z.array(identitySchema),
});

export type BaselineJSON = z.infer<typeof BaselineJSONSchema>;
type IdentityJSON = z.infer<typeof identitySchema>;
type EdgeTuple = z.infer<typeof edgeTupleSchema>;

function edgesToJSON(side: Map<string, Map<number, Edge>>): EdgeTuple[] {
  const rows: EdgeTuple[] = [];
  for (const [peer, byPort] of side)
    for (const [pp, e] of byPort) {
      const { port, protocol } = unpackPort(pp);
      rows.push([
        peer,
        port,
        protocol,
        e.flows,
        e.firstMs,
        e.lastMs,
        e.hours,
        e.rate,
        e.minute,
        e.count,
        e.novel ? 1 : 0,
      ]);
    }
  return rows;
}

function edgesFromJSON(rows: EdgeTuple[]): Map<string, Map<number, Edge>> {
  const side = new Map<string, Map<number, Edge>>();
  for (const [peer, port, protocol, flows, firstMs, lastMs, hours, rate, minute, count, novel] of rows) {
    let byPort = side.get(peer);
    if (!byPort) side.set(peer, (byPort = new Map()));
    byPort.set(packPort(port, protocol), {
      flows,
      firstMs,
      lastMs,
      hours,
      rate,
      minute,
      count,
      novel: novel === 1,
    });
  }
  return side;
}

function identityToJSON(s: IdentityState): IdentityJSON {
  const { total, rate, minute, count } = s.dns;
  return {
    identity: s.identity,
    namespace: s.namespace,
    ...(s.selector ? { selector: s.selector } : {}),
    firstMs: s.firstMs,
    lastMs: s.lastMs,
    ...(s.enforcingSinceMs !== undefined ? { enforcingSinceMs: s.enforcingSinceMs } : {}),
    forwarded: s.forwarded,
    dropped: s.dropped,
    overflowFlows: s.overflowFlows,
    policyDrops: { ...s.policyDrops },
    dns: { total, rate, minute, count, names: [...s.dnsNames], namesOverflow: s.dnsNamesOverflow },
    fanOut: { addresses: [...s.fanOut.addresses], ports: [...s.fanOut.ports] },
    served: [...s.served].map((pp) => {
      const { port, protocol } = unpackPort(pp);
      return [port, protocol];
    }),
    out: edgesToJSON(s.out),
    in: edgesToJSON(s.in),
  };
}

function identityFromJSON(j: IdentityJSON): IdentityState {
  const out = edgesFromJSON(j.out);
  const inc = edgesFromJSON(j.in);
  const s: IdentityState = {
    identity: j.identity,
    namespace: j.namespace,
    firstMs: j.firstMs,
    lastMs: j.lastMs,
    out,
    in: inc,
    outCount: j.out.length,
    inCount: j.in.length,
    served: new Set(j.served.map(([port, protocol]) => packPort(port, protocol))),
    overflowFlows: j.overflowFlows,
    forwarded: j.forwarded,
    dropped: j.dropped,
    policyDrops: { ...j.policyDrops },
    dns: { total: j.dns.total, rate: j.dns.rate, minute: j.dns.minute, count: j.dns.count },
    dnsNames: new Set(j.dns.names),
    dnsNamesOverflow: j.dns.namesOverflow,
    fanOut: { addresses: [...j.fanOut.addresses], ports: [...j.fanOut.ports] },
  };
  if (j.selector) s.selector = { ...j.selector };
  if (j.enforcingSinceMs !== undefined) s.enforcingSinceMs = j.enforcingSinceMs;
  return s;
}
