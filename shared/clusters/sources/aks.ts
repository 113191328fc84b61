// Azure Kubernetes Service: discovery through managedClusters.list (paged by nextLink) and
// credentials through listClusterUserCredentials, whose kubeconfig is parsed like any other. An
// Entra ID cluster's kubeconfig runs kubelogin; instead of running it we ask the same
// TokenCredential for the AKS server application's token, which is what kubelogin does.
import type { ContainerServiceClient } from "@azure/arm-containerservice";
import type { TokenCredential } from "@azure/core-auth";
import { KubeConfig } from "@kubernetes/client-node";
import { z } from "zod";
import { ProphetError } from "../../errors.js";
import type { ClusterCredentials } from "../credentials.js";
import { clusterNameFrom, type AksCluster } from "../definition.js";
import { cloudFailure, isNetworkError, networkDetail, type CloudCall } from "./cloud-error.js";
import { credentialsOfCurrentContext, parseKubeconfig } from "./kubeconfig.js";

/** The Entra ID application of every AKS API server (kubelogin's default --server-id). */
export const AKS_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";

export interface AksOptions {
  /** Entra ID credential (default: DefaultAzureCredential from @azure/identity). */
  credential?: TokenCredential;
  /** Azure Resource Manager endpoint (default https://management.azure.com). */
  endpoint?: string;
  /** Extra CA certificates to trust for the ARM endpoint (tests: a local HTTPS server). */
  ca?: string;
  /** Pipeline retries per call (default 3). */
  maxRetries?: number;
}

const ManagedClusterSchema = z.object({
  id: z.string().regex(/\/resourcegroups\/[^/]+\//i, "expected an ARM resource id with a resource group"),
  name: z.string().min(1),
  location: z.string().optional(),
  fqdn: z.string().optional(),
  privateFqdn: z.string().optional(),
  provisioningState: z.string().optional(),
  powerState: z.object({ code: z.string().optional() }).optional(),
  currentKubernetesVersion: z.string().optional(),
});
const CredentialResultsSchema = z.object({
  kubeconfigs: z
    .array(z.object({ name: z.string().optional(), value: z.instanceof(Uint8Array) }))
    .min(1, "no kubeconfig returned"),
});
const ExecSchema = z.object({ command: z.string(), args: z.array(z.string()).nullish() }).loose();

export interface DiscoveredAks extends AksCluster {
  status?: string;
  version?: string;
}

async function defaultCredential(): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import("@azure/identity");
  return new DefaultAzureCredential();
}

class AksSession {
  private refreshed = false;
  private client?: ContainerServiceClient;

  constructor(
    readonly subscription: string,
    private readonly opts: AksOptions,
    private credential?: TokenCredential,
  ) {}

  async tokenCredential(): Promise<TokenCredential> {
    this.credential ??= this.opts.credential ?? (await defaultCredential());
    return this.credential;
  }

  // A new client has a new bearer-token policy, so a rejected cached token is not sent again.
  private async newClient(): Promise<ContainerServiceClient> {
    const { ContainerServiceClient } = await import("@azure/arm-containerservice");
    return new ContainerServiceClient(await this.tokenCredential(), this.subscription, {
      ...(this.opts.endpoint ? { endpoint: this.opts.endpoint } : {}),
      ...(this.opts.ca ? { tlsOptions: { ca: this.opts.ca } } : {}),
      retryOptions: { maxRetries: this.opts.maxRetries ?? 3 },
    });
  }

  async call<T>(
    operation: string,
    permission: string,
    run: (c: ContainerServiceClient) => Promise<T>,
  ): Promise<T> {
    for (;;) {
      this.client ??= await this.newClient();
      try {
        return await run(this.client);
      } catch (err) {
        const e = err as { statusCode?: number; code?: string; message?: string };
        const call: CloudCall = {
          cloud: "AKS",
          scope: `subscription ${this.subscription}`,
          operation,
          permission,
        };
        const detail = `${e.code ?? "Error"}: ${e.message ?? String(err)}`;
        if (e.statusCode === 401 && !this.refreshed) {
          this.refreshed = true;
          this.client = undefined;
          continue;
        }
        if (e.statusCode === 401) throw cloudFailure(call, "unauthorized", detail, err);
        if (e.statusCode === 403) throw cloudFailure(call, "forbidden", detail, err);
        if (e.statusCode === 404) throw cloudFailure(call, "not_found", detail, err);
        if (e.statusCode === undefined && (isNetworkError(err) || e.code === "REQUEST_SEND_ERROR"))
          throw cloudFailure(call, "network", networkDetail(err), err);
        throw cloudFailure(call, "other", detail, err);
      }
    }
  }
}

