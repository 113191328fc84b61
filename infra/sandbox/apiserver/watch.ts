// watch=true: a chunked stream of {"type","object"} lines. Starts from the current state (synthetic
// ADDED events), from a resourceVersion (replayed from the event log, or ERROR 410 when too old), or
// with sendInitialEvents; sends BOOKMARKs when asked and ends after timeoutSeconds.
import type { ServerResponse } from "node:http";
import { KubeApiError } from "./errors.js";
import { groupVersion, type ResourceType } from "./resources.js";
import type { LabelMatcher, ObjectMatcher } from "./selectors.js";
import type { ObjectStore, StoreEvent } from "./store.js";
import type { KubeObject } from "./types.js";

export interface WatchRequest {
  rt: ResourceType;
  namespace?: string;
  labels?: LabelMatcher;
  fields?: ObjectMatcher;
  resourceVersion?: string;
  sendInitialEvents: boolean;
  allowBookmarks: boolean;
  timeoutSeconds?: number;
  bookmarkIntervalMs: number;
  encode: (obj: KubeObject) => unknown;
}

export function serveWatch(
  store: ObjectStore,
  req: WatchRequest,
  res: ServerResponse,
  onClose: (stop: () => void) => void,
): void {
  const { rt } = req;
  const matches = (obj: KubeObject | undefined): boolean => {
    if (!obj) return false;
    if (req.namespace && rt.namespaced && obj.metadata.namespace !== req.namespace) return false;
    if (req.labels && !req.labels(obj.metadata.labels)) return false;
    return !req.fields || req.fields(obj);
  };
  res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private" });
  res.flushHeaders();
  const write = (type: string, obj: unknown) => res.write(`${JSON.stringify({ type, object: obj })}\n`);
  const bookmark = (annotations?: Record<string, string>) =>
    write("BOOKMARK", {
      kind: rt.kind,
      apiVersion: groupVersion(rt),
      metadata: { resourceVersion: store.resourceVersion, ...(annotations ? { annotations } : {}) },
    });
  const deliver = (e: StoreEvent) => {
    const now = matches(e.object);
    const before = e.type === "MODIFIED" && matches(e.previous);
    let type: string | undefined;
    if (e.type === "MODIFIED")
      type = now && before ? "MODIFIED" : now ? "ADDED" : before ? "DELETED" : undefined;
    else if (now) type = e.type;
    if (type) write(type, req.encode(store.present(rt, e.object)));
  };

  const rv = req.resourceVersion;
  const fromState = req.sendInitialEvents || !rv || rv === "0";
  let replay: StoreEvent[] = [];
  if (!fromState) {
    try {
      replay = store.eventsSince(rt.storageKey, Number(rv));
    } catch (err) {
      if (!(err instanceof KubeApiError)) throw err;
      write("ERROR", err.toStatus());
      res.end();
      return;
    }
  }
  if (fromState) {
    for (const obj of store.list(rt, { namespace: req.namespace, labels: req.labels, fields: req.fields })) {
      write("ADDED", req.encode(obj));
    }
    if (req.sendInitialEvents && req.allowBookmarks) bookmark({ "k8s.io/initial-events-end": "true" });
  } else {
    for (const e of replay) deliver(e);
  }
  const unsubscribe = store.subscribe(rt.storageKey, deliver);
  const timers: NodeJS.Timeout[] = [];
  if (req.allowBookmarks) timers.push(setInterval(() => bookmark(), req.bookmarkIntervalMs));
  const stop = () => {
    unsubscribe();
    for (const t of timers) clearTimeout(t);
    if (!res.writableEnded) res.end();
  };
  if (req.timeoutSeconds !== undefined) timers.push(setTimeout(stop, req.timeoutSeconds * 1000));
  res.on("close", stop);
  onClose(stop);
}
