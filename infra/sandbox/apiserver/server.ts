// The HTTP edge: routes Kubernetes API paths to the object store and writes JSON, Tables, watch
// streams and `Status` errors the way kubectl and @kubernetes/client-node expect them.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFileSync } from "node:fs";
import { apiGroupDoc, apiGroupList, apiResourceList, apiVersions, version } from "./discovery.js";
import { evictPod } from "./disruption.js";
import { KubeApiError, apiErrors } from "./errors.js";
import { objectJson } from "./json.js";
import { decode, decodeObject, mediaType, negotiate, readBody, type ResponseShape } from "./negotiation.js";
import { openApiV3Document, openApiV3Index } from "./openapi.js";
import { jsonPatch, mergePatch } from "./patch.js";
import { bindPod, emptyLogs, podLogs, setEphemeralContainers, type PodLogSource } from "./pods.js";
import { PRIORITY_CLASSES, systemPriorityClasses } from "./priority.js";
import { groupVersion, ResourceCatalog, type ResourceType, type Subresource } from "./resources.js";
import { applyScale, toScale } from "./scale.js";
import { parseFieldSelector, parseLabelSelector } from "./selectors.js";
import { ObjectStore, type DeleteOptions, type PropagationPolicy } from "./store.js";
import { strategicMergePatch } from "./strategic-merge.js";
import { toTable, type IncludeObject } from "./tables.js";
import { isRecord, type KubeObject } from "./types.js";
import { serveWatch } from "./watch.js";
import {
  startWorkloadController,
  type WorkloadController,
  type WorkloadControllerOptions,
} from "./controllers/workloads.js";

export interface ApiServerOptions {
  /** 0 (default) picks a free port. The server only ever listens on 127.0.0.1. */
  port?: number;
  clock?: () => Date;
  logs?: PodLogSource;
  /** How often watches that allow bookmarks receive one (default 60 s, as the real server). */
  bookmarkIntervalMs?: number;
  eventLogSize?: number;
  /**
   * Create default, kube-system, kube-public and kube-node-lease, and the system-node-critical and
   * system-cluster-critical PriorityClasses (default true).
   */
  seedNamespaces?: boolean;
  /** Run the built-in Deployment → ReplicaSet → Pod controller (off by default). */
  workloads?: WorkloadControllerOptions | boolean;
  /** Seeded source for uids and generated names (default: crypto-random). */
  random?: () => number;
  /** Extra HTTP routes under path prefixes (the sandbox's control API), served before the Kubernetes paths. */
  routes?: ExtraRoute | ExtraRoute[];
}

export interface ExtraRoute {
  prefix: string;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void> | void;
}

export interface ApiServer {
  url: string;
  port: number;
  store: ObjectStore;
  /** Present when the built-in workload controller runs. */
  workloads?: WorkloadController;
  kubeconfig(namespace?: string): string;
  writeKubeconfig(path: string, namespace?: string): void;
  close(): Promise<void>;
}

interface Target {
  rt: ResourceType;
  namespace?: string;
  name?: string;
  sub?: string;
  watch: boolean;
}

const successStatus = (code: number) => ({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Success",
  code,
});

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw apiErrors.badRequest(`${name}: must be a non-negative integer, got "${v}"`);
  return n;
}

function isDryRun(q: URLSearchParams): boolean {
  const values = q.getAll("dryRun");
  for (const v of values)
    if (v !== "All") throw apiErrors.badRequest(`dryRun: unsupported value "${v}", supported values: "All"`);
  return values.length > 0;
}

function itemKey(obj: KubeObject): string {
  return obj.metadata.namespace
    ? `${obj.metadata.namespace}/${obj.metadata.name ?? ""}`
    : (obj.metadata.name ?? "");
}

class ApiHandler {
  private readonly streams = new Set<() => void>();

  constructor(
    readonly store: ObjectStore,
    private readonly logs: PodLogSource,
    private readonly bookmarkIntervalMs: number,
    private readonly address: () => string,
    private readonly routes?: ApiServerOptions["routes"],
  ) {}

