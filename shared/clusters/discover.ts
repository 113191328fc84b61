// Discovery across sources. Each source is asked on its own: one that fails (a 403, an
// unreachable API, a broken kubeconfig) is reported with its error, and the clusters the others
// found are kept.
import { asProphetError, type ProphetError } from "../errors.js";
import type { ClusterDefinition } from "./definition.js";
import { discoverAks, type AksOptions } from "./sources/aks.js";
import { discoverEks, type EksOptions } from "./sources/eks.js";
import { discoverGke, type GkeOptions } from "./sources/gke.js";
import { inClusterServer, type InClusterOptions } from "./sources/in-cluster.js";
import { kubeconfigClusters } from "./sources/kubeconfig.js";

export type DiscoveryRequest =
  | { source: "kubeconfig"; path: string; context?: string; name?: string }
  | { source: "in-cluster"; name?: string }
  | { source: "eks"; region: string }
  | { source: "aks"; subscription: string }
  | { source: "gke"; project: string };

export type DiscoveredCluster = ClusterDefinition & { status?: string; version?: string };

export interface SourceError {
  /** e.g. `eks:eu-west-1`, `gke:shop-prod`, `kubeconfig:/home/me/.kube/config`. */
  source: string;
  error: ProphetError;
}

export interface Discovery {
  clusters: DiscoveredCluster[];
  errors: SourceError[];
}

export interface DiscoveryOptions {
  eks?: EksOptions;
  aks?: AksOptions;
  gke?: GkeOptions;
  inCluster?: InClusterOptions;
  /** Prepended to every derived name (e.g. `prod-`), to keep names unique across sources. */
  namePrefix?: string;
}

export function describeRequest(r: DiscoveryRequest): string {
  switch (r.source) {
    case "kubeconfig":
      return `kubeconfig:${r.path}${r.context ? `#${r.context}` : ""}`;
    case "in-cluster":
      return "in-cluster";
    case "eks":
      return `eks:${r.region}`;
    case "aks":
      return `aks:${r.subscription}`;
    case "gke":
      return `gke:${r.project}`;
  }
}

async function discoverOne(r: DiscoveryRequest, opts: DiscoveryOptions): Promise<DiscoveredCluster[]> {
  const naming = opts.namePrefix ? { namePrefix: opts.namePrefix } : {};
  switch (r.source) {
    case "kubeconfig":
      return kubeconfigClusters(r.path, {
        ...(r.context ? { context: r.context } : {}),
        ...(r.name ? { name: r.name } : {}),
        ...naming,
      });
    case "in-cluster": {
      const server = inClusterServer(opts.inCluster);
      if (!server)
        throw asProphetError(new Error("not running in a cluster: KUBERNETES_SERVICE_HOST is unset"));
      return [{ name: r.name ?? "in-cluster", source: "in-cluster", server }];
    }
    case "eks":
      return discoverEks(r.region, opts.eks, naming);
    case "aks":
      return discoverAks(r.subscription, opts.aks, naming);
    case "gke":
      return discoverGke(r.project, opts.gke, naming);
  }
}

export async function discover(
  requests: DiscoveryRequest[],
  opts: DiscoveryOptions = {},
): Promise<Discovery> {
  const settled = await Promise.allSettled(requests.map((r) => discoverOne(r, opts)));
  const out: Discovery = { clusters: [], errors: [] };
  settled.forEach((s, i) => {
    if (s.status === "fulfilled") out.clusters.push(...s.value);
    else out.errors.push({ source: describeRequest(requests[i]!), error: asProphetError(s.reason) });
  });
  return out;
}
