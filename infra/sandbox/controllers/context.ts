// What every simulated controller shares: the store, the simulated time, seeded randomness, an
// event recorder that aggregates like the real one, and the state that lives outside the API
// (container runtimes, node health, application behaviour) — what a real cluster keeps on its nodes.
import type { ObjectStore } from "../apiserver/store.js";
import type { ResourceType } from "../apiserver/resources.js";
import { isRecord, kubeTime, type KubeObject } from "../apiserver/types.js";
import type { Random } from "../random.js";
import { milliCpu, parseQuantity } from "./quantity.js";

export type Obj = Record<string, unknown>;
export const rec = (v: unknown): Obj => (isRecord(v) ? v : {});
export const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(rec) : []);

export interface ContainerRuntime {
  phase: "creating" | "pulling" | "pull-backoff" | "config-error" | "running" | "crash-backoff" | "done";
  /** When the current phase ends (pull finished, back-off over, process exits). */
  until?: number;
  startedAt?: number;
  restartCount: number;
  backoffCount: number;
  pullFailures: number;
  waitingMessage?: string;
  /** The previous instance's end, shown as lastState and behind `logs --previous`. */
  last?: { reason: string; exitCode: number; startedAt: number; finishedAt: number; logs: string[] };
  /** Simulated working set; grows under a memory-leak fault. */
  memoryBytes: number;
  readyFailures: number;
  liveFailures?: number;
  backoffEventAt?: number;
  ready: boolean;
  image: string;
}

export interface PodRuntime {
  uid: string;
  namespace?: string;
  name?: string;
  node: string;
  ip: string;
  containers: Map<string, ContainerRuntime>;
  signature?: string;
  writtenRv?: string;
  workload?: string;
  /** Every container running and ready with nothing scheduled: nothing to do until something changes. */
  idle?: boolean;
}

export interface NodeHealth {
  notReady?: boolean;
  diskPressure?: boolean;
  memoryPressure?: boolean;
  /** When the current NotReady spell began (taint-based eviction counts from here). */
  notReadySince?: number;
}

/** Application behaviour the faults change: not API state, what the code inside the pods does. */
export interface WorkloadBehaviour {
  memoryLeakBytesPerMinute?: number;
  readinessFailing?: boolean;
  livenessFailing?: boolean;
  demandFactor?: number;
  /** A compromised pod of the workload scans peers and calls out to an unknown address (flows). */
  networkIntrusion?: NetworkIntrusion;
}

export interface NetworkIntrusion {
  /** Connection attempts per simulated second to random pods and ports. */
  scanPerSecond: number;
  ports: number[];
  egressIp: string;
  egressPort: number;
  /** DNS queries with long random labels under this domain (tunnelling); empty: none. */
  tunnelDomain: string;
}

/** CPU utilisation (percent of request) a workload's pods run at, given demand and ready replicas. */
export type UtilizationModel = (workload: string, now: Date, readyReplicas: number) => number;

export interface SimSettings {
  /** Time from NodeClaim creation to the Node being Ready. */
  launchDelayMs: number;
  /** Default for NodePools without spec.disruption.consolidateAfter. */
  consolidateAfterMs: number;
  /** How long a container takes to pull an image that is not on the node. */
  pullMs: number;
  /** How long a crash-looping process runs before it exits. */
  crashAfterMs: number;
  /** Default run time of a Job pod's container. */
  jobRunMs: number;
  eventTtlMs: number;
}

export const defaultSettings: SimSettings = {
  launchDelayMs: 45_000,
  consolidateAfterMs: 60_000,
  pullMs: 2_000,
  crashAfterMs: 3_000,
  jobRunMs: 20_000,
  eventTtlMs: 3_600_000,
};

export interface ResourceTypes {
  pods: ResourceType;
  nodes: ResourceType;
  events: ResourceType;
  services: ResourceType;
  endpoints: ResourceType;
  endpointslices: ResourceType;
  configmaps: ResourceType;
  secrets: ResourceType;
  pvcs: ResourceType;
  pvs: ResourceType;
  storageclasses: ResourceType;
  deployments: ResourceType;
  replicasets: ResourceType;
  statefulsets: ResourceType;
  daemonsets: ResourceType;
  jobs: ResourceType;
  cronjobs: ResourceType;
  hpas: ResourceType;
}

