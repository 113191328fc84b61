// Credentials of one cluster: the API server, how to trust it, and who we are. They live in
// memory only. Cloud tokens expire (EKS 15 min, Entra ID and Google about an hour), so each is
// cached until a safety margin before its expiry; the clock is a port so tests advance time.
import { KubeConfig, type Cluster, type User } from "@kubernetes/client-node";

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface ClusterCredentials {
  /** The kubeconfig-style cluster entry: server, CA, TLS options. */
  cluster: Omit<Cluster, "name">;
  /** The kubeconfig-style user entry: a bearer token, client certificates, or an exec plugin. */
  user: Omit<User, "name">;
  /** Namespace of the context, when it names one. */
  namespace?: string;
  /** Epoch ms after which the server will refuse these credentials; absent: no known expiry. */
  expiresAt?: number;
}

/** An in-memory kubeconfig with one context named after the cluster. */
export function kubeConfigOf(name: string, creds: ClusterCredentials): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name, ...creds.cluster, skipTLSVerify: creds.cluster.skipTLSVerify ?? false }],
    users: [{ name, ...creds.user }],
    contexts: [
      { name, cluster: name, user: name, ...(creds.namespace ? { namespace: creds.namespace } : {}) },
    ],
    currentContext: name,
  });
  return kc;
}

export interface CredentialCacheOptions {
  clock: Clock;
  /** Refresh this long before expiry (default 2 min): a request in flight must not outlive its token. */
  refreshMarginMs?: number;
  /** Credentials without an expiry are re-read after this long (default 5 min), so a rotated
   * kubeconfig or service-account token is picked up. */
  maxAgeMs?: number;
}

interface Entry {
  creds: ClusterCredentials;
  fetchedAt: number;
}

/** Per-cluster cache; concurrent callers share one fetch. */
export class CredentialCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<ClusterCredentials>>();
  private readonly margin: number;
  private readonly maxAge: number;

  constructor(private readonly opts: CredentialCacheOptions) {
    this.margin = opts.refreshMarginMs ?? 2 * 60_000;
    this.maxAge = opts.maxAgeMs ?? 5 * 60_000;
  }

  fresh(name: string): ClusterCredentials | undefined {
    const e = this.entries.get(name);
    if (!e) return undefined;
    const now = this.opts.clock.now();
    const expired =
      e.creds.expiresAt !== undefined
        ? now >= e.creds.expiresAt - this.margin
        : now >= e.fetchedAt + this.maxAge;
    return expired ? undefined : e.creds;
  }

  async get(name: string, fetch: () => Promise<ClusterCredentials>): Promise<ClusterCredentials> {
    const cached = this.fresh(name);
    if (cached) return cached;
    const pending = this.inflight.get(name);
    if (pending) return pending;
    const p = fetch()
      .then((creds) => {
        this.entries.set(name, { creds, fetchedAt: this.opts.clock.now() });
        return creds;
      })
      .finally(() => this.inflight.delete(name));
    this.inflight.set(name, p);
    return p;
  }

  /** Forget a cluster's credentials, e.g. after the API server answered 401 with them. */
  invalidate(name: string, creds?: ClusterCredentials): void {
    if (!creds || this.entries.get(name)?.creds === creds) this.entries.delete(name);
  }
}
