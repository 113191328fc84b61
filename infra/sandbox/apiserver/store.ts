// The object store behind the emulator: one Map per resource, a global resourceVersion counter, a
// bounded event log for watch resume, ownerReference cascading and CRD registration.
// In-process callers (seeders, simulated controllers) use it directly; HTTP handlers go through it too.
import { randomUUID } from "node:crypto";
import { applyDefaults, keepAllocated, ServiceAddressAllocator, validate } from "./admission.js";
import { apiErrors, KubeApiError } from "./errors.js";
import { admitPodPriority, admitPriorityClass, PRIORITY_CLASSES, type PriorityClasses } from "./priority.js";
import { deepEqual } from "./json.js";
import { customResources, groupVersion, type ResourceCatalog, type ResourceType } from "./resources.js";
import type { LabelMatcher, ObjectMatcher } from "./selectors.js";
import { kubeTime, type KubeObject, type ObjectMeta, type WatchEventType } from "./types.js";

export interface StoreEvent {
  rv: number;
  type: WatchEventType;
  storageKey: string;
  object: KubeObject;
  /** The object before a MODIFIED event, so selector-filtered watches can turn it into ADDED/DELETED. */
  previous?: KubeObject;
}

export type StoreListener = (event: StoreEvent) => void;

export interface WriteOptions {
  dryRun?: boolean;
  /** HTTP creates of kinds with a status subresource ignore the status the client sent. */
  dropStatus?: boolean;
}

export interface UpdateOptions extends WriteOptions {
  /** "main" keeps the stored status when the kind has a status subresource; "status" changes only status. */
  subresource?: "main" | "status" | "all";
}

export type PropagationPolicy = "Background" | "Foreground" | "Orphan";

