// A cluster port whose credentials come from the registry: each call takes the cached
// credentials (refreshed before they expire) and, when the API server still answers 401 — a
// token revoked or expired early — forgets them, fetches new ones and retries once.
import type { KubeEvent, KubeObject } from "../diagnosis/objects.js";
import { ProphetError } from "../errors.js";
import { clusterPortFromKubeConfig, type KubeClusterOptions } from "../kube/cluster-port.js";
import {
  ClusterWriteError,
  type ClusterPort,
  type ListOptions,
  type LogOptions,
  type ObjectRef,
  type PatchSubresource,
  type PatchType,
  type WatchOptions,
} from "../ports/cluster.js";
import { kubeConfigOf, type ClusterCredentials } from "./credentials.js";

export interface CredentialSource {
  credentials(name: string): Promise<ClusterCredentials>;
  /** Drop these credentials (if still cached) so the next call fetches new ones. */
  invalidate(name: string, creds: ClusterCredentials): void;
}

export type PortOptions = Omit<KubeClusterOptions, "kubeconfig" | "context">;

/** The cluster port reports a 401 as ClusterWriteError(401) on writes and as a ProphetError
 * whose message carries the status on reads. */
export function isUnauthorized(err: unknown): boolean {
  if (err instanceof ClusterWriteError) return err.status === 401;
  return err instanceof ProphetError && /: 401 /.test(err.message);
}

interface Current {
  creds: ClusterCredentials;
  port: ClusterPort;
}

class RegistryClusterPort implements ClusterPort {
  private current?: Current;

  constructor(
    readonly name: string,
    private readonly source: CredentialSource,
    private readonly opts: PortOptions,
  ) {}

  private async inner(): Promise<Current> {
    const creds = await this.source.credentials(this.name);
    if (this.current?.creds !== creds)
      this.current = { creds, port: clusterPortFromKubeConfig(kubeConfigOf(this.name, creds), this.opts) };
    return this.current;
  }

  private async run<T>(call: (p: ClusterPort) => Promise<T>): Promise<T> {
    const first = await this.inner();
    try {
      return await call(first.port);
    } catch (err) {
      if (!isUnauthorized(err)) throw err;
      this.source.invalidate(this.name, first.creds);
      return call((await this.inner()).port);
    }
  }

  listWithVersion(
    kind: string,
    namespace?: string,
    opts?: ListOptions,
  ): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    return this.run((p) => p.listWithVersion!(kind, namespace, opts));
  }

  /** A stream is not retried here: the informer lists and watches again on any failure. */
  async watch(kind: string, namespace: string | undefined, opts: WatchOptions): Promise<void> {
    return (await this.inner()).port.watch!(kind, namespace, opts);
  }

  list(kind: string, namespace?: string, opts?: ListOptions): Promise<KubeObject[]> {
    return this.run((p) => p.list(kind, namespace, opts));
  }
  get(kind: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    return this.run((p) => p.get(kind, namespace, name));
  }
  podLogs(namespace: string, pod: string, container: string, opts?: LogOptions): Promise<string> {
    return this.run((p) => p.podLogs(namespace, pod, container, opts));
  }
  events(o: ObjectRef): Promise<KubeEvent[]> {
    return this.run((p) => p.events(o));
  }
  patch(
    kind: string,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    opts?: { type?: PatchType; subresource?: PatchSubresource },
  ): Promise<KubeObject> {
    return this.run((p) => p.patch!(kind, namespace, name, patch, opts));
  }
  create(kind: string, namespace: string | undefined, obj: KubeObject): Promise<KubeObject> {
    return this.run((p) => p.create!(kind, namespace, obj));
  }
  delete(kind: string, namespace: string | undefined, name: string): Promise<boolean> {
    return this.run((p) => p.delete!(kind, namespace, name));
  }
  evict(namespace: string, pod: string): Promise<"evicted" | "blocked" | "gone"> {
    return this.run((p) => p.evict!(namespace, pod));
  }
}

export function registryClusterPort(
  name: string,
  source: CredentialSource,
  opts: PortOptions = {},
): ClusterPort {
  return new RegistryClusterPort(name, source, opts);
}
