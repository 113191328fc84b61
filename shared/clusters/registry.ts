// The cluster registry: the clusters one Prophet deployment watches. Definitions (references
// only) are persisted in the clusters file; credentials are resolved per source when needed,
// cached in memory until a margin before they expire, and never written anywhere.
import { describeIssues, issuesFromZod, ProphetError } from "../errors.js";
import type { ClusterPort } from "../ports/cluster.js";
import { CredentialCache, systemClock, type Clock, type ClusterCredentials } from "./credentials.js";
import {
  ClusterDefinitionSchema,
  ClusterNameSchema,
  placeOf,
  sameDefinition,
  type ClusterDefinition,
  type ClusterSource,
} from "./definition.js";
import { discover, type Discovery, type DiscoveryOptions, type DiscoveryRequest } from "./discover.js";
import { readClustersFile, writeClustersFile } from "./file.js";
import { registryClusterPort, type PortOptions } from "./port.js";
import { probeCluster, type ProbeResult } from "./probe.js";
import { aksCredentials } from "./sources/aks.js";
import { eksCredentials } from "./sources/eks.js";
import { gkeCredentials } from "./sources/gke.js";
import { inClusterCredentials } from "./sources/in-cluster.js";
import { kubeconfigCredentials } from "./sources/kubeconfig.js";

export interface ClusterRegistryOptions extends Omit<DiscoveryOptions, "namePrefix"> {
  /** The clusters file (PROPHET_CLUSTERS_FILE). */
  file: string;
  clock?: Clock;
  /** Refresh credentials this long before they expire (default 2 min). */
  refreshMarginMs?: number;
  /** Re-resolve credentials without an expiry after this long (default 5 min). */
  maxAgeMs?: number;
  /** Options of the ports `port()` returns (timeouts, page size). */
  port?: PortOptions;
}

export type ClusterStatus = "registered" | "ready" | "error";

/** One row of `list()`: the same keys for every cluster, null where a source has no value. */
export interface ClusterEntry {
  name: string;
  source: ClusterSource;
  server: string | null;
  context: string | null;
  cloud: string | null;
  region: string | null;
  account: string | null;
  /** registered: not checked; ready: credentials resolved; error: they could not be. */
  status: ClusterStatus;
  error: string | null;
}

export interface AddResult {
  added: string[];
  unchanged: string[];
}

export class ClusterRegistry {
  private readonly cache: CredentialCache;
  private readonly clock: Clock;

  constructor(private readonly opts: ClusterRegistryOptions) {
    this.clock = opts.clock ?? systemClock;
    this.cache = new CredentialCache({
      clock: this.clock,
      ...(opts.refreshMarginMs !== undefined ? { refreshMarginMs: opts.refreshMarginMs } : {}),
      ...(opts.maxAgeMs !== undefined ? { maxAgeMs: opts.maxAgeMs } : {}),
    });
  }

  private definitions(): ClusterDefinition[] {
    return readClustersFile(this.opts.file).clusters;
  }

  get(name: string): ClusterDefinition | undefined {
    return this.definitions().find((c) => c.name === name);
  }

  private require(name: string): ClusterDefinition {
    const def = this.get(name);
    if (!def) {
      const known = this.definitions()
        .map((c) => c.name)
        .sort();
      throw new ProphetError(
        "not_found",
        `no cluster "${name}" in ${this.opts.file}; known: ${known.join(", ") || "(none; add one with prophet clusters add)"}`,
      );
    }
    return def;
  }

  /**
   * The registered clusters, sorted by name. With `check`, each cluster's credentials are resolved
   * (concurrently): a failing one is `error` with its message, and the others are still listed.
   */
  async list(opts: { check?: boolean } = {}): Promise<ClusterEntry[]> {
    const defs = [...this.definitions()].sort((a, b) => a.name.localeCompare(b.name));
    const checks = opts.check
      ? await Promise.allSettled(defs.map((d) => this.credentials(d.name)))
      : defs.map(() => undefined);
    return defs.map((d, i) => {
      const place = placeOf(d);
      const check = checks[i];
      const server = check?.status === "fulfilled" ? check.value.cluster.server : (d.server ?? null);
      return {
        name: d.name,
        source: d.source,
        server,
        context: d.source === "kubeconfig" ? d.context : null,
        cloud: place.cloud ?? null,
        region: place.region ?? null,
        account: place.account ?? null,
        status: !check ? "registered" : check.status === "fulfilled" ? "ready" : "error",
        error: check?.status === "rejected" ? String((check.reason as Error).message ?? check.reason) : null,
      };
    });
  }

