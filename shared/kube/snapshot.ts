// Reads a live cluster into the same shape a snapshot file holds, so the analyzers cannot tell
// the two apart; adds the log tails of crashed containers, which a snapshot cannot carry.
import { ClusterView, diagnosedKinds, logKey } from "../diagnosis/cluster-view.js";
import type { ContainerStatus, KubeObject, PodStatus } from "../diagnosis/objects.js";
import type { Clock } from "../ports/clock.js";
import type { ClusterPort } from "../ports/cluster.js";
import { kinds } from "./resources.js";

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

  list(port: ClusterPort, kind: string, namespace?: string): Promise<KubeObject[]> {
    const key = `${kind}\u0000${namespace ?? ""}`;
    const now = this.clock.now().getTime();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.items;
    const items = port.list(kind, namespace);
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
  /** Share list results with other reads within the cache's TTL (alert storms). */
  cache?: ListCache;
}

function crashed(c: ContainerStatus): "previous" | "current" | undefined {
  if (c.state?.waiting?.reason === "CrashLoopBackOff" && c.lastState?.terminated) return "previous";
  if (c.state?.terminated && (c.state.terminated.exitCode ?? 0) !== 0) return "current";
  return undefined;
}

export async function snapshotFromCluster(
  port: ClusterPort,
  opts: SnapshotOptions = {},
): Promise<ClusterSnapshot> {
  const list = (kind: string, ns: string | undefined) =>
    opts.cache ? opts.cache.list(port, kind, ns) : port.list(kind, ns);
  const lists = await Promise.all(
    diagnosedKinds.map((kind) => list(kind, kinds[kind]?.namespaced ? opts.namespace : undefined)),
  );
  const items = lists.flat();
  const logs = new Map<string, string[]>();
  if (opts.logs !== false) {
    const wanted: { ns: string; pod: string; container: string; previous: boolean }[] = [];
    for (const pod of items.filter((o) => o.kind === "Pod")) {
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
    await Promise.all(
      wanted.slice(0, opts.maxLogs ?? 20).map(async (w) => {
        const text = await port
          .podLogs(w.ns, w.pod, w.container, { previous: w.previous, tailLines: opts.tailLines ?? 20 })
          .catch(() => "");
        const lines = text.split("\n").filter((l) => l.trim().length > 0);
        if (lines.length > 0) logs.set(logKey(w.ns, w.pod, w.container), lines);
      }),
    );
  }
  return { list: { apiVersion: "v1", kind: "List", items }, logs };
}

export async function viewFromCluster(port: ClusterPort, opts: SnapshotOptions = {}): Promise<ClusterView> {
  const snap = await snapshotFromCluster(port, opts);
  return new ClusterView(snap.list.items, snap.logs);
}
