// Google Kubernetes Engine: discovery through ClusterManager listClusters over all locations
// (`projects/P/locations/-`), credentials as the endpoint and CA from getCluster plus a Google
// OAuth access token, which is what gke-gcloud-auth-plugin hands kubectl. The client runs in its
// REST mode (`fallback: true`) so the endpoint can be any HTTP server; the token comes from a
// source that is a port: Google application-default credentials unless one is passed.
import type containerModule from "@google-cloud/container";
import { z } from "zod";
import type { ClusterCredentials } from "../credentials.js";
import { clusterNameFrom, type GkeCluster } from "../definition.js";
import { cloudFailure, isNetworkError, networkDetail, type CloudCall } from "./cloud-error.js";

type ClusterManagerClient = InstanceType<typeof containerModule.v1.ClusterManagerClient>;

export interface GoogleToken {
  token: string;
  /** Epoch ms. */
  expiresAt?: number;
}

export interface GoogleTokenSource {
  /** forceRefresh: the last token was refused; do not return a cached one. */
  getToken(opts: { forceRefresh: boolean }): Promise<GoogleToken>;
}

export interface GkeOptions {
  tokenSource?: GoogleTokenSource;
  /** host or host:port of the GKE API (default container.googleapis.com). */
  apiEndpoint?: string;
  /** "http" for a local test server (default https). */
  protocol?: "http" | "https";
  /** Retry transient failures (UNAVAILABLE, DEADLINE_EXCEEDED) with backoff (default true). */
  retries?: boolean;
}

/** Application-default credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud, metadata server). */
export function applicationDefaultTokenSource(): GoogleTokenSource {
  let auth:
    | Promise<{
        getAccessToken(): Promise<{ token?: string | null }>;
        credentials?: { expiry_date?: number | null };
      }>
    | undefined;
  return {
    async getToken({ forceRefresh }) {
      if (!auth || forceRefresh) {
        const { GoogleAuth } = await import("google-auth-library");
        auth = new GoogleAuth({ scopes: ["https://www.googleapis.com/auth/cloud-platform"] }).getClient();
      }
      const client = await auth;
      const { token } = await client.getAccessToken();
      if (!token) throw new Error("Google application-default credentials returned no access token");
      const expiry = client.credentials?.expiry_date;
      return { token, ...(expiry ? { expiresAt: expiry } : {}) };
    },
  };
}

const ClusterSchema = z.object({
  name: z.string().min(1),
  location: z.string().min(1),
  endpoint: z.string().min(1, "the cluster has no endpoint yet (is it still provisioning?)"),
  masterAuth: z.object({ clusterCaCertificate: z.string().min(1, "no CA certificate") }),
  status: z.union([z.string(), z.number()]).nullish(),
  currentMasterVersion: z.string().nullish(),
});
const ListSchema = z.object({ clusters: z.array(z.unknown()).nullish() });

export interface DiscoveredGke extends GkeCluster {
  status?: string;
  version?: string;
}

/**
 * The REST transport asks its auth client to fetch; this one adds the bearer token and nothing
 * else, so the token source (and its cache) is ours, not google-auth-library's.
 */
