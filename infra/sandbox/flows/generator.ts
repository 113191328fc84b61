// Samples the simulated traffic into Hubble flows each step: calls along the service graph at a
// rate the demand model drives (one sampled call per `1/sampleRate` requests, at most
// `maxCallsPerStep`), the DNS lookups before them, egress to external APIs, ingress from the
// world to the graph's roots, the kubelet's probes from each pod's node, and what an injected
// intrusion does. Verdicts come from the policies in the store. Deterministic for a seed: its own
// PRNG, pods in name order.
import { matcherFromSpec, type LabelSelectorSpec } from "../apiserver/selectors.js";
import type { ResourceType } from "../apiserver/resources.js";
import { arr, rec, type NetworkIntrusion, type SimContext } from "../controllers/context.js";
import { probePort } from "../controllers/kubelet.js";
import type { DemandRate } from "../demand.js";
import type { Random } from "../random.js";
import { hash, serviceGraph, type EgressEdge, type ServiceEdge } from "./graph.js";
import { loadPolicySet, POLICY_STORAGE_KEYS, PolicySet } from "./policy.js";
import { FlowRecorder, type FlowEndpoint } from "./record.js";
import type { HubbleFlow } from "./schema.js";

export interface FlowGeneratorOptions {
  ctx: SimContext;
  demand: DemandRate;
  random: Random;
  /** Sampled calls per request (default 0.02: one in fifty). */
  sampleRate?: number;
  /** Upper bound of sampled calls per step, intrusion traffic excluded (default 12). */
  maxCallsPerStep?: number;
  /** Cilium cluster name in identities and node names (default "default"). */
  clusterName?: string;
}

interface IndexedPod extends FlowEndpoint {
  namespace: string;
  workloadKey: string;
  port: number;
}

/** A readiness or liveness probe the kubelet sends from the pod's node every `periodMs`. */
interface Probe {
  pod: IndexedPod;
  host: FlowEndpoint;
  port: number;
  periodMs: number;
  /** Phase within the period, from the pod's name: probes of different pods do not line up. */
  offsetMs: number;
}

const WORLD_CLIENTS = ["203.0.113.", "198.51.100.", "192.0.2."];
const DNS_SHARE = 0.3;
export { POLICY_STORAGE_KEYS };

export class FlowGenerator {
  readonly recorder: FlowRecorder;
  private readonly sampleRate: number;
  private readonly maxCalls: number;
  private readonly podsDirty: () => boolean;
  private readonly policiesDirty: () => boolean;
  private indexedAt = -Infinity;
  private policies = new PolicySet([], new Map());
  private pods: IndexedPod[] = [];
  private byWorkload = new Map<string, IndexedPod[]>();
  /** Pods a workload's Service selects: calls go to these (a quarantined pod is out of them). */
  private byService = new Map<string, IndexedPod[]>();
  /** Running pods by name, ready or not: probes and an intrusion keep going while unready. */
  private running = new Map<string, IndexedPod>();
  private probes: Probe[] = [];
  /** The pod of a workload that runs the intrusion: it stays the same pod until it is gone. */
  private readonly attackers = new Map<string, string>();
  private dns: IndexedPod[] = [];
  private edges: (ServiceEdge | EgressEdge | { from: "world"; to: string; port: number; share: number })[] =
    [];
  private carry = 0;
  /** Wall milliseconds spent re-reading pods (for benchmarks). */
  indexMs = 0;

  constructor(private readonly opts: FlowGeneratorOptions) {
    this.recorder = new FlowRecorder(opts.clusterName ?? "default");
    this.sampleRate = opts.sampleRate ?? 0.02;
    this.maxCalls = opts.maxCallsPerStep ?? 12;
    this.podsDirty = opts.ctx.changes(["pods", "services", "namespaces"]);
    this.policiesDirty = opts.ctx.changes([...POLICY_STORAGE_KEYS.filter((k) => this.type(k)), "namespaces"]);
  }

  private type(storageKey: string): ResourceType | undefined {
    return this.opts.ctx.store.catalog.forStorageKey(storageKey);
  }

  /** The policy set the datapath enforces now. */
  policySet(): PolicySet {
    if (this.policiesDirty()) this.policies = loadPolicySet(this.opts.ctx.store);
    return this.policies;
  }