  get catalog(): ResourceCatalog {
    return this.store.catalog;
  }

  stopStreams(): void {
    for (const stop of [...this.streams]) stop();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.route(req, res);
    } catch (err) {
      const apiErr =
        err instanceof KubeApiError
          ? err
          : new KubeApiError(500, "InternalError", `internal error: ${(err as Error).message}`);
      if (res.headersSent) res.end();
      else sendJson(res, apiErr.code, apiErr.toStatus());
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const segs = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const [root, a, b] = segs;
    const extra = [this.routes ?? []].flat().find((r) => url.pathname.startsWith(r.prefix));
    if (extra) return extra.handle(req, res);
    if (root === "version") return sendJson(res, 200, version());
    if (root === "healthz" || root === "livez" || root === "readyz") return sendText(res, 200, "ok");
    if (root === "openapi") return this.openapi(res, segs.slice(1));
    if (root === "api") {
      if (segs.length === 1) return sendJson(res, 200, apiVersions(this.address()));
      if (segs.length === 2) return this.resourceList(res, "", a ?? "");
      return this.resourceRequest(req, res, url, this.resolve("", a ?? "", segs.slice(2)));
    }
    if (root === "apis") {
      if (segs.length === 1) return sendJson(res, 200, apiGroupList(this.catalog));
      if (segs.length === 2) {
        const doc = apiGroupDoc(this.catalog, a ?? "");
        if (!doc) throw apiErrors.pathNotFound();
        return sendJson(res, 200, doc);
      }
      if (segs.length === 3) return this.resourceList(res, a ?? "", b ?? "");
      return this.resourceRequest(req, res, url, this.resolve(a ?? "", b ?? "", segs.slice(3)));
    }
    if (segs.length === 0)
      return sendJson(res, 200, { paths: ["/api", "/api/v1", "/apis", "/openapi/v3", "/version"] });
    throw apiErrors.pathNotFound();
  }

  private resourceList(res: ServerResponse, group: string, ver: string): void {
    const list = apiResourceList(this.catalog, group, ver);
    if (!list) throw apiErrors.pathNotFound();
    sendJson(res, 200, list);
  }

  private openapi(res: ServerResponse, segs: string[]): void {
    if (segs[0] !== "v3") throw apiErrors.pathNotFound();
    if (segs.length === 1) return sendJson(res, 200, openApiV3Index(this.catalog));
    const doc =
      segs[1] === "api"
        ? openApiV3Document(this.catalog, "", segs[2] ?? "")
        : openApiV3Document(this.catalog, segs[2] ?? "", segs[3] ?? "");
    if (!doc) throw apiErrors.pathNotFound();
    sendJson(res, 200, doc);
  }

  private resolve(group: string, ver: string, segs: string[]): Target {
    let rest = segs;
    let watch = false;
    if (rest[0] === "watch") {
      watch = true;
      rest = rest.slice(1);
    }
    let namespace: string | undefined;
    if (
      rest[0] === "namespaces" &&
      rest.length >= 3 &&
      !(group === "" && rest.length === 3 && ["status", "finalize"].includes(rest[2] ?? ""))
    ) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [resource = "", name, sub, ...extra] = rest;
    const rt = this.catalog.lookup(group, ver, resource);
    if (!rt || extra.length) throw apiErrors.pathNotFound();
    if (namespace !== undefined && !rt.namespaced) throw apiErrors.pathNotFound();
    if (name !== undefined && rt.namespaced && namespace === undefined) throw apiErrors.pathNotFound();
    if (
      sub !== undefined &&
      !rt.subresources.includes(sub as Subresource) &&
      !(rt.kind === "Namespace" && sub === "finalize")
    ) {
      throw apiErrors.pathNotFound();
    }
    return { rt, namespace, name, sub, watch };
  }