function bearerAuthClient(token: string) {
  return {
    async getRequestHeaders(): Promise<Headers> {
      return new Headers({ authorization: `Bearer ${token}` });
    },
    async fetch(
      url: string | URL,
      init: {
        method?: string;
        headers?: ConstructorParameters<typeof Headers>[0];
        body?: RequestInit["body"];
        signal?: AbortSignal;
      },
    ) {
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${token}`);
      return fetch(url, {
        method: init.method ?? "GET",
        headers,
        ...(init.body !== undefined ? { body: init.body } : {}),
        ...(init.signal ? { signal: init.signal } : {}),
      });
    },
  };
}

class GkeSession {
  private refreshed = false;
  private client?: ClusterManagerClient;
  lastToken?: GoogleToken;

  constructor(
    readonly project: string,
    private readonly opts: GkeOptions,
  ) {}

  private async newClient(forceRefresh: boolean): Promise<ClusterManagerClient> {
    const source = this.opts.tokenSource ?? applicationDefaultTokenSource();
    this.lastToken = await source.getToken({ forceRefresh });
    const endpoint = this.opts.apiEndpoint;
    const port = endpoint?.match(/:(\d+)$/)?.[1];
    const { default: container } = await import("@google-cloud/container");
    return new container.v1.ClusterManagerClient({
      fallback: true,
      ...(endpoint ? { apiEndpoint: endpoint.replace(/:\d+$/, "") } : {}),
      ...(port ? { port: Number(port) } : {}),
      ...(this.opts.protocol ? { protocol: this.opts.protocol } : {}),
      // gax accepts any object with getRequestHeaders/fetch as its auth client.
      authClient: bearerAuthClient(this.lastToken.token) as unknown as never,
    });
  }

  async call<T>(
    operation: string,
    permission: string,
    run: (c: ClusterManagerClient) => Promise<T>,
  ): Promise<T> {
    for (;;) {
      this.client ??= await this.newClient(this.refreshed);
      try {
        return await run(this.client);
      } catch (err) {
        const e = err as {
          code?: number | string;
          message?: string;
          errorInfoMetadata?: Record<string, string>;
        };
        const call: CloudCall = {
          cloud: "GKE",
          scope: `project ${this.project}`,
          operation,
          permission: e.errorInfoMetadata?.permission ?? permission,
        };
        const detail = e.message ?? String(err);
        if (e.code === 16 && !this.refreshed) {
          this.refreshed = true;
          await this.client.close();
          this.client = undefined;
          continue;
        }
        if (e.code === 16) throw cloudFailure(call, "unauthorized", detail, err);
        if (e.code === 7) throw cloudFailure(call, "forbidden", detail, err);
        if (e.code === 5) throw cloudFailure(call, "not_found", detail, err);
        if (isNetworkError(err)) throw cloudFailure(call, "network", networkDetail(err), err);
        throw cloudFailure(call, "other", detail, err);
      }
    }
  }

  callOptions() {
    return this.opts.retries === false ? { retry: null } : {};
  }

  async close(): Promise<void> {
    await this.client?.close();
  }
}

function parseCluster(project: string, operation: string, raw: unknown): z.infer<typeof ClusterSchema> {
  const res = ClusterSchema.safeParse(raw);
  if (res.success) return res.data;
  const issue = res.error.issues[0];
  throw cloudFailure(
    { cloud: "GKE", scope: `project ${project}`, operation, permission: "container.clusters.get" },
    "invalid_response",
    `${(raw as { name?: string })?.name ?? "cluster"}: ${issue?.path.join(".")}: ${issue?.message}`,
  );
}

const statusText = (s: string | number | null | undefined) =>
  s === null || s === undefined ? undefined : String(s);

/** Every GKE cluster of the project, in every location. */
export async function discoverGke(
  project: string,
  opts: GkeOptions = {},
  naming: { namePrefix?: string } = {},
): Promise<DiscoveredGke[]> {
  const s = new GkeSession(project, opts);
  try {
    const [res] = await s.call("listClusters", "container.clusters.list", (c) =>
      c.listClusters({ parent: `projects/${project}/locations/-` }, s.callOptions()),
    );
    const list = ListSchema.parse(res);
    return (list.clusters ?? []).map((raw) => {
      const c = parseCluster(project, "listClusters", raw);
      const status = statusText(c.status);
      return {
        name: clusterNameFrom(c.name, naming.namePrefix),
        source: "gke" as const,
        project,
        location: c.location,
        cluster: c.name,
        server: `https://${c.endpoint}`,
        ...(status ? { status } : {}),
        ...(c.currentMasterVersion ? { version: c.currentMasterVersion } : {}),
      };
    });
  } finally {
    await s.close();
  }
}

export async function gkeCredentials(def: GkeCluster, opts: GkeOptions): Promise<ClusterCredentials> {
  const s = new GkeSession(def.project, opts);
  try {
    const [raw] = await s.call("getCluster", "container.clusters.get", (c) =>
      c.getCluster(
        { name: `projects/${def.project}/locations/${def.location}/clusters/${def.cluster}` },
        s.callOptions(),
      ),
    );
    const c = parseCluster(def.project, "getCluster", raw);
    const token = s.lastToken!;
    return {
      cluster: {
        server: `https://${c.endpoint}`,
        caData: c.masterAuth.clusterCaCertificate,
        skipTLSVerify: false,
      },
      user: { token: token.token },
      ...(token.expiresAt !== undefined ? { expiresAt: token.expiresAt } : {}),
    };
  } finally {
    await s.close();
  }
}
