// Reads a live cluster into the same shape a snapshot file holds, so the analyzers cannot tell
// the two apart; adds the log tails of crashed containers, which a snapshot cannot carry.
import { ClusterView, diagnosedKinds, logKey } from "../diagnosis/cluster-view.js";
import type { ContainerStatus, KubeObject, LabelSelector, PodStatus } from "../diagnosis/objects.js";
import type { Clock } from "../ports/clock.js";
import type { ClusterPort, ListOptions } from "../ports/cluster.js";
import { kinds } from "./resources.js";
import { WatchCache } from "./watch-cache.js";

/**
 * List results shared by the diagnoses of an alert storm: a list of one kind in one namespace is
 * read once per `ttlMs` (on the given clock, so simulated time expires it too) and concurrent
 * readers share the request in flight — the informer-cache idea without a watch. A diagnosis
 * sees the cluster at most `ttlMs` old; alerts are tens of seconds old when they arrive.
 */
export class ListCache {
  private readonly entries = new Map<string, { at: number; items: Promise<KubeObject[]> }>();
  constructor(
    private readonly clock: Clock,
    readonly ttlMs = 2000,
  ) {}

  list(port: ClusterPort, kind: string, namespace?: string, opts: ListOptions = {}): Promise<KubeObject[]> {
    const key = `${kind}\u0000${namespace ?? ""}\u0000${opts.fieldSelector ?? ""}\u0000${opts.labelSelector ?? ""}`;
    const now = this.clock.now().getTime();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.items;
    const items = port.list(kind, namespace, opts);
    this.entries.set(key, { at: now, items });
    // A failed read is not remembered.
    items.catch(() => {
      if (this.entries.get(key)?.items === items) this.entries.delete(key);
    });
    if (this.entries.size > 2000)
      for (const k of [...this.entries.keys()].slice(0, 1000)) this.entries.delete(k);
    return items;
  }
}

/** Where a snapshot's lists (and, when it can, its GETs) come from besides the port itself. */
export interface ListSource {
  list(port: ClusterPort, kind: string, namespace?: string, opts?: ListOptions): Promise<KubeObject[]>;
  get?(
    port: ClusterPort,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): Promise<KubeObject | undefined>;
}

const instanceCaches = new WeakMap<ClusterPort, ListSource>();
const informerPorts = new WeakSet<ClusterPort>();

/**
 * Lets the instance keep informers on this port (PROPHET_KUBE_WATCH): its reads are then answered
 * from watches (shared/kube/watch-cache.ts). For long-lived instances; a frozen serverless
 * instance relists after its watches go quiet.
 */
export function enableInformers(port: ClusterPort): void {
  informerPorts.add(port);
}

const watchCaches = new Set<WatchCache>();

/** Stops every informer of the instance (their watches hold connections open). */
export function closeInformers(): void {
  for (const c of watchCaches) c.close();
  watchCaches.clear();
}

/**
 * The list source of a cluster port for the life of the instance: informers when enabled for the
 * port and it can watch; else a list cache of 2 s on the deps' clock, so the diagnoses of an alert
 * storm, or the flow batches of a busy cluster, read each list once per two seconds instead of once
 * per event.
 */
export function listCacheFor(port: ClusterPort, clock: Clock): ListSource {
  let c = instanceCaches.get(port);
  if (!c) {
    if (informerPorts.has(port) && WatchCache.supports(port)) {
      const w = new WatchCache(port);
      watchCaches.add(w);
      c = w;
    } else c = new ListCache(clock, 2000);
    instanceCaches.set(port, c);
  }
  return c;
}

export interface ClusterSnapshot {
  list: { apiVersion: "v1"; kind: "List"; items: KubeObject[] };
  logs: Map<string, string[]>;
}