  private async resourceRequest(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    t: Target,
  ): Promise<void> {
    const method = req.method ?? "GET";
    const q = url.searchParams;
    if (t.name === undefined) {
      if (method === "GET") return this.list(req, res, q, t);
      if (method === "POST") return this.create(req, res, q, t);
      if (method === "DELETE") return this.deleteCollection(req, res, q, t);
      throw apiErrors.methodNotAllowed(method);
    }
    const name = t.name;
    switch (t.sub) {
      case undefined:
      case "status":
      case "finalize":
        if (method === "GET") return this.send(req, res, t.rt, this.store.mustGet(t.rt, t.namespace, name));
        if (method === "PUT") return this.replace(req, res, q, t, name);
        if (method === "PATCH") return this.patch(req, res, q, t, name);
        if (method === "DELETE" && t.sub === undefined) return this.remove(req, res, q, t, name);
        throw apiErrors.methodNotAllowed(method);
      case "scale":
        if (method === "GET")
          return sendJson(res, 200, toScale(t.rt, this.store.mustGet(t.rt, t.namespace, name)));
        if (method === "PUT" || method === "PATCH") return this.scale(req, res, q, t, name);
        throw apiErrors.methodNotAllowed(method);
      case "eviction": {
        if (method !== "POST") throw apiErrors.methodNotAllowed(method);
        const eviction = decodeObject(await readBody(req), mediaType(req));
        const options = isRecord(eviction.deleteOptions) ? (eviction.deleteOptions as DeleteOptions) : {};
        evictPod(this.store, t.rt, t.namespace ?? "", name, {
          ...options,
          dryRun: isDryRun(q) || Boolean(options.dryRun?.toString().includes("All")),
        });
        return sendJson(res, 201, successStatus(201));
      }
      case "ephemeralcontainers": {
        const current = this.store.mustGet(t.rt, t.namespace, name);
        if (method === "GET") return this.send(req, res, t.rt, current);
        if (method !== "PUT" && method !== "PATCH") throw apiErrors.methodNotAllowed(method);
        const type = mediaType(req);
        const body = decode(await readBody(req), type);
        const desired =
          method === "PUT" ? (body as KubeObject) : this.applyPatch(t.rt, type, current, body ?? {});
        const updated = setEphemeralContainers(this.store, t.rt, current, desired, isDryRun(q));
        return this.send(req, res, t.rt, updated);
      }
      case "binding": {
        if (method !== "POST") throw apiErrors.methodNotAllowed(method);
        bindPod(this.store, t.rt, t.namespace ?? "", name, decodeObject(await readBody(req), mediaType(req)));
        return sendJson(res, 201, successStatus(201));
      }
      case "log": {
        if (method !== "GET") throw apiErrors.methodNotAllowed(method);
        const text = podLogs(
          this.store,
          t.rt,
          t.namespace ?? "",
          name,
          {
            container: q.get("container") ?? undefined,
            previous: q.get("previous") === "true",
            tailLines: intParam(q, "tailLines"),
            limitBytes: intParam(q, "limitBytes"),
          },
          this.logs,
        );
        return sendText(res, 200, text);
      }
      default:
        throw apiErrors.pathNotFound();
    }
  }

  private encoder(
    shape: ResponseShape,
    rt: ResourceType,
    include: IncludeObject,
  ): (obj: KubeObject) => unknown {
    const store = this.store;
    if (shape.as === "table") {
      return (obj) => toTable(rt, [obj], { now: store.now(), include, tableVersion: shape.version });
    }
    if (shape.as === "metadata") {
      return (obj) => ({
        kind: "PartialObjectMetadata",
        apiVersion: `meta.k8s.io/${shape.version}`,
        metadata: obj.metadata,
      });
    }
    return (obj) => obj;
  }

  private send(
    req: IncomingMessage,
    res: ServerResponse,
    rt: ResourceType,
    obj: KubeObject,
    code = 200,
  ): void {
    const shape = negotiate(req.headers.accept);
    if (shape.as === "object") return sendJson(res, code, objectJson(obj));
    const include =
      (new URL(req.url ?? "/", "http://x").searchParams.get("includeObject") as IncludeObject) || "Metadata";
    sendJson(res, code, this.encoder(shape, rt, include)(obj));
  }

