// Amazon EKS: discovery through ListClusters (paged) and DescribeCluster, credentials as the
// API server's endpoint and CA plus a bearer token like `aws eks get-token`'s. AWS credentials
// come from the SDK's default chain unless a provider is passed (tests pass static keys and a
// local endpoint). Expired credentials get one refresh and one retry. The SDK is loaded on first
// use, so commands that never call EKS do not pay for it.
import type * as EksSdk from "@aws-sdk/client-eks";
import type { EKSClient, EKSClientConfig } from "@aws-sdk/client-eks";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import { z } from "zod";
import type { ClusterCredentials } from "../credentials.js";
import { clusterNameFrom, type EksCluster } from "../definition.js";
import { cloudFailure, isNetworkError, networkDetail, type CloudCall } from "./cloud-error.js";
import { eksToken } from "./eks-token.js";

export interface EksOptions {
  /** The EKS API endpoint (default: the region's). */
  endpoint?: string;
  /** AWS credentials (default: the SDK's provider chain: env, profile, SSO, IMDS, …). */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** STS host named in the token (default: the region's regional endpoint). */
  stsHost?: string;
  /** SDK attempts per call (default 3). */
  maxAttempts?: number;
}

const DescribedSchema = z.object({
  cluster: z.object({
    name: z.string().min(1),
    arn: z.string().optional(),
    endpoint: z.url({ error: "expected the API server's https URL (is the cluster still creating?)" }),
    certificateAuthority: z.object({ data: z.string().min(1) }),
    status: z.string().optional(),
    version: z.string().optional(),
  }),
});
const ListedSchema = z.object({ clusters: z.array(z.string()).default([]), nextToken: z.string().nullish() });

export interface DiscoveredEks extends EksCluster {
  status?: string;
  version?: string;
}

function accountOf(arn: string | undefined): string | undefined {
  return arn?.match(/^arn:aws[\w-]*:eks:[\w-]+:(\d{12}):/)?.[1];
}

/** One session against one region: one client, credentials refreshed at most once. */
type Sdk = typeof EksSdk;

class EksSession {
  private client?: EKSClient;
  private refreshed = false;
  account?: string;

  constructor(
    readonly region: string,
    private readonly opts: EksOptions,
    private readonly sdk: Sdk,
  ) {}

  private newClient(forceRefresh: boolean): EKSClient {
    const given = this.opts.credentials;
    const credentials: EKSClientConfig["credentials"] =
      typeof given === "function" ? () => given({ forceRefresh }) : given;
    return new this.sdk.EKSClient({
      region: this.region,
      maxAttempts: this.opts.maxAttempts ?? 3,
      ...(this.opts.endpoint ? { endpoint: this.opts.endpoint } : {}),
      ...(credentials ? { credentials } : {}),
    });
  }

  private scope(): string {
    return `account ${this.account ?? "(unknown)"}, region ${this.region}`;
  }

  async credentials(): Promise<AwsCredentialIdentity> {
    this.client ??= this.newClient(this.refreshed);
    const creds = await this.client.config.credentials();
    if (creds.accountId) this.account ??= creds.accountId;
    return creds;
  }

  async call<T>(operation: string, permission: string, send: (c: EKSClient) => Promise<T>): Promise<T> {
    for (;;) {
      this.client ??= this.newClient(this.refreshed);
      try {
        return await send(this.client);
      } catch (err) {
        const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
        const status = e.$metadata?.httpStatusCode;
        const expired =
          status === 401 ||
          /^(ExpiredToken|ExpiredTokenException|RequestExpired|InvalidClientTokenId)$/.test(e.name ?? "");
        if (expired && !this.refreshed) {
          this.refreshed = true;
          this.client.destroy();
          this.client = undefined;
          continue;
        }
        this.account ??= e.message?.match(/arn:aws[\w-]*:[\w-]+::(\d{12}):/)?.[1];
        const call: CloudCall = { cloud: "EKS", scope: this.scope(), operation, permission };
        const detail = `${e.name ?? "Error"}: ${e.message ?? String(err)}`;
        if (expired) throw cloudFailure(call, "unauthorized", detail, err);
        if (status === 403 || e.name === "AccessDeniedException")
          throw cloudFailure(call, "forbidden", detail, err);
        if (status === 404 || e.name === "ResourceNotFoundException")
          throw cloudFailure(call, "not_found", detail, err);
        if (status === undefined && isNetworkError(err))
          throw cloudFailure(call, "network", networkDetail(err), err);
        throw cloudFailure(call, "other", detail, err);
      }
    }
  }

  async listNames(): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.call("ListClusters", "eks:ListClusters", (c) =>
        c.send(new this.sdk.ListClustersCommand({ ...(nextToken ? { nextToken } : {}) })),
      );
      const page = this.parse("ListClusters", "eks:ListClusters", ListedSchema, out);
      names.push(...page.clusters);
      nextToken = page.nextToken ?? undefined;
    } while (nextToken);
    return names;
  }

  async describe(name: string): Promise<z.infer<typeof DescribedSchema>["cluster"]> {
    const out = await this.call("DescribeCluster", "eks:DescribeCluster", (c) =>
      c.send(new this.sdk.DescribeClusterCommand({ name })),
    );
    const { cluster } = this.parse("DescribeCluster", "eks:DescribeCluster", DescribedSchema, out);
    this.account ??= accountOf(cluster.arn);
    return cluster;
  }

  private parse<S extends z.ZodType>(
    operation: string,
    permission: string,
    schema: S,
    out: unknown,
  ): z.infer<S> {
    const res = schema.safeParse(out);
    if (res.success) return res.data;
    const issue = res.error.issues[0];
    throw cloudFailure(
      { cloud: "EKS", scope: this.scope(), operation, permission },
      "invalid_response",
      `${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`,
    );
  }

  close(): void {
    this.client?.destroy();
  }
}

/** Every EKS cluster of the region, described. */
export async function discoverEks(
  region: string,
  opts: EksOptions = {},
  naming: { namePrefix?: string } = {},
): Promise<DiscoveredEks[]> {
  const s = new EksSession(region, opts, await import("@aws-sdk/client-eks"));
  try {
    const out: DiscoveredEks[] = [];
    for (const name of await s.listNames()) {
      const c = await s.describe(name);
      const account = accountOf(c.arn);
      out.push({
        name: clusterNameFrom(c.name, naming.namePrefix),
        source: "eks",
        region,
        cluster: c.name,
        ...(account ? { account } : {}),
        server: c.endpoint,
        ...(c.status ? { status: c.status } : {}),
        ...(c.version ? { version: c.version } : {}),
      });
    }
    return out;
  } finally {
    s.close();
  }
}

/** Endpoint, CA and a fresh token for one EKS cluster. */
export async function eksCredentials(
  def: EksCluster,
  opts: EksOptions,
  now: number,
): Promise<ClusterCredentials> {
  const s = new EksSession(def.region, opts, await import("@aws-sdk/client-eks"));
  if (def.account) s.account = def.account;
  try {
    const c = await s.describe(def.cluster);
    const { token, expiresAt } = await eksToken({
      cluster: def.cluster,
      region: def.region,
      credentials: await s.credentials(),
      now,
      ...(opts.stsHost ? { stsHost: opts.stsHost } : {}),
    });
    return {
      cluster: { server: c.endpoint, caData: c.certificateAuthority.data, skipTLSVerify: false },
      user: { token },
      expiresAt,
    };
  } finally {
    s.close();
  }
}