export interface SnapshotOptions {
  /** Only this namespace (cluster-scoped kinds are always read). */
  namespace?: string;
  /** Fetch log tails of crashed/failed containers (default true). */
  logs?: boolean;
  tailLines?: number;
  /** At most this many containers' logs (keeps a cluster-wide read bounded). */
  maxLogs?: number;
  /** Share list results with other reads (a TTL cache, or informers: alert storms). */
  cache?: ListSource;
  /**
   * "warnings" (default): Warning Events of the namespace, plus every Event of the few pods whose
   * diagnosis reads Normal ones (a container running again after an OOM kill: its kubelet events
   * date the kill). Analyzers cite only Warnings otherwise, and Normal events (Scheduled, Pulled,
   * Created, Started: about seven per pod) are most of a namespace's Events: reading them all
   * is most of a diagnosis' time in a large namespace. "all": every Event, as a snapshot holds.
   */
  events?: "warnings" | "all";
  /**
   * The object an alert names. When it is a pod or a workload that is still there, Pods and
   * ReplicaSets are read with the top workload's label selector instead of the whole namespace
   * (a 50-replica Deployment in a 5,000-pod namespace reads 50 pods); every other kind is read
   * as for the namespace, so the view still holds the Services, claims, budgets and autoscalers
   * the scope walks to. A missing object or a selector-less owner reads the namespace.
   */
  target?: { kind?: string | undefined; name?: string | undefined };
}

/** A LabelSelector in the API's query syntax; undefined when it has no requirement. */
export function selectorString(sel: LabelSelector | undefined): string | undefined {
  if (!sel) return undefined;
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const op = e.operator.toLowerCase();
    const values = `(${(e.values ?? []).join(",")})`;
    if (op === "in") parts.push(`${e.key} in ${values}`);
    else if (op === "notin") parts.push(`${e.key} notin ${values}`);
    else if (op === "exists") parts.push(e.key);
    else if (op === "doesnotexist") parts.push(`!${e.key}`);
    else return undefined; // unknown operator: do not guess, read the namespace
  }
  return parts.length > 0 ? parts.join(",") : undefined;
}

const selectorOwners = new Set(["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"]);
const podOwnerKinds = new Set([...selectorOwners, "CronJob"]);

/**
 * The alert's object and its owners up to the top one, read one by one; the selector of the top
 * owner that has one. Undefined when the object is gone (the caller reads the namespace).
 */
async function targetChain(
  port: ClusterPort,
  namespace: string,
  target: { kind: string; name: string },
  cache: ListSource | undefined,
): Promise<{ chain: KubeObject[]; selector?: string; top: KubeObject } | undefined> {
  const get = (kind: string, name: string) =>
    cache?.get ? cache.get(port, kind, namespace, name) : port.get(kind, namespace, name);
  const obj = await get(target.kind, target.name);
  if (!obj) return undefined;
  const chain = [obj];
  let cur = obj;
  while (chain.length < 5) {
    const refs = cur.metadata.ownerReferences ?? [];
    const o = refs.find((r) => r.controller) ?? refs[0];
    if (!o || !podOwnerKinds.has(o.kind)) break;
    const owner = await get(o.kind, o.name);
    if (!owner) break;
    chain.push(owner);
    cur = owner;
  }
  const top = chain.at(-1)!;
  const withSelector = [...chain].reverse().find((o) => selectorOwners.has(o.kind));
  const selector =
    withSelector && withSelector === top
      ? selectorString((top.spec as { selector?: LabelSelector } | undefined)?.selector)
      : undefined;
  return { chain, top, ...(selector ? { selector } : {}) };
}

/** A container running again after an OOM kill: the OOM analyzer needs its Normal events. */
function recoveringFromOom(pod: KubeObject): boolean {
  const st = (pod.status ?? {}) as PodStatus;
  return (st.containerStatuses ?? []).some(
    (c) => c.state?.running && c.lastState?.terminated?.reason === "OOMKilled" && (c.restartCount ?? 0) > 0,
  );
}

const MAX_POD_EVENT_READS = 20;

function crashed(c: ContainerStatus): "previous" | "current" | undefined {
  if (c.state?.waiting?.reason === "CrashLoopBackOff" && c.lastState?.terminated) return "previous";
  if (c.state?.terminated && (c.state.terminated.exitCode ?? 0) !== 0) return "current";
  return undefined;
}

