// A Karpenter model over karpenter.sh/v1 NodePools and NodeClaims: unschedulable pods are packed
// onto new NodeClaims (cheapest instance type satisfying the pool's requirements, taints and
// limits), each becoming a Ready Node after the launch delay; empty nodes are consolidated after
// consolidateAfter; pools with spec.replicas are kept at that many nodes (static capacity). Pods
// nominated to a node by a preemption are left to the scheduler, as Karpenter does.
import type { ResourceType } from "../apiserver/resources.js";
import type { KubeObject } from "../apiserver/types.js";
import { arr, isTerminal, podRequests, rec, type Obj, type PodRequests, type SimContext } from "./context.js";
import {
  allocatableMemoryMi,
  allocatableMilliCpu,
  instanceLabels,
  instanceTypes,
  MAX_PODS,
  type InstanceType,
} from "./instance-types.js";
import {
  matchesNodeAffinity,
  requirementMatches,
  untoleratedTaint,
  type Capacity,
  type Taint,
} from "./placement.js";
import { milliCpu, parseQuantity } from "./quantity.js";

const SOURCE = { component: "karpenter" };
const POOL = "karpenter.sh/nodepool";
const ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"];

interface Offering {
  type: InstanceType;
  zone: string;
  capacityType: string;
  labels: Record<string, string>;
  price: number;
}

interface Inflight {
  claim: string;
  pool: string;
  labels: Record<string, string>;
  taints: Taint[];
  free: Capacity;
}

export function parseDuration(text: unknown, fallbackMs: number): number {
  if (typeof text !== "string") return fallbackMs;
  if (text === "Never") return Infinity;
  let ms = 0;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let m: RegExpExecArray | null;
  let any = false;
  while ((m = re.exec(text))) {
    any = true;
    const n = Number(m[1]);
    ms += n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"] ?? 0);
  }
  return any ? ms : fallbackMs;
}

export class Karpenter {
  private readonly nominated = new Map<string, string>();
  private readonly emptySince = new Map<string, number>();
  private readonly failureEventAt = new Map<string, number>();
  private nodeSeq = 0;
  private readonly changed: () => boolean;

  constructor(private readonly ctx: SimContext) {
    this.changed = ctx.changes([
      "pods",
      "nodes",
      "nodeclaims.karpenter.sh",
      "nodepools.karpenter.sh",
      "daemonsets.apps",
    ]);
  }

  private types(): { pools: ResourceType; claims: ResourceType } | undefined {
    const cat = this.ctx.store.catalog;
    const pools = cat.forStorageKey("nodepools.karpenter.sh");
    const claims = cat.forStorageKey("nodeclaims.karpenter.sh");
    return pools && claims ? { pools, claims } : undefined;
  }

  step(): void {
    const rts = this.types();
    if (!rts) return;
    const ctx = this.ctx;
    const claims = ctx.store.list(rts.claims);
    const launching = claims.some((c) => !rec(c.status).nodeName);
    // Quiet cluster, nothing launching, no empty node on a timer: nothing can change this step.
    if (!this.changed() && !launching && !this.emptySince.size) return;
    const pools = ctx.store.list(rts.pools).filter((p) => !p.metadata.deletionTimestamp);
    this.launch(rts.claims, claims);
    this.keepStatic(rts.claims, pools, claims);
    const pods = ctx.store.list(ctx.rt.pods);
    this.provision(rts.claims, pools, ctx.store.list(rts.claims), pods);
    this.consolidate(rts.claims, pools, pods);
    this.writePoolStatus(rts.pools, pools);
    this.changed(); // our own writes are not news
  }

  // ---- offerings --------------------------------------------------------------------------------

  private poolTemplate(pool: KubeObject): {
    labels: Record<string, string>;
    taints: Taint[];
    requirements: Obj[];
  } {
    const tpl = rec(rec(pool.spec).template);
    return {
      labels: {
        ...(rec(rec(tpl.metadata).labels) as Record<string, string>),
        [POOL]: pool.metadata.name ?? "",
      },
      taints: arr(rec(tpl.spec).taints).map((t) => ({
        key: String(t.key),
        ...(t.value !== undefined ? { value: String(t.value) } : {}),
        effect: String(t.effect),
      })),
      requirements: arr(rec(tpl.spec).requirements),
    };
  }