  private list(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, t: Target): void {
    const shape = negotiate(req.headers.accept);
    const labels = parseLabelSelector(q.get("labelSelector"));
    const fields = parseFieldSelector(q.get("fieldSelector"), t.rt);
    const include = (q.get("includeObject") as IncludeObject | null) ?? "Metadata";
    if (t.watch || q.get("watch") === "true" || q.get("watch") === "1") {
      const timeout = intParam(q, "timeoutSeconds");
      req.socket.setTimeout(0);
      serveWatch(
        this.store,
        {
          rt: t.rt,
          namespace: t.namespace,
          labels,
          fields,
          resourceVersion: q.get("resourceVersion") ?? undefined,
          sendInitialEvents: q.get("sendInitialEvents") === "true",
          allowBookmarks: q.get("allowWatchBookmarks") === "true",
          timeoutSeconds: timeout,
          bookmarkIntervalMs: this.bookmarkIntervalMs,
          encode: this.encoder(shape, t.rt, include),
        },
        res,
        (stop) => {
          this.streams.add(stop);
          res.on("close", () => this.streams.delete(stop));
        },
      );
      return;
    }
    const resourceVersion = this.store.resourceVersion;
    let items = this.store.list(t.rt, { namespace: t.namespace, labels, fields });
    const token = q.get("continue");
    if (token) {
      let start: string;
      try {
        start = (JSON.parse(Buffer.from(token, "base64url").toString()) as { start: string }).start;
      } catch {
        throw apiErrors.badRequest("continue key is not valid");
      }
      items = items.filter((o) => itemKey(o) > start);
    }
    const limit = intParam(q, "limit");
    let continueToken: string | undefined;
    let remaining: number | undefined;
    if (limit && items.length > limit) {
      remaining = items.length - limit;
      items = items.slice(0, limit);
      continueToken = Buffer.from(
        JSON.stringify({ start: itemKey(items[items.length - 1] as KubeObject) }),
      ).toString("base64url");
    }
    const metadata: Record<string, unknown> = { resourceVersion };
    if (continueToken) metadata.continue = continueToken;
    if (remaining !== undefined) metadata.remainingItemCount = remaining;
    if (shape.as === "table") {
      return sendJson(
        res,
        200,
        toTable(t.rt, items, {
          now: this.store.now(),
          include,
          tableVersion: shape.version,
          resourceVersion,
          continueToken,
        }),
      );
    }
    if (shape.as === "metadata") {
      return sendJson(res, 200, {
        kind: "PartialObjectMetadataList",
        apiVersion: `meta.k8s.io/${shape.version}`,
        metadata,
        items: items.map((o) => ({
          kind: "PartialObjectMetadata",
          apiVersion: `meta.k8s.io/${shape.version}`,
          metadata: o.metadata,
        })),
      });
    }
    const head = `{"kind":${JSON.stringify(t.rt.listKind)},"apiVersion":${JSON.stringify(groupVersion(t.rt))},"metadata":${JSON.stringify(metadata)},"items":[`;
    sendJson(res, 200, `${head}${items.map(objectJson).join(",")}]}`);
  }

