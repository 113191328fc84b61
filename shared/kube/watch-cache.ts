// Informers for warm instances: the first read of a kind lists it for the whole cluster and starts a
// watch (per namespace with `clusterWide: false`), and later reads are answered from memory, by
// namespace index and label selector here. An alert storm's
// diagnoses then cost no API round trip for what they read (their log tails and pod events still
// do), and the API server serves one watch per kind instead of a list per alert.
//
// Freshness: an informer answers only while its watch is connected and the server has spoken
// (an event or a bookmark, which API servers send about once a minute) within `staleAfterMs`;
// otherwise the read lists again and the watch restarts. A watch is as fresh as the API server's
// own watch cache: milliseconds behind a write, which is why this is for diagnosis (reads that
// follow an alert by a minute), not for the remediation's read-modify-write (which GETs).
// Informers nobody read for `idleMs` stop, so an instance does not keep every namespace it once
// diagnosed.
import type { KubeObject } from "../diagnosis/objects.js";
import type { ClusterPort, ListOptions, WatchEvent } from "../ports/cluster.js";
import { WatchExpiredError } from "../ports/cluster.js";
import { kinds } from "./resources.js";

export interface WatchCacheOptions {
  /** Wall-clock milliseconds (a frozen serverless instance's watch dies with wall time). */
  now?: () => number;
  /** No word from the server for this long: the informer is not trusted (default 150 s). */
  staleAfterMs?: number;
  /** An informer nobody read for this long stops (default 10 min). */
  idleMs?: number;
  /** At most this many informers; the least recently read stops first (default 200). */
  maxInformers?: number;
  onError?: (kind: string, namespace: string | undefined, err: Error) => void;
  /**
   * One informer per kind for the whole cluster, with reads of a namespace answered from its
   * namespace index (default true), as client-go's shared informers do: the first read syncs the
   * kind once, and an alert in a namespace never seen before costs no list. False: an informer
   * per namespace read, for credentials that may only read some namespaces.
   */
  clusterWide?: boolean;
}

type Requirement =
  | { op: "=" | "!="; key: string; value: string }
  | { op: "in" | "notin"; key: string; values: Set<string> }
  | { op: "exists" | "!exists"; key: string };

/**
 * A label selector in the API's query syntax (`a=b,c!=d,e in (f,g),h,!i`); undefined when it is
 * not one this parser is sure of (the read then goes to the server).
 */
export function parseLabelSelector(sel: string): Requirement[] | undefined {
  const out: Requirement[] = [];
  const key = "[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?";
  const value = "[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?|";
  const re = new RegExp(
    `^\\s*(?:(${key})\\s*(==|=|!=)\\s*(${value})|(${key})\\s+(in|notin)\\s*\\(([^)]*)\\)|(!)?\\s*(${key}))\\s*(?:,|$)`,
  );
  let rest = sel.trim();
  while (rest.length > 0) {
    const m = re.exec(rest);
    if (!m) return undefined;
    if (m[1] !== undefined) {
      out.push({ op: m[3] === "!=" ? "!=" : "=", key: m[1], value: m[4] ?? "" });
    } else if (m[6] !== undefined) {
      const values = (m[9] ?? "").split(",").map((v) => v.trim());
      if (values.some((v) => !new RegExp(`^(${value})$`).test(v))) return undefined;
      out.push({ op: m[8] as "in" | "notin", key: m[6], values: new Set(values) });
    } else if (m[11] !== undefined) {
      out.push({ op: m[10] ? "!exists" : "exists", key: m[11] });
    } else return undefined;
    rest = rest.slice(m[0].length).trim();
  }
  return out;
}

export function matchesLabels(labels: Record<string, string> | undefined, reqs: Requirement[]): boolean {
  const l = labels ?? {};
  for (const r of reqs) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case "=":
        if (v !== r.value) return false;
        break;
      case "!=":
        if (has && v === r.value) return false;
        break;
      case "in":
        if (!has || !r.values.has(v as string)) return false;
        break;
      case "notin":
        if (has && r.values.has(v as string)) return false;
        break;
      case "exists":
        if (!has) return false;
        break;
      case "!exists":
        if (has) return false;
        break;
    }
  }
  return true;
}