export async function snapshotFromCluster(
  port: ClusterPort,
  opts: SnapshotOptions = {},
): Promise<ClusterSnapshot> {
  const list = (kind: string, ns: string | undefined, lo: ListOptions = {}) =>
    opts.cache ? opts.cache.list(port, kind, ns, lo) : port.list(kind, ns, lo);
  const warningsOnly = (opts.events ?? "warnings") === "warnings";
  const t = opts.target;
  const ns = opts.namespace;
  // The chain is read while the kinds that do not depend on it are listed.
  const chain =
    ns && t?.kind && t.name && (t.kind === "Pod" || podOwnerKinds.has(t.kind))
      ? targetChain(port, ns, { kind: t.kind, name: t.name }, opts.cache)
      : Promise.resolve(undefined);
  const dependsOnChain = (kind: string) => kind === "Pod" || kind === "ReplicaSet";
  const independent = Promise.all(
    diagnosedKinds
      .filter((kind) => !dependsOnChain(kind))
      .map((kind) =>
        list(
          kind,
          kinds[kind]?.namespaced ? ns : undefined,
          kind === "Event" && warningsOnly ? { fieldSelector: "type=Warning" } : {},
        ),
      ),
  );
  const scoped = await chain;
  const narrowed = scoped?.selector ? { labelSelector: scoped.selector } : {};
  // The pods' own reads (log tails, events of OOM-recovering pods) start as soon as the pods are in.
  const podsRead = list("Pod", ns, narrowed).then((pods) => {
    // The alert's own pod is in the view even when its labels no longer match its owner's
    // selector (a pod relabelled out of its Deployment, e.g. quarantined).
    const own = (scoped?.selector ? scoped.chain : []).filter(
      (o) => o.kind === "Pod" && !pods.some((p) => p.metadata.name === o.metadata.name),
    );
    return [...pods, ...own];
  });
  const [pods, replicaSets, rest, podEvents, logs] = await Promise.all([
    podsRead,
    list("ReplicaSet", ns, scoped?.top.kind === "Deployment" ? narrowed : {}),
    independent,
    warningsOnly ? podsRead.then((p) => oomPodEvents(port, p)) : Promise.resolve([]),
    opts.logs !== false
      ? podsRead.then((p) => crashLogs(port, p, opts.maxLogs ?? 20, opts.tailLines ?? 20))
      : Promise.resolve(new Map<string, string[]>()),
  ]);
  const items = [...pods, ...replicaSets, ...rest.flat()];
  if (scoped?.selector)
    for (const o of scoped.chain)
      if (o.kind !== "Pod" && !items.some((i) => i.kind === o.kind && i.metadata.name === o.metadata.name))
        items.push(o);
  const seen = new Set(
    items.filter((o) => o.kind === "Event").map((e) => `${e.metadata.namespace ?? ""}/${e.metadata.name}`),
  );
  for (const e of podEvents) {
    const k = `${e.metadata.namespace ?? ""}/${e.metadata.name}`;
    if (!seen.has(k)) {
      seen.add(k);
      items.push({ ...e, kind: "Event" });
    }
  }
  return { list: { apiVersion: "v1", kind: "List", items }, logs };
}

/** Every event of the pods recovering from an OOM kill (the OOM analyzer dates the kill by them). */
async function oomPodEvents(port: ClusterPort, pods: readonly KubeObject[]): Promise<KubeObject[]> {
  const recovering = pods.filter(recoveringFromOom).slice(0, MAX_POD_EVENT_READS);
  const events = await Promise.all(
    recovering.map((p) =>
      port
        .events({ kind: "Pod", namespace: p.metadata.namespace ?? "", name: p.metadata.name })
        .catch(() => []),
    ),
  );
  return events.flat();
}

/** Log tails of crashed containers (the previous instance of a crash-looping one), at most `max`. */
async function crashLogs(
  port: ClusterPort,
  pods: readonly KubeObject[],
  max: number,
  tailLines: number,
): Promise<Map<string, string[]>> {
  const wanted: { ns: string; pod: string; container: string; previous: boolean }[] = [];
  for (const pod of pods) {
    const st = (pod.status ?? {}) as PodStatus;
    for (const c of [...(st.initContainerStatuses ?? []), ...(st.containerStatuses ?? [])]) {
      const which = crashed(c);
      if (which)
        wanted.push({
          ns: pod.metadata.namespace ?? "",
          pod: pod.metadata.name,
          container: c.name,
          previous: which === "previous",
        });
    }
  }
  const logs = new Map<string, string[]>();
  await Promise.all(
    wanted.slice(0, max).map(async (w) => {
      const text = await port
        .podLogs(w.ns, w.pod, w.container, { previous: w.previous, tailLines })
        .catch(() => "");
      const lines = text.split("\n").filter((l) => l.trim().length > 0);
      if (lines.length > 0) logs.set(logKey(w.ns, w.pod, w.container), lines);
    }),
  );
  return logs;
}

export async function viewFromCluster(port: ClusterPort, opts: SnapshotOptions = {}): Promise<ClusterView> {
  const snap = await snapshotFromCluster(port, opts);
  return new ClusterView(snap.list.items, snap.logs);
}