  /**
   * Registers clusters; all or none. A name already registered with the same definition is left
   * as it is (adding twice is harmless); with another definition it is a conflict.
   */
  add(
    clusters: ReadonlyArray<ClusterDefinition | (ClusterDefinition & { status?: string; version?: string })>,
  ): AddResult {
    const file = readClustersFile(this.opts.file);
    const result: AddResult = { added: [], unchanged: [] };
    const incoming = clusters.map((raw, i) => {
      const {
        status: _s,
        version: _v,
        ...def
      } = raw as ClusterDefinition & { status?: string; version?: string };
      const res = ClusterDefinitionSchema.safeParse(def);
      if (!res.success) {
        const issues = issuesFromZod(res.error.issues, `clusters.${i}`);
        throw new ProphetError(
          "bad_request",
          `invalid cluster definition: ${describeIssues(issues)}`,
          issues,
        );
      }
      return res.data;
    });
    const next = [...file.clusters];
    for (const def of incoming) {
      const existing = next.find((c) => c.name === def.name);
      if (!existing) {
        next.push(def);
        result.added.push(def.name);
      } else if (sameDefinition(existing, def)) {
        result.unchanged.push(def.name);
      } else {
        throw new ProphetError(
          "conflict",
          `cluster name "${def.name}" is already registered for ${describe(existing)}; ` +
            `cannot also use it for ${describe(def)} (choose another name or a name prefix)`,
        );
      }
    }
    if (result.added.length) writeClustersFile(this.opts.file, { version: 1, clusters: next });
    return result;
  }

  remove(name: string): boolean {
    ClusterNameSchema.parse(name);
    const file = readClustersFile(this.opts.file);
    const next = file.clusters.filter((c) => c.name !== name);
    if (next.length === file.clusters.length) return false;
    writeClustersFile(this.opts.file, { version: 1, clusters: next });
    this.cache.invalidate(name);
    return true;
  }

  /** Finds clusters in the given sources, reporting each failing source apart. */
  discover(requests: DiscoveryRequest[], opts: { namePrefix?: string } = {}): Promise<Discovery> {
    return discover(requests, {
      ...(this.opts.eks ? { eks: this.opts.eks } : {}),
      ...(this.opts.aks ? { aks: this.opts.aks } : {}),
      ...(this.opts.gke ? { gke: this.opts.gke } : {}),
      ...(this.opts.inCluster ? { inCluster: this.opts.inCluster } : {}),
      ...opts,
    });
  }

  /** The cluster's credentials, from the cache while they are fresh. */
  async credentials(name: string): Promise<ClusterCredentials> {
    const def = this.require(name);
    return this.cache.get(name, () => this.resolve(def));
  }

  invalidate(name: string, creds?: ClusterCredentials): void {
    this.cache.invalidate(name, creds);
  }

  private async resolve(def: ClusterDefinition): Promise<ClusterCredentials> {
    switch (def.source) {
      case "kubeconfig":
        return kubeconfigCredentials(def);
      case "in-cluster":
        return inClusterCredentials(this.opts.inCluster);
      case "eks":
        return eksCredentials(def, this.opts.eks ?? {}, this.clock.now());
      case "aks":
        return aksCredentials(def, this.opts.aks ?? {});
      case "gke":
        return gkeCredentials(def, this.opts.gke ?? {});
    }
  }

  /** A cluster port for the cluster, with credentials refreshed as they expire. */
  port(name: string): ClusterPort {
    this.require(name);
    return registryClusterPort(name, this, this.opts.port);
  }

  /** GET /version on the cluster's API server, timed. */
  probe(name: string, opts: { timeoutMs?: number; timer?: () => number } = {}): Promise<ProbeResult> {
    this.require(name);
    return probeCluster(name, this, opts);
  }
}

function describe(c: ClusterDefinition): string {
  switch (c.source) {
    case "kubeconfig":
      return `context "${c.context}" of ${c.kubeconfig}`;
    case "in-cluster":
      return "the in-cluster service account";
    case "eks":
      return `EKS cluster ${c.cluster} in ${c.region}`;
    case "aks":
      return `AKS cluster ${c.cluster} in ${c.subscription}/${c.resourceGroup}`;
    case "gke":
      return `GKE cluster ${c.cluster} in ${c.project}/${c.location}`;
  }
}