export interface EventSource {
  component: string;
  host?: string;
}

export class SimContext {
  readonly rt: ResourceTypes;
  readonly runtimes = new Map<string, PodRuntime>();
  readonly nodeHealth = new Map<string, NodeHealth>();
  readonly behaviour = new Map<string, WorkloadBehaviour>();
  /** Images each node has pulled (IfNotPresent then skips the pull). */
  readonly nodeImages = new Map<string, Set<string>>();
  /** Images the simulated registry does not have. */
  readonly missingImages = new Set<string>();
  /**
   * Images with a bug (the bad-rollout fault): image → the extra share of requests a ready pod running
   * it answers with 500. Keyed on the image, not the workload, so a rollback ends the errors.
   */
  readonly badImages = new Map<string, number>();
  /** PersistentVolumeClaims ("ns/name") whose usage grows (the pvc-filling fault). */
  readonly volumeGrowth = new Map<string, { since: number; bytesPerMinute: number }>();
  private readonly eventKeys = new Map<string, string>();
  private eventSeq = 0;
  nowMs = 0;
  /** Simulated time since the previous step. */
  dtMs = 1000;

  constructor(
    readonly store: ObjectStore,
    readonly random: Random,
    readonly settings: SimSettings,
    public utilization: UtilizationModel,
  ) {
    const r = (key: string) => store.resource(key);
    this.rt = {
      pods: r("pods"),
      nodes: r("nodes"),
      events: r("events"),
      services: r("services"),
      endpoints: r("endpoints"),
      endpointslices: r("endpointslices.discovery.k8s.io"),
      configmaps: r("configmaps"),
      secrets: r("secrets"),
      pvcs: r("persistentvolumeclaims"),
      pvs: r("persistentvolumes"),
      storageclasses: r("storageclasses.storage.k8s.io"),
      deployments: r("deployments.apps"),
      replicasets: r("replicasets.apps"),
      statefulsets: r("statefulsets.apps"),
      daemonsets: r("daemonsets.apps"),
      jobs: r("jobs.batch"),
      cronjobs: r("cronjobs.batch"),
      hpas: r("horizontalpodautoscalers.autoscaling"),
    };
  }

  get now(): Date {
    return new Date(this.nowMs);
  }

  get stamp(): string {
    return kubeTime(new Date(this.nowMs));
  }

  /** Lower-case alphanumerics as Kubernetes uses for generated suffixes. */
  suffix(length = 5): string {
    const alphabet = "bcdfghjklmnpqrstvwxz2456789";
    let s = "";
    for (let i = 0; i < length; i++) s += alphabet[Math.floor(this.random() * alphabet.length)];
    return s;
  }

