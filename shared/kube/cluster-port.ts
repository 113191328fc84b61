// The cluster port over @kubernetes/client-node 1.4. KubeConfig does what is hard (contexts,
// client certificates, tokens, exec plugins, proxies); reads are plain GETs that keep the API's
// JSON, because the typed clients turn timestamps into Date objects and the analyzers read the
// same wire format a snapshot holds. Lists are paged (limit/continue).
import * as http from "node:http";
import { createHash } from "node:crypto";
import * as https from "node:https";
import { KubeConfig } from "@kubernetes/client-node";
import { ProphetError } from "../errors.js";
import type { KubeEvent, KubeObject } from "../diagnosis/objects.js";
import {
  ClusterWriteError,
  type ClusterPort,
  type ListOptions,
  type LogOptions,
  type ObjectRef,
  type PatchSubresource,
  type PatchType,
  type WatchOptions,
  type WriteFailure,
  WatchExpiredError,
} from "../ports/cluster.js";
import { kinds, resourcePath } from "./resources.js";

export interface KubeClusterOptions {
  /** kubeconfig file; default: $KUBECONFIG, ~/.kube/config, or in-cluster. */
  kubeconfig?: string;
  context?: string;
  /** Per-request timeout (ms). */
  timeoutMs?: number;
  pageSize?: number;
}

export function loadKubeConfig(opts: Pick<KubeClusterOptions, "kubeconfig" | "context"> = {}): KubeConfig {
  const kc = new KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();
  if (opts.context) kc.setCurrentContext(opts.context);
  if (!kc.getCurrentCluster())
    throw new ProphetError("bad_request", "the kubeconfig names no cluster for its current context");
  return kc;
}

interface Response {
  status: number;
  body: string;
}

/**
 * client-node's applyToHTTPSOptions builds a new Agent on every call, so every request would open
 * (and TLS-handshake) its own connection: a diagnosis reads about 25 lists at once, and in an
 * alert storm the handshakes were most of its time. Requests share one keep-alive agent per TLS
 * identity instead; a rotated certificate or CA gets a new agent. A proxy agent (cluster.proxyUrl)
 * is kept as client-node built it.
 */
const MAX_SOCKETS = 16;
function tlsIdentity(o: https.RequestOptions): string {
  const h = createHash("sha256");
  for (const v of [o.ca, o.cert, o.key, o.pfx, o.passphrase, o.servername, String(o.rejectUnauthorized)])
    h.update(Array.isArray(v) ? v.map(String).join("\u0000") : String(v ?? "")).update("\u0001");
  return h.digest("hex");
}