  /** Every (instance type, zone, capacity type) the pool allows, cheapest first. */
  offerings(pool: KubeObject): Offering[] {
    const { labels, requirements } = this.poolTemplate(pool);
    const out: Offering[] = [];
    for (const type of instanceTypes)
      for (const zone of ZONES)
        for (const capacityType of ["spot", "on-demand"]) {
          const l = {
            ...labels,
            ...instanceLabels(type),
            "karpenter.sh/capacity-type": capacityType,
            "topology.kubernetes.io/zone": zone,
            "topology.kubernetes.io/region": "us-east-1",
          };
          if (!requirements.every((r) => requirementMatches(r, l, {}))) continue;
          const price = capacityType === "spot" ? type.price * 0.35 : type.price;
          out.push({ type, zone, capacityType, labels: l, price });
        }
    return out.sort(
      (a, b) => a.price - b.price || a.type.name.localeCompare(b.type.name) || a.zone.localeCompare(b.zone),
    );
  }

  private daemonOverhead(labels: Record<string, string>, taints: Taint[]): PodRequests {
    const sum = { cpu: 0, memory: 0 };
    for (const ds of this.ctx.store.list(this.ctx.rt.daemonsets)) {
      const tpl = rec(rec(ds.spec).template);
      const pod = { apiVersion: "v1", kind: "Pod", metadata: {}, spec: tpl.spec } as KubeObject;
      if (untoleratedTaint(pod, taints) || !matchesNodeAffinity(pod, labels, "")) continue;
      const r = podRequests(pod);
      sum.cpu += r.cpu;
      sum.memory += r.memory;
    }
    return sum;
  }

  private capacityOf(o: Offering, taints: Taint[]): Capacity {
    const ds = this.daemonOverhead(o.labels, taints);
    return {
      cpu: allocatableMilliCpu(o.type.cpu) - ds.cpu,
      memory: allocatableMemoryMi(o.type.memoryGi) * 2 ** 20 - ds.memory,
      pods: MAX_PODS,
    };
  }

  private poolUsage(pool: string): { cpu: number; memory: number } {
    const rts = this.types();
    const sum = { cpu: 0, memory: 0 };
    if (!rts) return sum;
    for (const c of this.ctx.store.list(rts.claims)) {
      if (c.metadata.labels?.[POOL] !== pool) continue;
      const cap = rec(rec(c.status).capacity);
      const req = rec(rec(c.spec).resources).requests;
      sum.cpu += milliCpu(cap.cpu ?? rec(req).cpu);
      sum.memory += parseQuantity(cap.memory ?? rec(req).memory);
    }
    return sum;
  }

  private withinLimits(pool: KubeObject, o: Offering): boolean {
    const limits = rec(rec(pool.spec).limits);
    const used = this.poolUsage(pool.metadata.name ?? "");
    if (limits.cpu !== undefined && used.cpu + o.type.cpu * 1000 > milliCpu(limits.cpu)) return false;
    if (limits.memory !== undefined && used.memory + o.type.memoryGi * 2 ** 30 > parseQuantity(limits.memory))
      return false;
    return true;
  }

  // ---- provisioning -----------------------------------------------------------------------------