export interface DeleteOptions {
  dryRun?: boolean;
  propagationPolicy?: PropagationPolicy;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface ListOptions {
  namespace?: string;
  labels?: LabelMatcher;
  fields?: ObjectMatcher;
}

export interface ObjectStoreOptions {
  catalog: ResourceCatalog;
  clock?: () => Date;
  /** How many events the log keeps for watch resume; older resourceVersions get 410 Gone. */
  eventLogSize?: number;
  /** Source of uids and generateName suffixes; a seeded one makes a simulation replayable. */
  random?: () => number;
}

type Table = { objects: Map<string, KubeObject>; sortedKeys?: string[] };

const nameAlphabet = "bcdfghjklmnpqrstvwxz2456789";

function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export class ObjectStore {
  readonly catalog: ResourceCatalog;
  private readonly clock: () => Date;
  private readonly random: (() => number) | undefined;
  private readonly tables = new Map<string, Table>();
  private readonly dependents = new Map<string, Set<string>>();
  private readonly listeners = new Map<string, Set<StoreListener>>();
  private readonly log: StoreEvent[] = [];
  private readonly logSize: number;
  private readonly addresses = new ServiceAddressAllocator();
  private compactedRv = 0;
  private rv = 0;

  constructor(opts: ObjectStoreOptions) {
    this.catalog = opts.catalog;
    this.clock = opts.clock ?? (() => new Date());
    this.logSize = opts.eventLogSize ?? 50_000;
    this.random = opts.random;
  }

  private newUid(): string {
    const r = this.random;
    if (!r) return randomUUID();
    const hex = Array.from({ length: 32 }, () => Math.floor(r() * 16).toString(16)).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  now(): Date {
    return this.clock();
  }

  /** Resolves "pods", "deployments.apps", or an apiVersion + kind pair. */
  resource(ref: string | { apiVersion: string; kind: string }): ResourceType {
    const rt =
      typeof ref === "string"
        ? this.catalog.forStorageKey(ref)
        : this.catalog.forKind(ref.apiVersion, ref.kind);
    if (!rt)
      throw apiErrors.badRequest(
        `no resource is served for ${typeof ref === "string" ? ref : `${ref.apiVersion} ${ref.kind}`}`,
      );
    return rt;
  }

  private table(storageKey: string): Table {
    let t = this.tables.get(storageKey);
    if (!t) {
      t = { objects: new Map() };
      this.tables.set(storageKey, t);
    }
    return t;
  }

  /** The object as the given version presents it (apiVersion rewritten or converted). */
  present(rt: ResourceType, obj: KubeObject): KubeObject {
    if (rt.converter) return rt.converter.fromStorage(obj);
    const gv = groupVersion(rt);
    return obj.apiVersion === gv ? obj : { ...obj, apiVersion: gv };
  }

  private stored(rt: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.tables
      .get(rt.storageKey)
      ?.objects.get(objectKey(rt.namespaced ? namespace : undefined, name));
  }

  get(rt: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const obj = this.stored(rt, namespace, name);
    return obj && this.present(rt, obj);
  }

  mustGet(rt: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const obj = this.get(rt, namespace, name);
    if (!obj) throw apiErrors.notFound(rt, name);
    return obj;
  }

  /** Objects in key order (namespace/name), as etcd lists them. */
  list(rt: ResourceType, opts: ListOptions = {}): KubeObject[] {
    const t = this.tables.get(rt.storageKey);
    if (!t) return [];
    t.sortedKeys ??= [...t.objects.keys()].sort();
    const out: KubeObject[] = [];
    const prefix = opts.namespace && rt.namespaced ? `${opts.namespace}/` : undefined;
    const keys = t.sortedKeys;
    // One namespace is one contiguous range of the sorted keys (etcd reads it as a key range).
    let from = 0;
    if (prefix) {
      let hi = keys.length;
      while (from < hi) {
        const mid = (from + hi) >>> 1;
        if (keys[mid]! < prefix) from = mid + 1;
        else hi = mid;
      }
    }
    for (let i = from; i < keys.length; i++) {
      const key = keys[i]!;
      if (prefix && !key.startsWith(prefix)) break;
      const obj = t.objects.get(key) as KubeObject;
      if (opts.labels && !opts.labels(obj.metadata.labels)) continue;
      if (opts.fields && !opts.fields(obj)) continue;
      out.push(this.present(rt, obj));
    }
    return out;
  }

  count(rt: ResourceType): number {
    return this.tables.get(rt.storageKey)?.objects.size ?? 0;
  }

  // ---- writes -------------------------------------------------------------------------------------

  create(rt: ResourceType, given: KubeObject, opts: WriteOptions = {}): KubeObject {
    // The caller keeps its object; the store keeps a private copy that nobody mutates.
    const input = structuredClone(given);
    const meta: ObjectMeta = { ...input.metadata };
    if (!meta.name && meta.generateName) meta.name = this.generateName(rt, meta.namespace, meta.generateName);
    const name = meta.name ?? "";
    if (!name) {
      throw apiErrors.invalid(rt, "", [
        { reason: "FieldValueRequired", message: "name or generateName is required", field: "metadata.name" },
      ]);
    }
    if (rt.namespaced) {
      if (!meta.namespace) meta.namespace = "default";
      if (rt.kind !== "Namespace" && !this.stored(this.resource("namespaces"), undefined, meta.namespace)) {
        throw apiErrors.namespaceNotFound(meta.namespace);
      }
    } else delete meta.namespace;
    if (this.stored(rt, meta.namespace, name)) throw apiErrors.alreadyExists(rt, name);
    const rv = this.rv + 1;
    meta.uid = this.newUid();
    meta.resourceVersion = String(rv);
    meta.creationTimestamp = kubeTime(this.clock());
    meta.generation = 1;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    let obj: KubeObject = { ...input, apiVersion: groupVersion(rt), kind: rt.kind, metadata: meta };
    // Nodes keep the status they are created with (kubelets register that way); other kinds reset it.
    if (opts.dropStatus && rt.subresources.includes("status") && !(rt.kind === "Node" && !rt.crd))
      delete obj.status;
    obj = applyDefaults(rt, obj, this.addresses);
    obj = this.admit(rt, obj, input.metadata.name || input.metadata.generateName || name);
    validate(rt, obj);
    if (opts.dryRun) return obj;
    this.commit(rt, "ADDED", obj);
    return this.present(rt, obj);
  }

  update(rt: ResourceType, given: KubeObject, opts: UpdateOptions = {}): KubeObject {
    const input = structuredClone(given);
    const name = input.metadata.name ?? "";
    const namespace = rt.namespaced ? input.metadata.namespace : undefined;
    const current = this.stored(rt, namespace, name);
    if (!current) throw apiErrors.notFound(rt, name);
    const old = this.present(rt, current);
    const wantRv = input.metadata.resourceVersion;
    if (wantRv && wantRv !== old.metadata.resourceVersion) throw apiErrors.conflict(rt, name);
    const subresource = opts.subresource ?? "all";
    const hasStatus = rt.subresources.includes("status");
    let next: KubeObject;
    if (subresource === "status") {
      next = { ...old, status: input.status };
      if (input.status === undefined) delete next.status;
    } else {
      const meta: ObjectMeta = {
        ...input.metadata,
        name,
        namespace: old.metadata.namespace,
        uid: old.metadata.uid,
        creationTimestamp: old.metadata.creationTimestamp,
        generation: old.metadata.generation,
        deletionTimestamp: old.metadata.deletionTimestamp,
        deletionGracePeriodSeconds: old.metadata.deletionGracePeriodSeconds,
      };
      if (!rt.namespaced) delete meta.namespace;
      for (const k of ["deletionTimestamp", "deletionGracePeriodSeconds"] as const)
        if (meta[k] === undefined) delete meta[k];
      next = { ...input, apiVersion: old.apiVersion, kind: rt.kind, metadata: meta };
      if (subresource === "main" && hasStatus) {
        if (old.status === undefined) delete next.status;
        else next.status = old.status;
      }
      next = applyDefaults(rt, keepAllocated(rt, old, next), this.addresses);
      if (rt.storageKey === PRIORITY_CLASSES) admitPriorityClass(rt, next, this.priorityClasses);
      validate(rt, next, old);
    }
    next.metadata = { ...next.metadata, resourceVersion: old.metadata.resourceVersion };
    if (deepEqual(next, old)) return old;
    if (!deepEqual(specOf(next), specOf(old))) {
      next.metadata.generation = (old.metadata.generation ?? 1) + 1;
    }
    if (opts.dryRun) return next;
    next.metadata.resourceVersion = String(this.rv + 1);
    if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length) {
      this.removeNow(rt, next, "Background");
      return next;
    }
    this.commit(rt, "MODIFIED", next, current);
    return next;
  }

  private readonly priorityClasses: PriorityClasses = {
    get: (name) => this.tables.get(PRIORITY_CLASSES)?.objects.get(name),
    all: () => this.tables.get(PRIORITY_CLASSES)?.objects.values() ?? [],
  };

  /** Mutating admission on create: the Priority plugin for pods and PriorityClasses. */
  private admit(rt: ResourceType, obj: KubeObject, displayName: string): KubeObject {
    if (rt.crd) return obj;
    if (rt.storageKey === "pods") return admitPodPriority(rt, obj, displayName, this.priorityClasses);
    if (rt.storageKey === PRIORITY_CLASSES) admitPriorityClass(rt, obj, this.priorityClasses);
    return obj;
  }

  /** Returns the deleted object, or the object marked for deletion while finalizers remain. */
  delete(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions = {},
  ): KubeObject {
    const current = this.stored(rt, namespace, name);
    if (!current) throw apiErrors.notFound(rt, name);
    const obj = this.present(rt, current);
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== obj.metadata.uid) {
      throw apiErrors.conflict(
        rt,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`,
      );
    }
    if (pre?.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion) {
      throw apiErrors.conflict(
        rt,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`,
      );
    }
    if (opts.dryRun) return obj;
    if (obj.metadata.finalizers?.length) {
      if (obj.metadata.deletionTimestamp) return obj;
      const marked: KubeObject = {
        ...obj,
        metadata: {
          ...obj.metadata,
          deletionTimestamp: kubeTime(this.clock()),
          deletionGracePeriodSeconds: 0,
          resourceVersion: String(this.rv + 1),
        },
      };
      this.commit(rt, "MODIFIED", marked, current);
      return marked;
    }
    return this.removeNow(rt, obj, opts.propagationPolicy ?? "Background");
  }