class Informer {
  readonly items = new Map<string, KubeObject>();
  /** The same objects by namespace ("" for cluster-scoped ones), for namespace reads. */
  readonly byNamespace = new Map<string, Map<string, KubeObject>>();
  resourceVersion = "";
  /** The list in flight, which concurrent reads wait for. */
  private pending: Promise<void> | undefined;
  /** The watch is running (since a list); false once it broke or stopped. */
  connected = false;
  heardAt = 0;
  readAt = 0;
  private abort = new AbortController();
  private stopped = false;

  constructor(
    private readonly port: ClusterPort,
    readonly kind: string,
    readonly namespace: string | undefined,
    readonly fieldSelector: string | undefined,
    private readonly now: () => number,
    private readonly onError?: (kind: string, namespace: string | undefined, err: Error) => void,
  ) {}

  /** Resolves when the items can be read: at once while fresh, else after listing again. */
  ready(staleAfterMs: number): Promise<void> {
    if (this.pending) return this.pending;
    if (this.fresh(staleAfterMs)) return Promise.resolve();
    return this.start();
  }

  fresh(staleAfterMs: number): boolean {
    return !this.pending && this.connected && this.now() - this.heardAt < staleAfterMs;
  }

  private start(): Promise<void> {
    // A silent watch (a frozen instance, a dead connection) is replaced, not joined.
    this.abort.abort();
    this.connected = false;
    const abort = (this.abort = new AbortController());
    const run = (async () => {
      try {
        const { items, resourceVersion } = await this.port.listWithVersion!(
          this.kind,
          this.namespace,
          this.fieldSelector ? { fieldSelector: this.fieldSelector } : {},
        );
        this.items.clear();
        this.byNamespace.clear();
        for (const o of items) this.put(o);
        this.resourceVersion = resourceVersion;
        this.heardAt = this.now();
        this.connected = !this.stopped;
        if (this.connected) void this.watchLoop(abort.signal);
      } finally {
        this.pending = undefined;
      }
    })();
    this.pending = run;
    return run;
  }

  private async watchLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.port.watch!(this.kind, this.namespace, {
          resourceVersion: this.resourceVersion,
          ...(this.fieldSelector ? { fieldSelector: this.fieldSelector } : {}),
          signal,
          onEvent: (e) => this.apply(e),
        });
        // The server ended the stream (its timeout): watch on from where we are.
      } catch (err) {
        if (signal.aborted) return;
        // Too old, or the connection broke: not trusted until listed again (the next read does).
        this.connected = false;
        if (!(err instanceof WatchExpiredError)) this.onError?.(this.kind, this.namespace, err as Error);
        return;
      }
    }
  }

  private apply(e: WatchEvent): void {
    this.heardAt = this.now();
    const rv = (e.object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (e.type === "BOOKMARK") return;
    if (e.type === "DELETED") {
      this.items.delete(key(e.object));
      this.byNamespace.get(e.object.metadata.namespace ?? "")?.delete(e.object.metadata.name);
    } else this.put(e.object);
  }

  private put(o: KubeObject): void {
    this.items.set(key(o), o);
    const ns = o.metadata.namespace ?? "";
    let m = this.byNamespace.get(ns);
    if (!m) this.byNamespace.set(ns, (m = new Map()));
    m.set(o.metadata.name, o);
  }

  /** The objects of one namespace, or all of them. */
  objects(namespace: string | undefined): Iterable<KubeObject> {
    if (namespace === undefined) return this.items.values();
    return this.byNamespace.get(namespace)?.values() ?? [];
  }

  stop(): void {
    this.stopped = true;
    this.connected = false;
    this.abort.abort();
  }
}

const key = (o: KubeObject) => `${o.metadata.namespace ?? ""}/${o.metadata.name}`;