  private provision(
    claimRt: ResourceType,
    pools: KubeObject[],
    claims: KubeObject[],
    pods: KubeObject[],
  ): void {
    const dynamic = pools
      .filter((p) => rec(p.spec).replicas === undefined)
      .sort(
        (a, b) =>
          Number(rec(b.spec).weight ?? 0) - Number(rec(a.spec).weight ?? 0) ||
          String(a.metadata.name).localeCompare(String(b.metadata.name)),
      );
    const inflight: Inflight[] = [];
    const byUid = new Map(pods.map((p) => [p.metadata.uid ?? "", p]));
    for (const c of claims) {
      if (rec(c.status).nodeName) continue;
      const labels = (c.metadata.labels ?? {}) as Record<string, string>;
      const free = {
        cpu: milliCpu(rec(rec(c.status).allocatable).cpu),
        memory: parseQuantity(rec(rec(c.status).allocatable).memory),
        pods: MAX_PODS,
      };
      for (const [uid, name] of this.nominated) {
        if (name !== c.metadata.name) continue;
        const p = byUid.get(uid);
        if (!p) continue;
        const r = podRequests(p);
        free.cpu -= r.cpu;
        free.memory -= r.memory;
        free.pods -= 1;
      }
      const taints = arr(rec(c.spec).taints).map((t) => ({
        key: String(t.key),
        ...(t.value !== undefined ? { value: String(t.value) } : {}),
        effect: String(t.effect),
      }));
      inflight.push({ claim: c.metadata.name ?? "", pool: labels[POOL] ?? "", labels, taints, free });
    }
    const claimNames = new Set(claims.map((c) => c.metadata.name));
    for (const [uid, name] of [...this.nominated]) {
      const p = byUid.get(uid);
      if (!p || rec(p.spec).nodeName || !claimNames.has(name)) this.nominated.delete(uid);
    }
    const ctx = this.ctx;
    const pending = pods.filter((p) => {
      const spec = rec(p.spec);
      if (spec.nodeName || isTerminal(p) || p.metadata.deletionTimestamp) return false;
      if (p.metadata.ownerReferences?.some((o) => o.kind === "DaemonSet")) return false;
      // A pod that preempted others waits for the space it freed (Karpenter's IsPreempting).
      const preempting = rec(p.status).nominatedNodeName;
      if (typeof preempting === "string" && preempting && ctx.store.get(ctx.rt.nodes, undefined, preempting))
        return false;
      const sched = arr(rec(p.status).conditions).find((c) => c.type === "PodScheduled");
      return sched?.status === "False" && sched.reason === "Unschedulable";
    });
    for (const pod of pending) {
      const uid = pod.metadata.uid ?? "";
      const claimName = this.nominated.get(uid);
      if (claimName && claimNames.has(claimName)) continue;
      const req = podRequests(pod);
      const fits = (labels: Record<string, string>, taints: Taint[]) =>
        !untoleratedTaint(pod, taints) && matchesNodeAffinity(pod, labels, "");
      const existing = inflight.find(
        (f) =>
          fits(f.labels, f.taints) &&
          f.free.cpu >= req.cpu &&
          f.free.memory >= req.memory &&
          f.free.pods >= 1,
      );
      if (existing) {
        this.nominate(pod, existing, req);
        continue;
      }
      const reasons: string[] = [];
      let launched: Inflight | undefined;
      for (const pool of dynamic) {
        const tpl = this.poolTemplate(pool);
        const taint = untoleratedTaint(pod, tpl.taints);
        if (taint) {
          const t = tpl.taints.find((x) => taint.includes(`{${x.key}:`));
          reasons.push(
            `incompatible with nodepool "${pool.metadata.name}", did not tolerate taint ${t?.key}=${t?.value ?? ""}:${t?.effect}`,
          );
          continue;
        }
        const offers = this.offerings(pool).filter((o) => matchesNodeAffinity(pod, o.labels, ""));
        if (!offers.length) {
          reasons.push(
            `incompatible with nodepool "${pool.metadata.name}", ${this.requirementConflict(pod, pool)}`,
          );
          continue;
        }
        const fitting = offers.filter((o) => {
          const cap = this.capacityOf(o, tpl.taints);
          return cap.cpu >= req.cpu && cap.memory >= req.memory;
        });
        if (!fitting.length) {
          reasons.push(
            `incompatible with nodepool "${pool.metadata.name}", no instance type satisfied resources {"cpu":"${req.cpu}m","memory":"${req.memory}","pods":"1"}`,
          );
          continue;
        }
        const allowed = fitting.filter((o) => this.withinLimits(pool, o));
        if (!allowed.length) {
          reasons.push(`all available instance types exceed limits for nodepool: "${pool.metadata.name}"`);
          continue;
        }
        // Size the node for this pod and the compatible pods queued behind it, as a batch would.
        const want = pending
          .filter(
            (p) => !this.nominated.has(p.metadata.uid ?? "") && fits(allowed[0]?.labels ?? {}, tpl.taints),
          )
          .reduce((s, p) => ({ cpu: s.cpu + podRequests(p).cpu, memory: s.memory + podRequests(p).memory }), {
            cpu: 0,
            memory: 0,
          });
        const big = allowed.find((o) => {
          const cap = this.capacityOf(o, tpl.taints);
          return cap.cpu >= want.cpu && cap.memory >= want.memory;
        });
        const choice =
          big ??
          [...allowed].sort(
            (a, b) => b.type.cpu - a.type.cpu || a.price - b.price || a.type.name.localeCompare(b.type.name),
          )[0];
        if (!choice) continue;
        launched = this.createClaim(claimRt, pool, choice, tpl.taints);
        inflight.push(launched);
        claimNames.add(launched.claim);
        break;
      }
      if (launched) this.nominate(pod, launched, req);
      else this.reportFailure(pod, reasons);
    }
  }