  private removeNow(rt: ResourceType, obj: KubeObject, policy: PropagationPolicy): KubeObject {
    const uid = obj.metadata.uid ?? "";
    if (policy === "Foreground") this.cascade(uid, "Foreground");
    if (rt.kind === "Namespace" && !rt.crd) this.emptyNamespace(obj.metadata.name ?? "");
    if (rt.storageKey === "customresourcedefinitions.apiextensions.k8s.io") this.dropCustomResources(obj);
    const current = this.stored(rt, obj.metadata.namespace, obj.metadata.name ?? "");
    if (!current) return obj;
    const gone: KubeObject = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.rv + 1) } };
    this.commit(rt, "DELETED", gone, current);
    if (policy === "Orphan") this.orphan(uid);
    else this.cascade(uid, "Background");
    return gone;
  }

  /** Deletes the dependents of `uid` whose every owner is gone; drops the reference from the others. */
  private cascade(uid: string, policy: PropagationPolicy): void {
    const keys = this.dependents.get(uid);
    if (!keys) return;
    for (const ref of [...keys]) {
      const [storageKey, key] = splitRef(ref);
      const rt = this.catalog.forStorageKey(storageKey);
      const dep = this.tables.get(storageKey)?.objects.get(key);
      if (!rt || !dep) continue;
      const owners = dep.metadata.ownerReferences ?? [];
      const alive = owners.filter((o) => o.uid !== uid && this.ownerExists(o.uid));
      try {
        if (alive.length) {
          this.update(rt, {
            ...dep,
            metadata: { ...dep.metadata, ownerReferences: owners.filter((o) => o.uid !== uid) },
          });
        } else {
          this.delete(rt, dep.metadata.namespace, dep.metadata.name ?? "", { propagationPolicy: policy });
        }
      } catch (err) {
        if (!(err instanceof KubeApiError && err.code === 404)) throw err;
      }
    }
  }

  private orphan(uid: string): void {
    for (const ref of [...(this.dependents.get(uid) ?? [])]) {
      const [storageKey, key] = splitRef(ref);
      const rt = this.catalog.forStorageKey(storageKey);
      const dep = this.tables.get(storageKey)?.objects.get(key);
      if (!rt || !dep) continue;
      const ownerReferences = (dep.metadata.ownerReferences ?? []).filter((o) => o.uid !== uid);
      this.update(rt, { ...dep, metadata: { ...dep.metadata, ownerReferences } });
    }
  }

  private ownerExists(uid: string): boolean {
    return this.uids.has(uid);
  }

  private readonly uids = new Set<string>();

  private emptyNamespace(namespace: string): void {
    for (const [storageKey, t] of this.tables) {
      const rt = this.catalog.forStorageKey(storageKey);
      if (!rt?.namespaced) continue;
      for (const [key, obj] of [...t.objects]) {
        if (!key.startsWith(`${namespace}/`)) continue;
        const stillThere = t.objects.get(key);
        if (!stillThere) continue;
        this.removeNow(rt, this.present(rt, obj), "Background");
      }
    }
  }

  private dropCustomResources(crd: KubeObject): void {
    const [rt] = customResources(crd);
    const t = rt && this.tables.get(rt.storageKey);
    if (rt && t)
      for (const obj of [...t.objects.values()]) this.removeNow(rt, this.present(rt, obj), "Background");
    this.catalog.removeCrd(crd.metadata.name ?? "");
  }

  private generateName(rt: ResourceType, namespace: string | undefined, prefix: string): string {
    for (;;) {
      let suffix = "";
      const random = this.random ?? Math.random;
      for (let i = 0; i < 5; i++) suffix += nameAlphabet[Math.floor(random() * nameAlphabet.length)];
      if (!this.stored(rt, namespace, prefix + suffix)) return prefix + suffix;
    }
  }

  // ---- commit, event log, watch -------------------------------------------------------------------

  private commit(rt: ResourceType, type: WatchEventType, obj: KubeObject, previous?: KubeObject): void {
    const stored = rt.converter ? rt.converter.toStorage(obj) : obj;
    const t = this.table(rt.storageKey);
    const key = objectKey(rt.namespaced ? stored.metadata.namespace : undefined, stored.metadata.name ?? "");
    this.rv += 1;
    const ref = `${rt.storageKey}\u0000${key}`;
    if (previous) this.unindexOwners(ref, previous);
    if (type === "DELETED") {
      t.objects.delete(key);
      t.sortedKeys = undefined;
      this.uids.delete(stored.metadata.uid ?? "");
    } else {
      if (!t.objects.has(key)) t.sortedKeys = undefined;
      t.objects.set(key, stored);
      this.uids.add(stored.metadata.uid ?? "");
      this.indexOwners(ref, stored);
    }
    if (rt.storageKey === "customresourcedefinitions.apiextensions.k8s.io" && type !== "DELETED") {
      this.catalog.removeCrd(stored.metadata.name ?? "");
      for (const crt of customResources(stored)) this.catalog.add(crt);
    }
    const event: StoreEvent = { rv: this.rv, type, storageKey: rt.storageKey, object: stored };
    if (previous) event.previous = previous;
    this.log.push(event);
    if (this.log.length > this.logSize * 1.25) {
      const dropped = this.log.splice(0, this.log.length - this.logSize);
      this.compactedRv = (dropped[dropped.length - 1] as StoreEvent).rv;
    }
    for (const listener of this.listeners.get(rt.storageKey) ?? []) listener(event);
  }

  private indexOwners(ref: string, obj: KubeObject): void {
    for (const owner of obj.metadata.ownerReferences ?? []) {
      let set = this.dependents.get(owner.uid);
      if (!set) this.dependents.set(owner.uid, (set = new Set()));
      set.add(ref);
    }
  }

  private unindexOwners(ref: string, obj: KubeObject): void {
    for (const owner of obj.metadata.ownerReferences ?? []) {
      const set = this.dependents.get(owner.uid);
      set?.delete(ref);
      if (set && !set.size) this.dependents.delete(owner.uid);
    }
  }

  /** Events for `storageKey` after `rv`; 410 Gone when the log no longer reaches back that far. */
  eventsSince(storageKey: string, rv: number): StoreEvent[] {
    if (rv < this.compactedRv) {
      throw apiErrors.gone(`too old resource version: ${rv} (${this.compactedRv + 1})`);
    }
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.log[mid] as StoreEvent).rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.log.slice(lo).filter((e) => e.storageKey === storageKey);
  }

  subscribe(storageKey: string, listener: StoreListener): () => void {
    let set = this.listeners.get(storageKey);
    if (!set) this.listeners.set(storageKey, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Forgets log entries up to the current resourceVersion, so older watches get 410 Gone. */
  compact(): void {
    this.compactedRv = this.rv;
    this.log.length = 0;
  }
}

function specOf(obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, ...rest } = obj;
  return rest;
}

function splitRef(ref: string): [string, string] {
  const i = ref.indexOf("\u0000");
  return [ref.slice(0, i), ref.slice(i + 1)];
}