  private checkBody(t: Target, obj: KubeObject, name?: string): KubeObject {
    const gv = groupVersion(t.rt);
    if (obj.apiVersion !== undefined && obj.apiVersion !== gv) {
      throw apiErrors.badRequest(
        `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${gv})`,
      );
    }
    if (obj.kind !== undefined && obj.kind !== t.rt.kind) {
      throw apiErrors.badRequest(
        `the kind in the data (${String(obj.kind)}) does not match the expected kind (${t.rt.kind})`,
      );
    }
    const ns = obj.metadata.namespace;
    if (t.rt.namespaced && ns && ns !== t.namespace) {
      throw apiErrors.badRequest(
        "the namespace of the provided object does not match the namespace sent on the request",
      );
    }
    if (name !== undefined && obj.metadata.name !== undefined && obj.metadata.name !== name) {
      throw apiErrors.badRequest(
        `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    const metadata = { ...obj.metadata };
    if (t.rt.namespaced) metadata.namespace = t.namespace;
    if (name !== undefined) metadata.name = name;
    return { ...obj, apiVersion: gv, kind: t.rt.kind, metadata };
  }

  private async create(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    t: Target,
  ): Promise<void> {
    if (t.rt.namespaced && t.namespace === undefined) throw apiErrors.methodNotAllowed("POST");
    const obj = this.checkBody(t, decodeObject(await readBody(req), mediaType(req)));
    const created = this.store.create(t.rt, obj, { dryRun: isDryRun(q), dropStatus: true });
    this.send(req, res, t.rt, created, 201);
  }

  private updateMode(t: Target): "status" | "main" | "all" {
    if (t.sub === "status") return "status";
    return t.rt.subresources.includes("status") ? "main" : "all";
  }

  private async replace(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    t: Target,
    name: string,
  ): Promise<void> {
    const obj = this.checkBody(t, decodeObject(await readBody(req), mediaType(req)), name);
    const updated = this.store.update(t.rt, obj, { dryRun: isDryRun(q), subresource: this.updateMode(t) });
    this.send(req, res, t.rt, updated);
  }

  private applyPatch(rt: ResourceType, type: string, target: KubeObject, patch: unknown): KubeObject {
    let out: unknown;
    switch (type) {
      case "application/merge-patch+json":
        out = mergePatch(target, patch);
        break;
      case "application/json-patch+json":
        out = jsonPatch(target, patch);
        break;
      case "application/strategic-merge-patch+json":
        if (rt.crd) {
          throw new KubeApiError(
            415,
            "UnsupportedMediaType",
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
          );
        }
        out = strategicMergePatch(target.kind, target, patch);
        break;
      case "application/apply-patch+yaml":
        out = rt.crd ? mergePatch(target, patch) : strategicMergePatch(target.kind, target, patch);
        break;
      default:
        throw apiErrors.unsupportedMediaType(type);
    }
    if (!isRecord(out) || !isRecord(out.metadata))
      throw apiErrors.badRequest("the patch produced an object without metadata");
    return out as KubeObject;
  }

  private async patch(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    t: Target,
    name: string,
  ): Promise<void> {
    const type = mediaType(req);
    const body = decode(await readBody(req), type);
    if (body === undefined) throw apiErrors.badRequest("the patch body is empty");
    const dryRun = isDryRun(q);
    const current = this.store.get(t.rt, t.namespace, name);
    if (type === "application/apply-patch+yaml") {
      if (!q.get("fieldManager")) {
        throw apiErrors.badRequest(
          'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
        );
      }
      if (!current) {
        if (!isRecord(body)) throw apiErrors.badRequest("an apply patch must be an object");
        const obj = this.checkBody(
          t,
          { ...body, metadata: isRecord(body.metadata) ? body.metadata : {} } as KubeObject,
          name,
        );
        return this.send(
          req,
          res,
          t.rt,
          this.store.create(t.rt, obj, { dryRun, dropStatus: t.sub !== "status" }),
          201,
        );
      }
    }
    if (!current) throw apiErrors.notFound(t.rt, name);
    const patched = this.applyPatch(t.rt, type, current, body);
    if (patched.metadata.name !== name)
      throw apiErrors.badRequest(`the name of the object cannot be changed by a patch (${name})`);
    const updated = this.store.update(t.rt, this.checkBody(t, patched, name), {
      dryRun,
      subresource: this.updateMode(t),
    });
    this.send(req, res, t.rt, updated);
  }

  private async scale(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    t: Target,
    name: string,
  ): Promise<void> {
    const type = mediaType(req);
    const body = decode(await readBody(req), type);
    const current = toScale(t.rt, this.store.mustGet(t.rt, t.namespace, name));
    const scale =
      req.method === "PUT"
        ? isRecord(body)
          ? (body as KubeObject)
          : current
        : this.applyPatch(
            t.rt,
            type === "application/apply-patch+yaml" ? "application/merge-patch+json" : type,
            current,
            body,
          );
    sendJson(
      res,
      200,
      applyScale(
        this.store,
        t.rt,
        t.namespace,
        name,
        { ...scale, metadata: scale.metadata ?? {} },
        { dryRun: isDryRun(q) },
      ),
    );
  }

  private async deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
    const body = decode(await readBody(req), mediaType(req));
    const opts = isRecord(body) ? body : {};
    const policy = (q.get("propagationPolicy") ?? opts.propagationPolicy ?? undefined) as
      PropagationPolicy | undefined;
    if (policy && !["Background", "Foreground", "Orphan"].includes(policy)) {
      throw apiErrors.badRequest(`propagationPolicy: Unsupported value: "${policy}"`);
    }
    const orphan = q.get("orphanDependents") ?? opts.orphanDependents;
    const dryRunBody = Array.isArray(opts.dryRun) && opts.dryRun.includes("All");
    const out: DeleteOptions = {
      dryRun: isDryRun(q) || dryRunBody,
      propagationPolicy: policy ?? (orphan === true || orphan === "true" ? "Orphan" : undefined),
    };
    if (isRecord(opts.preconditions))
      out.preconditions = opts.preconditions as DeleteOptions["preconditions"];
    return out;
  }

  private async remove(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    t: Target,
    name: string,
  ): Promise<void> {
    const opts = await this.deleteOptions(req, q);
    const deleted = this.store.delete(t.rt, t.namespace, name, opts);
    const pending = !opts.dryRun && this.store.get(t.rt, t.namespace, name) !== undefined;
    sendJson(res, pending ? 202 : 200, objectJson(deleted));
  }

  private async deleteCollection(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    t: Target,
  ): Promise<void> {
    const opts = await this.deleteOptions(req, q);
    const labels = parseLabelSelector(q.get("labelSelector"));
    const fields = parseFieldSelector(q.get("fieldSelector"), t.rt);
    const deleted = this.store
      .list(t.rt, { namespace: t.namespace, labels, fields })
      .map((o) => this.store.delete(t.rt, o.metadata.namespace, o.metadata.name ?? "", opts));
    sendJson(res, 200, {
      kind: t.rt.listKind,
      apiVersion: groupVersion(t.rt),
      metadata: { resourceVersion: this.store.resourceVersion },
      items: deleted,
    });
  }
}

export function kubeconfigYaml(url: string, namespace = "default"): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "  - name: prophet-sandbox",
    "    cluster:",
    `      server: ${url}`,
    // Plain HTTP on loopback: @kubernetes/client-node refuses http:// unless TLS verification is off.
    "      insecure-skip-tls-verify: true",
    "contexts:",
    "  - name: prophet-sandbox",
    "    context:",
    "      cluster: prophet-sandbox",
    "      user: prophet-sandbox",
    `      namespace: ${namespace}`,
    "current-context: prophet-sandbox",
    "users:",
    "  - name: prophet-sandbox",
    "    user: {}",
    "preferences: {}",
    "",
  ].join("\n");
}

export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const store = new ObjectStore({
    catalog: new ResourceCatalog(),
    clock: opts.clock,
    eventLogSize: opts.eventLogSize,
    random: opts.random,
  });
  if (opts.seedNamespaces !== false) {
    const nsRt = store.resource("namespaces");
    for (const name of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
      store.create(nsRt, { apiVersion: "v1", kind: "Namespace", metadata: { name } });
    }
    const pcRt = store.resource(PRIORITY_CLASSES);
    for (const pc of systemPriorityClasses) store.create(pcRt, pc);
  }
  let address = "127.0.0.1:0";
  const handler = new ApiHandler(
    store,
    opts.logs ?? emptyLogs,
    opts.bookmarkIntervalMs ?? 60_000,
    () => address,
    opts.routes,
  );
  const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => void handler.handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const workloads = opts.workloads
    ? startWorkloadController(store, opts.workloads === true ? {} : opts.workloads)
    : undefined;
  address = `127.0.0.1:${port}`;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    store,
    ...(workloads ? { workloads } : {}),
    kubeconfig: (namespace) => kubeconfigYaml(url, namespace),
    writeKubeconfig: (path, namespace) =>
      writeFileSync(path, kubeconfigYaml(url, namespace), { mode: 0o600 }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        workloads?.stop();
        handler.stopStreams();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