  /** Karpenter's wording for the first nodeSelector key the pool's offerings cannot satisfy. */
  private requirementConflict(pod: KubeObject, pool: KubeObject): string {
    const offers = this.offerings(pool);
    for (const [k, v] of Object.entries(rec(rec(pod.spec).nodeSelector))) {
      const values = [...new Set(offers.map((o) => o.labels[k]).filter((x) => x !== undefined))].sort();
      if (!values.includes(String(v)))
        return `incompatible requirements, key ${k}, ${k} In [${String(v)}] not in ${k} ${values.length ? `In [${values.join(" ")}]` : "DoesNotExist"}`;
    }
    return "incompatible requirements";
  }

  private nominate(pod: KubeObject, f: Inflight, req: PodRequests): void {
    f.free.cpu -= req.cpu;
    f.free.memory -= req.memory;
    f.free.pods -= 1;
    this.nominated.set(pod.metadata.uid ?? "", f.claim);
    this.ctx.event(pod, "Normal", "Nominated", `Pod should schedule on: nodeclaim/${f.claim}`, SOURCE);
  }

  private reportFailure(pod: KubeObject, reasons: string[]): void {
    const uid = pod.metadata.uid ?? "";
    const last = this.failureEventAt.get(uid);
    if (last !== undefined && this.ctx.nowMs - last < 60_000) return;
    this.failureEventAt.set(uid, this.ctx.nowMs);
    const msg = reasons.length
      ? `Failed to schedule pod, ${reasons.join("; ")}`
      : "Failed to schedule pod, no nodepools found";
    this.ctx.event(pod, "Warning", "FailedScheduling", msg, SOURCE);
  }