function resourceGroupOf(id: string): string {
  return id.match(/\/resourcegroups\/([^/]+)\//i)?.[1] ?? "";
}

/** Every AKS cluster of the subscription. */
export async function discoverAks(
  subscription: string,
  opts: AksOptions = {},
  naming: { namePrefix?: string } = {},
): Promise<DiscoveredAks[]> {
  const s = new AksSession(subscription, opts);
  const listed = await s.call(
    "managedClusters.list",
    "Microsoft.ContainerService/managedClusters/read",
    async (c) => {
      const all: unknown[] = [];
      for await (const mc of c.managedClusters.list()) all.push(mc);
      return all;
    },
  );
  return listed.map((raw, i) => {
    const res = ManagedClusterSchema.safeParse(raw);
    if (!res.success)
      throw cloudFailure(
        {
          cloud: "AKS",
          scope: `subscription ${subscription}`,
          operation: "managedClusters.list",
          permission: "Microsoft.ContainerService/managedClusters/read",
        },
        "invalid_response",
        `value[${i}].${res.error.issues[0]?.path.join(".")}: ${res.error.issues[0]?.message}`,
      );
    const mc = res.data;
    const host = mc.fqdn ?? mc.privateFqdn;
    const status = [mc.provisioningState, mc.powerState?.code].filter(Boolean).join("/");
    return {
      name: clusterNameFrom(mc.name, naming.namePrefix),
      source: "aks" as const,
      subscription,
      resourceGroup: resourceGroupOf(mc.id),
      cluster: mc.name,
      ...(mc.location ? { location: mc.location } : {}),
      ...(host ? { server: `https://${host}:443` } : {}),
      ...(status ? { status } : {}),
      ...(mc.currentKubernetesVersion ? { version: mc.currentKubernetesVersion } : {}),
    };
  });
}

/** The clusterUser kubeconfig's server, CA and user; Entra ID clusters get a bearer token. */
export async function aksCredentials(def: AksCluster, opts: AksOptions): Promise<ClusterCredentials> {
  const s = new AksSession(def.subscription, opts);
  const where = `AKS ${def.subscription}/${def.resourceGroup}/${def.cluster} clusterUser kubeconfig`;
  const out = await s.call(
    "listClusterUserCredentials",
    "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
    (c) => c.managedClusters.listClusterUserCredentials(def.resourceGroup, def.cluster),
  );
  const parsed = CredentialResultsSchema.safeParse(out);
  if (!parsed.success)
    throw cloudFailure(
      {
        cloud: "AKS",
        scope: `subscription ${def.subscription}`,
        operation: "listClusterUserCredentials",
        permission: "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
      },
      "invalid_response",
      parsed.error.issues[0]?.message ?? "invalid",
    );
  const text = Buffer.from(parsed.data.kubeconfigs[0]!.value).toString("utf8");
  parseKubeconfig(text, where);
  const kc = new KubeConfig();
  kc.loadFromString(text);
  const creds = credentialsOfCurrentContext(kc);
  const exec = ExecSchema.safeParse(creds.user.exec);
  const provider =
    (creds.user.authProvider as { name?: string; config?: Record<string, string> } | undefined) ?? {};
  const kubelogin = exec.success && /(^|[\\/])kubelogin(\.exe)?$/.test(exec.data.command);
  if (!kubelogin && provider.name !== "azure") return creds;
  const args = exec.success ? (exec.data.args ?? []) : [];
  const at = args.indexOf("--server-id");
  const serverId =
    (at >= 0 ? args[at + 1] : undefined) ?? provider.config?.["apiserver-id"] ?? AKS_SERVER_APP_ID;
  const token = await (await s.tokenCredential()).getToken(`${serverId}/.default`);
  if (!token)
    throw new ProphetError(
      "invalid_config",
      `AKS ${def.cluster} (subscription ${def.subscription}): the Entra ID credential returned no token for ${serverId}`,
    );
  return {
    cluster: creds.cluster,
    user: { token: token.token },
    ...(creds.namespace ? { namespace: creds.namespace } : {}),
    expiresAt: token.expiresOnTimestamp,
  };
}