  /**
   * Records a core/v1 Event; a repeat of the same reason and message for the same object bumps
   * `count` and `lastTimestamp` instead, as the client-go event correlator does.
   */
  event(
    obj: KubeObject,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
    source: EventSource,
    fieldPath?: string,
  ): void {
    const ns = obj.metadata.namespace ?? "default";
    const key = `${obj.metadata.uid}\u0000${reason}\u0000${message}\u0000${fieldPath ?? ""}`;
    const existingName = this.eventKeys.get(key);
    const existing = existingName ? this.store.get(this.rt.events, ns, existingName) : undefined;
    if (existing) {
      this.store.update(this.rt.events, {
        ...existing,
        count: Number(existing.count ?? 1) + 1,
        lastTimestamp: this.stamp,
      });
      return;
    }
    // Like client-go: the object name and the creation time in nanoseconds, in hex.
    const nanos = BigInt(this.nowMs) * 1_000_000n + BigInt(this.eventSeq++ % 1_000_000);
    const name = `${obj.metadata.name}.${nanos.toString(16)}`;
    this.eventKeys.set(key, name);
    this.store.create(this.rt.events, {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace: ns },
      involvedObject: {
        kind: obj.kind,
        namespace: obj.metadata.namespace,
        name: obj.metadata.name,
        uid: obj.metadata.uid,
        apiVersion: obj.apiVersion,
        resourceVersion: obj.metadata.resourceVersion,
        ...(fieldPath ? { fieldPath } : {}),
      },
      reason,
      message,
      source: { component: source.component, ...(source.host ? { host: source.host } : {}) },
      firstTimestamp: this.stamp,
      lastTimestamp: this.stamp,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: source.component,
      reportingInstance: source.host ?? "",
    });
  }

  /**
   * A change detector over store resources (storage keys such as "pods"): the returned function
   * reports whether any of them changed since it was last called. Controllers whose output only
   * depends on those objects skip their work on quiet steps.
   */
  changes(storageKeys: string[]): () => boolean {
    let dirty = true;
    for (const key of storageKeys) this.store.subscribe(key, () => (dirty = true));
    return () => {
      const was = dirty;
      dirty = false;
      return was;
    };
  }

  /** Drops events older than the TTL (the API server keeps them an hour by default). */
  expireEvents(): void {
    const cutoff = this.nowMs - this.settings.eventTtlMs;
    for (const e of this.store.list(this.rt.events)) {
      if (Date.parse(String(e.lastTimestamp ?? e.metadata.creationTimestamp)) < cutoff) {
        this.store.delete(this.rt.events, e.metadata.namespace, e.metadata.name ?? "");
      }
    }
    if (this.eventKeys.size > 20_000) this.eventKeys.clear();
  }

  /** "shop/Deployment/web": the workload a pod belongs to, through its ReplicaSet when it has one. */
  workloadOf(pod: KubeObject): string | undefined {
    const ns = pod.metadata.namespace ?? "";
    const owner = pod.metadata.ownerReferences?.find((o) => o.controller);
    if (!owner) return undefined;
    if (owner.kind === "ReplicaSet") {
      const rs = this.store.get(this.rt.replicasets, ns, owner.name);
      const d = rs?.metadata.ownerReferences?.find((o) => o.controller);
      if (d) return `${ns}/${d.kind}/${d.name}`;
    }
    return `${ns}/${owner.kind}/${owner.name}`;
  }

  behaviourOf(pod: KubeObject): WorkloadBehaviour {
    const w = this.workloadOf(pod);
    return (w && this.behaviour.get(w)) || {};
  }
}

export interface PodRequests {
  cpu: number;
  memory: number;
}

/** Effective requests: the sum over containers, at least the largest init container (limits stand in for missing requests). */
export function podRequests(pod: KubeObject): PodRequests {
  const spec = rec(pod.spec);
  const of = (c: Obj): PodRequests => {
    const res = rec(c.resources);
    const req = rec(res.requests);
    const lim = rec(res.limits);
    return {
      cpu: milliCpu(req.cpu ?? lim.cpu ?? 0),
      memory: parseQuantity(req.memory ?? lim.memory ?? 0),
    };
  };
  const sum = { cpu: 0, memory: 0 };
  for (const c of arr(spec.containers)) {
    const r = of(c);
    sum.cpu += r.cpu;
    sum.memory += r.memory;
  }
  for (const c of arr(spec.initContainers)) {
    const r = of(c);
    sum.cpu = Math.max(sum.cpu, r.cpu);
    sum.memory = Math.max(sum.memory, r.memory);
  }
  return sum;
}

/** spec.priority as the Priority admission plugin set it (0 for pods stored without one). */
export function podPriority(pod: KubeObject): number {
  const p = rec(pod.spec).priority;
  return typeof p === "number" ? p : 0;
}

export function phaseOf(pod: KubeObject): string {
  return String(rec(pod.status).phase ?? "");
}

export function isTerminal(pod: KubeObject): boolean {
  const p = phaseOf(pod);
  return p === "Succeeded" || p === "Failed";
}

export function nodeReady(node: KubeObject): boolean {
  return arr(rec(node.status).conditions).some((c) => c.type === "Ready" && c.status === "True");
}

/** A condition list with `type` set, keeping lastTransitionTime when the status did not change. */
export function setCondition(conditions: Obj[], next: Obj, now: string): Obj[] {
  const before = conditions.find((c) => c.type === next.type);
  const changed = !before || before.status !== next.status;
  const merged: Obj = {
    ...next,
    lastTransitionTime: changed ? now : before.lastTransitionTime,
  };
  if ("lastHeartbeatTime" in next && !changed) merged.lastHeartbeatTime = before.lastHeartbeatTime;
  const out = [...conditions];
  const i = conditions.findIndex((c) => c.type === next.type);
  if (i >= 0) out[i] = merged;
  else out.push(merged);
  return out;
}