export class WatchCache {
  private readonly informers = new Map<string, Informer>();
  private readonly now: () => number;
  private readonly staleAfterMs: number;
  private readonly idleMs: number;
  private readonly maxInformers: number;
  private readonly clusterWide: boolean;

  constructor(
    private readonly port: ClusterPort,
    private readonly opts: WatchCacheOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.staleAfterMs = opts.staleAfterMs ?? 150_000;
    this.idleMs = opts.idleMs ?? 10 * 60_000;
    this.maxInformers = opts.maxInformers ?? 200;
    this.clusterWide = opts.clusterWide ?? true;
  }

  /** The namespace an informer of this kind watches: none when cluster-wide or cluster-scoped. */
  private informedNamespace(kind: string, namespace: string | undefined): string | undefined {
    return kinds[kind]?.namespaced && !this.clusterWide ? namespace : undefined;
  }

  /** Whether a port can back informers. */
  static supports(port: ClusterPort): boolean {
    return typeof port.watch === "function" && typeof port.listWithVersion === "function";
  }

  /** The list, from the informer of its kind, namespace and field selector. */
  async list(
    port: ClusterPort,
    kind: string,
    namespace?: string,
    opts: ListOptions = {},
  ): Promise<KubeObject[]> {
    const reqs = opts.labelSelector ? parseLabelSelector(opts.labelSelector) : [];
    if (port !== this.port || !reqs || !kinds[kind]) return port.list(kind, namespace, opts);
    const ns = kinds[kind]!.namespaced ? namespace : undefined;
    const inf = await this.informer(kind, this.informedNamespace(kind, ns), opts.fieldSelector);
    const out: KubeObject[] = [];
    for (const o of inf.objects(ns))
      if (reqs.length === 0 || matchesLabels(o.metadata.labels, reqs)) out.push(o);
    return out;
  }

  /** An object by name from a fresh informer of its kind and namespace; else a GET. */
  async get(
    port: ClusterPort,
    kind: string,
    namespace: string | undefined,
    name: string,
  ): Promise<KubeObject | undefined> {
    const ns = kinds[kind]?.namespaced ? namespace : undefined;
    const inf =
      port === this.port
        ? this.informers.get(informerKey(kind, this.informedNamespace(kind, ns), undefined))
        : undefined;
    if (inf?.fresh(this.staleAfterMs)) {
      inf.readAt = this.now();
      return inf.items.get(`${ns ?? ""}/${name}`);
    }
    return port.get(kind, namespace, name);
  }

  private async informer(kind: string, ns: string | undefined, fieldSelector: string | undefined) {
    const k = informerKey(kind, ns, fieldSelector);
    let inf = this.informers.get(k);
    if (!inf) {
      this.sweep();
      inf = new Informer(this.port, kind, ns, fieldSelector, this.now, this.opts.onError);
      this.informers.set(k, inf);
    }
    inf.readAt = this.now();
    await inf.ready(this.staleAfterMs);
    return inf;
  }

  /** Stops informers nobody read for idleMs, and the least recently read past maxInformers. */
  private sweep(): void {
    const now = this.now();
    for (const [k, inf] of this.informers)
      if (now - inf.readAt > this.idleMs) {
        inf.stop();
        this.informers.delete(k);
      }
    if (this.informers.size >= this.maxInformers) {
      const oldest = [...this.informers.entries()].sort((a, b) => a[1].readAt - b[1].readAt);
      for (const [k, inf] of oldest.slice(0, this.informers.size - this.maxInformers + 1)) {
        inf.stop();
        this.informers.delete(k);
      }
    }
  }

  /** How many informers run (for tests and metrics). */
  get size(): number {
    return this.informers.size;
  }

  close(): void {
    for (const inf of this.informers.values()) inf.stop();
    this.informers.clear();
  }
}

const informerKey = (kind: string, ns: string | undefined, fieldSelector: string | undefined) =>
  `${kind}\u0000${ns ?? ""}\u0000${fieldSelector ?? ""}`;