  private createClaim(claimRt: ResourceType, pool: KubeObject, o: Offering, taints: Taint[]): Inflight {
    const ctx = this.ctx;
    const poolName = pool.metadata.name ?? "";
    const name = `${poolName}-${ctx.suffix(5)}`;
    const cap = this.capacityOf(o, taints);
    const allocatable = {
      cpu: `${allocatableMilliCpu(o.type.cpu)}m`,
      memory: `${allocatableMemoryMi(o.type.memoryGi)}Mi`,
      pods: String(MAX_PODS),
      "ephemeral-storage": "17Gi",
    };
    const tpl = rec(rec(pool.spec).template);
    ctx.store.create(claimRt, {
      apiVersion: "karpenter.sh/v1",
      kind: "NodeClaim",
      metadata: {
        name,
        labels: o.labels,
        annotations: {
          "karpenter.sh/nodepool-hash": "4010951020068392240",
          "karpenter.sh/nodepool-hash-version": "v3",
        },
        ownerReferences: [
          {
            apiVersion: "karpenter.sh/v1",
            kind: "NodePool",
            name: poolName,
            uid: pool.metadata.uid ?? "",
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        requirements: [
          ...arr(rec(tpl.spec).requirements),
          { key: "node.kubernetes.io/instance-type", operator: "In", values: [o.type.name] },
        ],
        ...(taints.length ? { taints } : {}),
        nodeClassRef: rec(rec(tpl.spec).nodeClassRef),
        expireAfter: rec(tpl.spec).expireAfter ?? "720h",
        resources: { requests: { cpu: "0", memory: "0", pods: "0" } },
      },
      status: {
        providerID: `aws:///${o.zone}/i-0${this.hex(16)}`,
        imageID: "ami-0b3e8c2a5f6d7e901",
        capacity: {
          cpu: String(o.type.cpu),
          memory: `${o.type.memoryGi * 1024}Mi`,
          pods: String(MAX_PODS),
          "ephemeral-storage": "20Gi",
        },
        allocatable,
        conditions: [
          {
            type: "Launched",
            status: "True",
            reason: "Launched",
            message: "",
            lastTransitionTime: ctx.stamp,
          },
          {
            type: "Registered",
            status: "Unknown",
            reason: "AwaitingReconciliation",
            message: "object is awaiting reconciliation",
            lastTransitionTime: ctx.stamp,
          },
          {
            type: "Initialized",
            status: "Unknown",
            reason: "AwaitingReconciliation",
            message: "object is awaiting reconciliation",
            lastTransitionTime: ctx.stamp,
          },
          {
            type: "Ready",
            status: "Unknown",
            reason: "AwaitingReconciliation",
            message: "object is awaiting reconciliation",
            lastTransitionTime: ctx.stamp,
          },
        ],
      },
    });
    return { claim: name, pool: poolName, labels: o.labels, taints, free: { ...cap } };
  }

  private hex(n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += Math.floor(this.ctx.random() * 16).toString(16);
    return s;
  }

  /** NodeClaims whose launch delay has passed register a Ready Node. */
  private launch(claimRt: ResourceType, claims: KubeObject[]): void {
    const ctx = this.ctx;
    for (const c of claims) {
      const st = rec(c.status);
      if (st.nodeName || c.metadata.deletionTimestamp) continue;
      const created = Date.parse(String(c.metadata.creationTimestamp));
      if (ctx.nowMs - created < ctx.settings.launchDelayMs) continue;
      const node = this.createNode(c);
      const conditions = arr(st.conditions).map((cond) => ({
        ...cond,
        status: "True",
        reason: cond.type,
        message: "",
        lastTransitionTime: ctx.stamp,
      }));
      ctx.store.update(
        claimRt,
        { ...c, status: { ...st, nodeName: node.metadata.name, conditions } },
        { subresource: "status" },
      );
    }
  }

  createNode(claim: KubeObject): KubeObject {
    const ctx = this.ctx;
    const st = rec(claim.status);
    const labels = { ...(claim.metadata.labels ?? {}) } as Record<string, string>;
    const n = this.nodeSeq++;
    const ip = `10.0.${32 + Math.floor(ctx.random() * 200)}.${10 + Math.floor(ctx.random() * 240)}`;
    const name = `ip-${ip.replace(/\./g, "-")}.ec2.internal`;
    labels["kubernetes.io/hostname"] = name;
    labels["karpenter.sh/initialized"] = "true";
    labels["karpenter.sh/registered"] = "true";
    const taints = arr(rec(claim.spec).taints);
    const now = ctx.stamp;
    const ready = (type: string, status: string, reason: string, message: string) => ({
      type,
      status,
      lastHeartbeatTime: now,
      lastTransitionTime: now,
      reason,
      message,
    });
    return ctx.store.create(ctx.rt.nodes, {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name,
        labels,
        annotations: {
          "karpenter.sh/nodepool-hash": "4010951020068392240",
          "node.alpha.kubernetes.io/ttl": "0",
        },
        ownerReferences: [
          {
            apiVersion: "karpenter.sh/v1",
            kind: "NodeClaim",
            name: claim.metadata.name ?? "",
            uid: claim.metadata.uid ?? "",
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        providerID: st.providerID,
        podCIDR: `10.244.${n % 250}.0/24`,
        podCIDRs: [`10.244.${n % 250}.0/24`],
        ...(taints.length ? { taints } : {}),
      },
      status: {
        capacity: st.capacity,
        allocatable: st.allocatable,
        conditions: [
          ready(
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
          ),
          ready("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
          ready("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
          ready("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ],
        addresses: [
          { type: "InternalIP", address: ip },
          { type: "InternalDNS", address: name },
          { type: "Hostname", address: name },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
        nodeInfo: {
          architecture: "amd64",
          bootID: `${this.hex(8)}-${this.hex(4)}-${this.hex(4)}-${this.hex(4)}-${this.hex(12)}`,
          containerRuntimeVersion: "containerd://1.7.22",
          kernelVersion: "6.1.112-124.190.amzn2023.x86_64",
          kubeProxyVersion: "v1.32.0-eks-aeac579",
          kubeletVersion: "v1.32.0-eks-aeac579",
          machineID: this.hex(32),
          operatingSystem: "linux",
          osImage: "Amazon Linux 2023.6.20241121",
          systemUUID: this.hex(32),
        },
      },
    });
  }

  // ---- static pools, consolidation, status ---------------------------------------------------------

  private keepStatic(claimRt: ResourceType, pools: KubeObject[], claims: KubeObject[]): void {
    for (const pool of pools) {
      const want = rec(pool.spec).replicas;
      if (typeof want !== "number") continue;
      const name = pool.metadata.name ?? "";
      const mine = claims.filter((c) => c.metadata.labels?.[POOL] === name && !c.metadata.deletionTimestamp);
      const offers = this.offerings(pool);
      const tpl = this.poolTemplate(pool);
      for (let i = mine.length; i < want; i++) {
        // Spread static capacity over the zones the pool allows.
        const zones = [...new Set(offers.map((o) => o.zone))];
        const zone = zones[i % Math.max(1, zones.length)];
        const o = offers.find((x) => x.zone === zone && x.capacityType === "on-demand") ?? offers[0];
        if (o) this.createClaim(claimRt, pool, o, tpl.taints);
      }
      const extra = mine
        .sort(
          (a, b) =>
            String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)) ||
            String(b.metadata.name).localeCompare(String(a.metadata.name)),
        )
        .slice(0, Math.max(0, mine.length - want));
      for (const c of extra) this.ctx.store.delete(claimRt, undefined, c.metadata.name ?? "");
    }
  }

  private consolidate(claimRt: ResourceType, pools: KubeObject[], pods: KubeObject[]): void {
    const ctx = this.ctx;
    const busy = new Set<string>();
    for (const p of pods) {
      const node = rec(p.spec).nodeName;
      if (typeof node !== "string" || isTerminal(p)) continue;
      if (p.metadata.ownerReferences?.some((o) => o.kind === "DaemonSet")) continue;
      // Any other pod keeps the node, low-priority placeholders (balloons) included.
      busy.add(node);
    }
    const nominatedClaims = new Set(this.nominated.values());
    const poolByName = new Map(pools.map((p) => [p.metadata.name ?? "", p]));
    const seen = new Set<string>();
    for (const node of ctx.store.list(ctx.rt.nodes)) {
      const name = node.metadata.name ?? "";
      const pool = poolByName.get(node.metadata.labels?.[POOL] ?? "");
      const owner = node.metadata.ownerReferences?.find((o) => o.kind === "NodeClaim");
      if (!pool || !owner || rec(pool.spec).replicas !== undefined) continue;
      const disruption = rec(rec(pool.spec).disruption);
      const after = parseDuration(disruption.consolidateAfter, ctx.settings.consolidateAfterMs);
      seen.add(name);
      if (busy.has(name) || nominatedClaims.has(owner.name)) {
        this.emptySince.delete(name);
        continue;
      }
      const since = this.emptySince.get(name) ?? ctx.nowMs;
      this.emptySince.set(name, since);
      if (ctx.nowMs - since < after) continue;
      ctx.event(node, "Normal", "DisruptionTerminating", "Disrupting Node: Empty/Delete", SOURCE);
      this.emptySince.delete(name);
      ctx.store.delete(claimRt, undefined, owner.name);
    }
    for (const name of [...this.emptySince.keys()]) if (!seen.has(name)) this.emptySince.delete(name);
  }

  private writePoolStatus(poolRt: ResourceType, pools: KubeObject[]): void {
    const ctx = this.ctx;
    const nodes = ctx.store.list(ctx.rt.nodes);
    for (const pool of pools) {
      const mine = nodes.filter((n) => n.metadata.labels?.[POOL] === pool.metadata.name);
      let cpu = 0;
      let memory = 0;
      for (const n of mine) {
        const cap = rec(rec(n.status).capacity);
        cpu += milliCpu(cap.cpu);
        memory += parseQuantity(cap.memory);
      }
      const st = rec(pool.status);
      const resources = {
        cpu: String(cpu / 1000),
        memory: `${Math.round(memory / 2 ** 20)}Mi`,
        nodes: String(mine.length),
        pods: String(mine.length * MAX_PODS),
      };
      const conditions = arr(st.conditions).length
        ? st.conditions
        : ["ValidationSucceeded", "NodeClassReady", "Ready"].map((type) => ({
            type,
            status: "True",
            reason: type,
            message: "",
            lastTransitionTime: ctx.stamp,
          }));
      const static_ = rec(pool.spec).replicas !== undefined ? { nodes: mine.length } : {};
      ctx.store.update(
        poolRt,
        { ...pool, status: { ...st, resources, conditions, ...static_ } },
        { subresource: "status" },
      );
    }
  }
}