  /** Flows observed during the step that ends at `now` (dtMs long), in time order. */
  step(now: number, dtMs: number): HubbleFlow[] {
    if (dtMs <= 0) return [];
    // Re-reading thousands of pods is the expensive part: big clusters at most every 15 simulated
    // seconds (new pods and label changes show up that late), small ones every 2.
    const every = this.pods.length > 1000 ? 15_000 : 2_000;
    if (now - this.indexedAt >= every && this.podsDirty()) {
      const t0 = performance.now();
      this.index(now);
      this.indexMs += performance.now() - t0;
    }
    const policies = this.policySet();
    const out: Emitted[] = [];
    const r = this.opts.random;
    const start = now - dtMs;
    const t = () => start + r() * dtMs;
    const calls = this.sampleCalls(now, dtMs);
    for (const i of calls) {
      const e = this.edges[i];
      if (e) this.call(e, t(), policies, out);
    }
    this.probeFlows(start, now, policies, out);
    for (const [key, b] of this.opts.ctx.behaviour)
      if (b.networkIntrusion) this.intrusion(key, b.networkIntrusion, start, dtMs, policies, out);
    out.sort((a, b) => a.t - b.t);
    return out.map((e) => e.flow);
  }

  private index(now: number): void {
    const { ctx } = this.opts;
    this.indexedAt = now;
    const services = new Map(
      ctx.store
        .list(ctx.rt.services)
        .map((s) => [
          `${s.metadata.namespace}/${s.metadata.name}`,
          matcherFromSpec({ matchLabels: rec(rec(s.spec).selector) } as LabelSelectorSpec),
        ]),
    );
    const nodeIps = new Map(
      ctx.store
        .list(ctx.rt.nodes)
        .map((n) => [
          n.metadata.name ?? "",
          String(arr(rec(n.status).addresses).find((a) => a.type === "InternalIP")?.address ?? ""),
        ]),
    );
    const pods: IndexedPod[] = [];
    this.running = new Map();
    this.probes = [];
    const all = [...ctx.store.list(ctx.rt.pods)].sort((a, b) =>
      (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""),
    );
    for (const p of all) {
      const status = rec(p.status);
      const ip = status.podIP;
      if (status.phase !== "Running" || typeof ip !== "string") continue;
      const key = ctx.runtimes.get(p.metadata.uid ?? "")?.workload ?? ctx.workloadOf(p) ?? "";
      const [, kind = "Pod", name = p.metadata.name ?? ""] = key.split("/");
      const containers = arr(rec(p.spec).containers);
      const port = Number(arr(containers[0]?.ports)[0]?.containerPort ?? 8080);
      const node = String(rec(p.spec).nodeName ?? "");
      const pod: IndexedPod = {
        ip,
        namespace: p.metadata.namespace ?? "default",
        labels: p.metadata.labels ?? {},
        podName: p.metadata.name ?? "",
        node,
        workload: { name, kind },
        workloadKey: key,
        port,
      };
      this.running.set(pod.podName ?? "", pod);
      const host: FlowEndpoint = { ip: nodeIps.get(node) || "10.0.0.1", entity: "host", node };
      for (const c of containers)
        for (const probe of [rec(c.readinessProbe), rec(c.livenessProbe)]) {
          const port = probePort(probe, c);
          if (port === undefined) continue;
          const periodMs = Number(probe.periodSeconds ?? 10) * 1000;
          const offsetMs = hash(`${pod.podName}/${String(c.name)}/${port}`) % periodMs;
          this.probes.push({ pod, host, port, periodMs, offsetMs });
        }
      if (arr(status.conditions).some((c) => c.type === "Ready" && c.status === "True")) pods.push(pod);
    }
    this.pods = pods;
    this.byWorkload = new Map();
    this.byService = new Map();
    for (const p of pods) {
      this.byWorkload.set(p.workloadKey, [...(this.byWorkload.get(p.workloadKey) ?? []), p]);
      const [ns = "", , name = ""] = p.workloadKey.split("/");
      const selects = services.get(`${ns}/${name}`);
      if (selects?.(p.labels))
        this.byService.set(p.workloadKey, [...(this.byService.get(p.workloadKey) ?? []), p]);
    }
    this.dns = pods.filter((p) => p.labels?.["k8s-app"] === "kube-dns");
    if (!this.dns.length) this.dns = coreDns(pods[0]?.node);
    const graphWorkloads = [...this.byWorkload].flatMap(([key, list]) => {
      const [namespace = "", , name = ""] = key.split("/");
      const first = list[0];
      return first && services.has(`${namespace}/${name}`)
        ? [{ key, namespace, name, port: first.port }]
        : [];
    });
    const { edges, egress } = serviceGraph(graphWorkloads);
    const called = new Set(edges.map((e) => e.to));
    const roots = graphWorkloads.filter((w) => !called.has(w.key));
    this.edges = [
      ...edges,
      ...egress,
      ...roots.map((w) => ({ from: "world" as const, to: w.key, port: w.port, share: 1 })),
    ];
  }