class KubeClusterPort implements ClusterPort {
  readonly name: string;
  private readonly server: URL;
  private agent?: { identity: string; agent: http.Agent };

  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: KubeClusterOptions,
  ) {
    this.name = kc.getCurrentContext() || kc.getCurrentCluster()?.name || "cluster";
    this.server = new URL(kc.getCurrentCluster()!.server);
  }

  private async request(
    path: string,
    method = "GET",
    body?: { contentType: string; text: string },
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body) {
      headers["content-type"] = body.contentType;
      // Node sends a DELETE body neither chunked nor sized unless told: the server would not read it.
      headers["content-length"] = String(Buffer.byteLength(body.text));
    }
    const reqOpts: https.RequestOptions = { method, headers };
    await this.kc.applyToHTTPSOptions(reqOpts);
    const url = new URL(this.server.pathname.replace(/\/$/, "") + path, this.server);
    const mod = url.protocol === "https:" ? https : http;
    if (!this.kc.getCurrentCluster()?.proxyUrl) reqOpts.agent = this.sharedAgent(reqOpts, mod === https);
    return new Promise<Response>((resolve, reject) => {
      const req = mod.request(url, reqOpts, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      });
      req.setTimeout(this.opts.timeoutMs ?? 15_000, () =>
        req.destroy(
          new ProphetError("handler_failed", `Kubernetes API ${url.host} did not answer in time (${path})`),
        ),
      );
      req.on("error", (err) =>
        reject(
          err instanceof ProphetError
            ? err
            : new ProphetError("handler_failed", `Kubernetes API ${url.host}: ${err.message}`),
        ),
      );
      req.end(body?.text);
    });
  }

  private sharedAgent(o: https.RequestOptions, tls: boolean): http.Agent {
    const identity = `${tls}:${tls ? tlsIdentity(o) : ""}`;
    if (this.agent?.identity !== identity) {
      this.agent?.agent.destroy();
      const agent = tls
        ? new https.Agent({
            keepAlive: true,
            maxSockets: MAX_SOCKETS,
            ...(o.ca ? { ca: o.ca } : {}),
            ...(o.cert ? { cert: o.cert } : {}),
            ...(o.key ? { key: o.key } : {}),
            ...(o.pfx ? { pfx: o.pfx } : {}),
            ...(o.passphrase ? { passphrase: o.passphrase } : {}),
            ...(o.servername ? { servername: o.servername } : {}),
            ...(o.rejectUnauthorized !== undefined ? { rejectUnauthorized: o.rejectUnauthorized } : {}),
          })
        : new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
      this.agent = { identity, agent };
    }
    return this.agent.agent;
  }

  private async getJson(path: string): Promise<unknown> {
    const res = await this.request(path);
    if (res.status === 404) return undefined;
    if (res.status < 200 || res.status >= 300) {
      let message = res.body.slice(0, 300);
      try {
        message = (JSON.parse(res.body) as { message?: string }).message ?? message;
      } catch {
        // not a Status object; keep the raw text
      }
      throw new ProphetError(
        res.status === 401 || res.status === 403 ? "invalid_config" : "handler_failed",
        `Kubernetes API GET ${path}: ${res.status} ${message}`,
      );
    }
    return JSON.parse(res.body) as unknown;
  }

  async list(kind: string, namespace?: string, opts: ListOptions = {}): Promise<KubeObject[]> {
    return (await this.listWithVersion(kind, namespace, opts)).items;
  }

  async listWithVersion(
    kind: string,
    namespace?: string,
    opts: ListOptions = {},
  ): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const info = kinds[kind];
    if (!info) throw new ProphetError("bad_request", `unsupported kind ${kind}`);
    if (!info.namespaced && namespace) namespace = undefined;
    const out: KubeObject[] = [];
    let cont: string | undefined;
    let resourceVersion = "";
    do {
      const q = new URLSearchParams({ limit: String(this.opts.pageSize ?? 500) });
      if (cont) q.set("continue", cont);
      if (opts.fieldSelector) q.set("fieldSelector", opts.fieldSelector);
      if (opts.labelSelector) q.set("labelSelector", opts.labelSelector);
      const page = (await this.getJson(`${resourcePath(kind, namespace)}?${q}`)) as
        { items?: KubeObject[]; metadata?: { continue?: string; resourceVersion?: string } } | undefined;
      if (!page) return { items: out, resourceVersion: "" }; // kind not served by this cluster
      for (const item of page.items ?? []) out.push(normalise(item, kind, info.apiVersion));
      cont = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (cont);
    return { items: out, resourceVersion };
  }

  /** A watch on its own connection (a stream holds its socket for minutes, not the pool's). */
  async watch(kind: string, namespace: string | undefined, opts: WatchOptions): Promise<void> {
    const info = kinds[kind];
    if (!info) throw new ProphetError("bad_request", `unsupported kind ${kind}`);
    if (!info.namespaced) namespace = undefined;
    const q = new URLSearchParams({
      watch: "1",
      resourceVersion: opts.resourceVersion,
      allowWatchBookmarks: "true",
      // Like client-go: a few minutes, jittered, so streams of many instances do not end together.
      timeoutSeconds: String(300 + Math.floor(Math.random() * 300)),
    });
    if (opts.fieldSelector) q.set("fieldSelector", opts.fieldSelector);
    const reqOpts: https.RequestOptions = { method: "GET", headers: { accept: "application/json" } };
    await this.kc.applyToHTTPSOptions(reqOpts);
    const url = new URL(
      `${this.server.pathname.replace(/\/$/, "")}${resourcePath(kind, namespace)}?${q}`,
      this.server,
    );
    const mod = url.protocol === "https:" ? https : http;
    if (!this.kc.getCurrentCluster()?.proxyUrl) reqOpts.agent = false;
    const where = `Kubernetes API ${url.host}: watch ${kind}${namespace ? ` in ${namespace}` : ""}`;
    await new Promise<void>((resolve, reject) => {
      if (opts.signal.aborted) return resolve();
      const req = mod.request(url, reqOpts, (res) => {
        if (res.statusCode === 410) return reject(new WatchExpiredError(`${where}: 410 Gone`));
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new ProphetError("handler_failed", `${where}: ${res.statusCode}`));
        }
        res.setEncoding("utf8");
        let buf = "";
        res.on("data", (chunk: string) => {
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            let e: { type?: string; object?: KubeObject & { code?: number; message?: string } };
            try {
              e = JSON.parse(line) as typeof e;
            } catch {
              req.destroy(new ProphetError("handler_failed", `${where}: a line that is not JSON`));
              return;
            }
            if (e.type === "ERROR") {
              const status = e.object as { code?: number; message?: string } | undefined;
              req.destroy(
                status?.code === 410
                  ? new WatchExpiredError(`${where}: ${status.message ?? "410 Gone"}`)
                  : new ProphetError("handler_failed", `${where}: ${status?.message ?? "error"}`),
              );
              return;
            }
            if (
              e.object &&
              (e.type === "ADDED" || e.type === "MODIFIED" || e.type === "DELETED" || e.type === "BOOKMARK")
            )
              opts.onEvent({
                type: e.type,
                object: e.type === "BOOKMARK" ? e.object : normalise(e.object, kind, info.apiVersion),
              });
          }
        });
        res.on("end", () => resolve());
        res.on("error", reject);
      });
      const abort = () => {
        req.destroy();
        resolve();
      };
      opts.signal.addEventListener("abort", abort, { once: true });
      req.on("error", (err) =>
        opts.signal.aborted
          ? resolve()
          : reject(
              err instanceof ProphetError || err instanceof WatchExpiredError
                ? err
                : new ProphetError("handler_failed", `${where}: ${err.message}`),
            ),
      );
      req.on("close", () => opts.signal.removeEventListener("abort", abort));
      req.end();
    });
  }

  async get(kind: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    const info = kinds[kind];
    if (!info) throw new ProphetError("bad_request", `unsupported kind ${kind}`);
    const obj = (await this.getJson(resourcePath(kind, namespace, name))) as KubeObject | undefined;
    return obj ? normalise(obj, kind, info.apiVersion) : undefined;
  }

  async podLogs(namespace: string, pod: string, container: string, opts: LogOptions = {}): Promise<string> {
    const q = new URLSearchParams({ container });
    if (opts.previous) q.set("previous", "true");
    if (opts.tailLines !== undefined) q.set("tailLines", String(opts.tailLines));
    const res = await this.request(`${resourcePath("Pod", namespace, pod)}/log?${q}`);
    // No previous instance, or the container never started: no log, not an error.
    if (res.status === 400 || res.status === 404) return "";
    if (res.status < 200 || res.status >= 300)
      throw new ProphetError(
        "handler_failed",
        `Kubernetes API logs of ${namespace}/${pod}/${container}: ${res.status}`,
      );
    return res.body;
  }

  private async write(
    what: string,
    path: string,
    method: string,
    body?: { contentType: string; text: string },
  ): Promise<Response> {
    const res = await this.request(path, method, body);
    if (res.status >= 200 && res.status < 300) return res;
    throw new ClusterWriteError(
      writeFailure(res.status),
      res.status,
      `Kubernetes API ${what}: ${res.status} ${statusMessage(res.body)}`,
    );
  }

  private info(kind: string) {
    const info = kinds[kind];
    if (!info) throw new ProphetError("bad_request", `unsupported kind ${kind}`);
    return info;
  }

  async patch(
    kind: string,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    opts: { type?: PatchType; subresource?: PatchSubresource } = {},
  ): Promise<KubeObject> {
    const info = this.info(kind);
    const type = opts.type ?? "merge";
    const path = resourcePath(kind, namespace, name) + (opts.subresource ? `/${opts.subresource}` : "");
    const res = await this.write(`PATCH ${kind} ${namespace ?? ""}/${name}`, path, "PATCH", {
      contentType: patchContentTypes[type],
      text: JSON.stringify(patch),
    });
    return normalise(JSON.parse(res.body) as KubeObject, kind, info.apiVersion);
  }

  async create(kind: string, namespace: string | undefined, obj: KubeObject): Promise<KubeObject> {
    const info = this.info(kind);
    const body = { ...obj, apiVersion: obj.apiVersion ?? info.apiVersion, kind };
    const res = await this.write(
      `POST ${kind} in ${namespace ?? "cluster"}`,
      resourcePath(kind, namespace),
      "POST",
      {
        contentType: "application/json",
        text: JSON.stringify(body),
      },
    );
    return normalise(JSON.parse(res.body) as KubeObject, kind, info.apiVersion);
  }

  async delete(kind: string, namespace: string | undefined, name: string): Promise<boolean> {
    this.info(kind);
    try {
      await this.write(
        `DELETE ${kind} ${namespace ?? ""}/${name}`,
        resourcePath(kind, namespace, name),
        "DELETE",
        {
          contentType: "application/json",
          text: JSON.stringify({ apiVersion: "v1", kind: "DeleteOptions", propagationPolicy: "Background" }),
        },
      );
      return true;
    } catch (err) {
      if (err instanceof ClusterWriteError && err.failure === "not_found") return false;
      throw err;
    }
  }

  async evict(namespace: string, pod: string): Promise<"evicted" | "blocked" | "gone"> {
    const body = {
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name: pod, namespace },
    };
    try {
      await this.write(
        `evict ${namespace}/${pod}`,
        `${resourcePath("Pod", namespace, pod)}/eviction`,
        "POST",
        {
          contentType: "application/json",
          text: JSON.stringify(body),
        },
      );
      return "evicted";
    } catch (err) {
      if (err instanceof ClusterWriteError && err.failure === "too_many_requests") return "blocked";
      if (err instanceof ClusterWriteError && err.failure === "not_found") return "gone";
      throw err;
    }
  }

  async events(o: ObjectRef): Promise<KubeEvent[]> {
    const fs = [`involvedObject.kind=${o.kind}`, `involvedObject.name=${o.name}`];
    const q = new URLSearchParams({ fieldSelector: fs.join(",") });
    const page = (await this.getJson(`${resourcePath("Event", o.namespace || undefined)}?${q}`)) as
      { items?: KubeObject[] } | undefined;
    return (page?.items ?? [])
      .map((e) => normalise(e, "Event", "v1") as KubeEvent)
      .filter((e) => (e.involvedObject?.namespace ?? "") === (o.namespace ?? ""));
  }
}

