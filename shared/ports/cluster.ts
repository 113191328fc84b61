/**
 * The cluster port: the few reads diagnosis needs from one Kubernetes cluster. Objects come back
 * in the API's JSON wire format (what `kubectl get -o json` prints), Secrets without their data.
 * The adapter over @kubernetes/client-node lives in shared/kube/; tests may pass any object
 * with these methods.
 */
import type { KubeEvent, KubeObject } from "../diagnosis/objects.js";

export interface ObjectRef {
  kind: string;
  /** Absent or "" for cluster-scoped objects. */
  namespace?: string;
  name: string;
}

export interface LogOptions {
  /** The previous (crashed) container instance instead of the running one. */
  previous?: boolean;
  /** At most this many lines from the end. */
  tailLines?: number;
}

/** Server-side filters of a list, in the Kubernetes API's syntax. */
export interface ListOptions {
  /** e.g. `type=Warning` (Events), `spec.nodeName=node-1` (Pods). */
  fieldSelector?: string;
  /** e.g. `app=cart,tier in (web)`. */
  labelSelector?: string;
}

/** One change of a watch stream (BOOKMARK: only the object's resourceVersion means anything). */
export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";
  object: KubeObject;
}

export interface WatchOptions {
  /** Where the stream starts: a list's resourceVersion, or the last one seen. */
  resourceVersion: string;
  fieldSelector?: string;
  onEvent(e: WatchEvent): void;
  /** Ends the stream. */
  signal: AbortSignal;
}

/** The resourceVersion a watch asked for is too old (410 Gone): list again. */
export class WatchExpiredError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WatchExpiredError";
  }
}

export type PatchType = "merge" | "strategic" | "json";

/** "ephemeralcontainers" (Pods only) is how `kubectl debug` adds a container to a running pod. */
export type PatchSubresource = "status" | "scale" | "ephemeralcontainers";

/** Why a write was refused, so actions can tell a blocked eviction from a broken API. */
export type WriteFailure = "not_found" | "conflict" | "forbidden" | "invalid" | "too_many_requests" | "error";

export interface ClusterPort {
  /** The cluster's name (kubeconfig context or configured name), for messages and audit. */
  readonly name: string;
  /** Every object of a kind, in one namespace or (namespace undefined) all of them. A kind the
   * server does not serve lists as empty. Selectors narrow the list on the server; a port that
   * cannot filter may ignore them (callers treat the answer as a superset). */
  list(kind: string, namespace?: string, opts?: ListOptions): Promise<KubeObject[]>;
  get(kind: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined>;
  /**
   * Informers (shared/kube/watch-cache.ts), for ports that can watch: a list with the
   * resourceVersion a watch can start from, and the watch itself, which resolves when the server
   * ends the stream (a timeout) or the signal aborts it, and rejects with WatchExpiredError on 410.
   */
  listWithVersion?(
    kind: string,
    namespace?: string,
    opts?: ListOptions,
  ): Promise<{ items: KubeObject[]; resourceVersion: string }>;
  watch?(kind: string, namespace: string | undefined, opts: WatchOptions): Promise<void>;
  /** The tail of a container's log; "" when there is none. */
  podLogs(namespace: string, pod: string, container: string, opts?: LogOptions): Promise<string>;
  /** Core v1 Events about one object. */
  events(involvedObject: ObjectRef): Promise<KubeEvent[]>;
  /*
   * Writes, used only by remediation actions behind the policy gate. Optional: a read-only port
   * (a snapshot, an RBAC role without verbs) has none, and actions refuse to run on it.
   * Failures throw a ClusterWriteError.
   */
  patch?(
    kind: string,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    opts?: { type?: PatchType; subresource?: PatchSubresource },
  ): Promise<KubeObject>;
  create?(kind: string, namespace: string | undefined, obj: KubeObject): Promise<KubeObject>;
  /** false when the object was already gone. */
  delete?(kind: string, namespace: string | undefined, name: string): Promise<boolean>;
  /** The Eviction API: "blocked" when a PodDisruptionBudget refuses it (429). */
  evict?(namespace: string, pod: string): Promise<"evicted" | "blocked" | "gone">;
}

export class ClusterWriteError extends Error {
  constructor(
    readonly failure: WriteFailure,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ClusterWriteError";
  }
}