  /** Indices into `edges` of the calls sampled this step. */
  private sampleCalls(now: number, dtMs: number): number[] {
    if (!this.edges.length) return [];
    const when = new Date(now);
    const rps = new Map<string, number>();
    const rateOf = (key: string) => {
      let v = rps.get(key);
      if (v === undefined) rps.set(key, (v = this.opts.demand(key, when).rps));
      return v;
    };
    const cumulative: number[] = [];
    let total = 0;
    for (const e of this.edges) {
      total += rateOf(e.from === "world" ? (e as { to: string }).to : e.from) * e.share;
      cumulative.push(total);
    }
    const expected = total * (dtMs / 1000) * this.sampleRate + this.carry;
    const n = Math.min(this.maxCalls, Math.floor(expected));
    this.carry = expected - Math.floor(expected);
    const r = this.opts.random;
    const picks: number[] = [];
    for (let i = 0; i < n; i++) {
      const x = r() * total;
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((cumulative[mid] ?? 0) < x) lo = mid + 1;
        else hi = mid;
      }
      picks.push(lo);
    }
    return picks;
  }

  private pick<T>(list: T[]): T | undefined {
    return list[Math.floor(this.opts.random() * list.length)];
  }

  private call(
    e: ServiceEdge | EgressEdge | { from: "world"; to: string; port: number },
    at: number,
    policies: PolicySet,
    out: Emitted[],
  ): void {
    const r = this.opts.random;
    if (e.from === "world") {
      const dst = this.pick(this.byService.get((e as { to: string }).to) ?? []);
      if (!dst) return;
      const src: FlowEndpoint = {
        ip: `${this.pick(WORLD_CLIENTS) ?? "203.0.113."}${1 + Math.floor(r() * 250)}`,
      };
      this.tcp(src, dst, e.port, at, policies, out);
      return;
    }
    const src = this.pick(this.byWorkload.get(e.from) ?? []);
    if (!src) return;
    let dst: FlowEndpoint | undefined;
    let name: string;
    if ("fqdn" in e) {
      dst = { ip: e.ip, fqdn: e.fqdn };
      name = `${e.fqdn}.`;
    } else {
      dst = this.pick(this.byService.get(e.to) ?? []);
      const [ns, , svc] = e.to.split("/");
      name = `${svc}.${ns}.svc.cluster.local.`;
    }
    if (!dst) return;
    if (r() < DNS_SHARE && !this.lookup(src, name, [dst.ip], at - 0.002, policies, out)) return;
    this.tcp(src, dst, e.port, at, policies, out);
  }

  /** A DNS query and its answer (or the drop); false when the lookup was dropped. */
  private lookup(
    src: IndexedPod,
    query: string,
    ips: string[],
    at: number,
    policies: PolicySet,
    out: Emitted[],
  ): boolean {
    const server = this.pick(this.dns);
    if (!server) return true;
    const sport = this.port();
    const verdict = policies.decide(src, server, 53, "UDP");
    if (verdict.verdict === "DROPPED") {
      this.emit(out, at, {
        src,
        dst: server,
        protocol: "UDP",
        sport,
        dport: 53,
        verdict,
        direction: verdict.direction,
        isReply: false,
        observedAt: verdict.direction === "EGRESS" ? src : server,
      });
      return false;
    }
    const qtypes = ["A"];
    this.emit(out, at, {
      src,
      dst: server,
      protocol: "UDP",
      sport,
      dport: 53,
      verdict,
      direction: "EGRESS",
      isReply: false,
      observedAt: src,
      l7: { type: "REQUEST", dns: { query, qtypes, observation_source: "proxy" } },
    });
    const latency = 200_000 + Math.floor(this.opts.random() * 2_000_000);
    this.emit(out, at + latency / 1e6, {
      src: server,
      dst: src,
      protocol: "UDP",
      sport: 53,
      dport: sport,
      verdict,
      direction: "EGRESS",
      isReply: true,
      observedAt: src,
      l7: {
        type: "RESPONSE",
        latency_ns: String(latency),
        dns: { query, ips, ttl: 30, qtypes, rrtypes: ["A"], observation_source: "proxy" },
      },
    });
    return true;
  }

  /** A TCP exchange: the request and the reply, or the drop. `open` false answers with a reset. */
  private tcp(
    src: FlowEndpoint,
    dst: FlowEndpoint,
    dport: number,
    at: number,
    policies: PolicySet,
    out: Emitted[],
    open = true,
    syn?: boolean,
  ): void {
    const sport = this.port();
    const verdict = policies.decide(src, dst, dport, "TCP");
    const isNew = syn ?? this.opts.random() < 0.3;
    if (verdict.verdict === "DROPPED") {
      this.emit(out, at, {
        src,
        dst,
        protocol: "TCP",
        sport,
        dport,
        flags: ["SYN"],
        verdict,
        direction: verdict.direction,
        isReply: false,
        observedAt: verdict.direction === "EGRESS" ? src : dst,
      });
      return;
    }
    const toPod = dst.namespace !== undefined;
    const direction = toPod ? "INGRESS" : "EGRESS";
    this.emit(out, at, {
      src,
      dst,
      protocol: "TCP",
      sport,
      dport,
      flags: isNew ? ["SYN"] : ["ACK", "PSH"],
      verdict,
      direction,
      isReply: false,
      observedAt: toPod ? dst : src,
    });
    const replyFlags = !open ? ["ACK", "RST"] : isNew ? ["SYN", "ACK"] : ["ACK"];
    const fromPod = src.namespace !== undefined;
    this.emit(out, at + 0.0005 + this.opts.random() * 0.003, {
      src: dst,
      dst: src,
      protocol: "TCP",
      sport: dport,
      dport: sport,
      flags: replyFlags,
      verdict,
      direction: fromPod ? "EGRESS" : "INGRESS",
      isReply: true,
      observedAt: fromPod ? src : dst,
    });
  }

  private intrusion(
    key: string,
    b: NetworkIntrusion,
    start: number,
    dtMs: number,
    policies: PolicySet,
    out: Emitted[],
  ): void {
    let attacker = this.running.get(this.attackers.get(key) ?? "");
    if (!attacker) {
      attacker = this.byWorkload.get(key)?.[0];
      if (attacker) this.attackers.set(key, attacker.podName ?? "");
    }
    if (!attacker || !this.pods.length) return;
    const r = this.opts.random;
    const n = Math.min(1000, Math.round((b.scanPerSecond * dtMs) / 1000));
    for (let i = 0; i < n; i++) {
      const target = this.pick(this.pods);
      const port = this.pick(b.ports) ?? 22;
      if (!target || target === attacker) continue;
      this.tcp(
        attacker,
        target,
        port,
        start + ((i + r()) / n) * dtMs,
        policies,
        out,
        port === target.port,
        true,
      );
    }
    this.tcp(attacker, { ip: b.egressIp }, b.egressPort, start + r() * dtMs, policies, out, true, true);
    if (b.tunnelDomain) {
      const label = Array.from(
        { length: 48 },
        () => "abcdefghijklmnopqrstuvwxyz234567"[Math.floor(r() * 32)],
      ).join("");
      this.lookup(attacker, `${label}.${b.tunnelDomain}.`, [], start + r() * dtMs, policies, out);
    }
  }

  /**
   * The kubelet's probes due in [start, now) as TCP connections from the node. Every probe of a pod
   * under an ingress policy is recorded (its verdict is the datapath's); others, always forwarded,
   * at the call sampling rate, so thousands of probed pods stay cheap.
   */
  private probeFlows(start: number, now: number, policies: PolicySet, out: Emitted[]): void {
    for (const p of this.probes) {
      let t = p.offsetMs + Math.ceil((start - p.offsetMs) / p.periodMs) * p.periodMs;
      if (t >= now) continue;
      const policed = policies.policesIngress(p.pod);
      for (; t < now; t += p.periodMs)
        if (policed || this.opts.random() < this.sampleRate)
          this.tcp(p.host, p.pod, p.port, t, policies, out, true, true);
    }
  }

  private port(): number {
    return 32768 + Math.floor(this.opts.random() * 28232);
  }

  private emit(
    out: Emitted[],
    t: number,
    p: Omit<Parameters<FlowRecorder["record"]>[0], "time" | "uuid">,
  ): void {
    out.push({ t, flow: this.recorder.record({ ...p, time: nanoTime(t), uuid: this.uuid() }) });
  }

  private uuid(): string {
    const r = this.opts.random;
    const h = () =>
      Math.floor(r() * 2 ** 32)
        .toString(16)
        .padStart(8, "0");
    const [a, b, c, d] = [h(), h(), h(), h()];
    const variant = "89ab"[Math.floor(r() * 4)] ?? "8";
    return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${variant}${c.slice(1, 4)}-${c.slice(4)}${d}`;
  }
}

interface Emitted {
  t: number;
  flow: HubbleFlow;
}

/** RFC 3339 with nanoseconds, as Hubble prints it. */
function nanoTime(ms: number): string {
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString();
  const nanos = String(Math.min(999_999, Math.floor((ms - whole) * 1e6))).padStart(6, "0");
  return `${iso.slice(0, -1)}${nanos}Z`;
}

/** Cluster DNS when the scenario has no kube-dns pods: two CoreDNS replicas in kube-system. */
function coreDns(node: string | undefined): IndexedPod[] {
  return ["coredns-668d6bf9bc-2xk7p", "coredns-668d6bf9bc-9qwzl"].map((podName, i) => ({
    ip: `10.244.255.${10 + i}`,
    namespace: "kube-system",
    labels: { "k8s-app": "kube-dns" },
    podName,
    node: node ?? "",
    workload: { name: "coredns", kind: "Deployment" },
    workloadKey: "kube-system/Deployment/coredns",
    port: 53,
  }));
}