const patchContentTypes: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  json: "application/json-patch+json",
};

function writeFailure(status: number): WriteFailure {
  if (status === 404) return "not_found";
  if (status === 409) return "conflict";
  if (status === 401 || status === 403) return "forbidden";
  if (status === 400 || status === 422) return "invalid";
  if (status === 429) return "too_many_requests";
  return "error";
}

function statusMessage(body: string): string {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body.slice(0, 300);
  } catch {
    return body.slice(0, 300);
  }
}

/** Lists omit kind/apiVersion per item; Secrets lose their data (names are all diagnosis needs). */
function normalise(obj: KubeObject, kind: string, apiVersion: string): KubeObject {
  const { managedFields: _drop, ...metadata } = obj.metadata as KubeObject["metadata"] & {
    managedFields?: unknown;
  };
  const out: KubeObject = { ...obj, apiVersion: obj.apiVersion ?? apiVersion, kind, metadata };
  if (kind === "Secret") {
    delete out.data;
    delete out.stringData;
  }
  return out;
}

/** A cluster port for the kubeconfig's current (or given) context. */
export function kubeClusterPort(opts: KubeClusterOptions = {}): ClusterPort {
  return new KubeClusterPort(loadKubeConfig(opts), opts);
}

export function clusterPortFromKubeConfig(kc: KubeConfig, opts: KubeClusterOptions = {}): ClusterPort {
  return new KubeClusterPort(kc, opts);
}
