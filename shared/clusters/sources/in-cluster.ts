// The cluster Prophet runs in, through its pod's service account. The kubelet rotates the
// projected token file, so it is re-read whenever the cache's max age has passed.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ProphetError } from "../../errors.js";
import type { ClusterCredentials } from "../credentials.js";

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export interface InClusterOptions {
  env?: Record<string, string | undefined>;
  /** Where the token, ca.crt and namespace are mounted (tests point it at a temporary directory). */
  serviceAccountDir?: string;
}

/** The in-cluster API server URL, or undefined outside a pod. */
export function inClusterServer(opts: InClusterOptions = {}): string | undefined {
  const env = opts.env ?? process.env;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  if (!host) return undefined;
  return `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

export function inClusterCredentials(opts: InClusterOptions = {}): ClusterCredentials {
  const server = inClusterServer(opts);
  if (!server)
    throw new ProphetError(
      "invalid_config",
      "not running in a cluster: KUBERNETES_SERVICE_HOST is unset (no in-cluster service account)",
    );
  const dir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const read = (file: string) => {
    try {
      return readFileSync(join(dir, file), "utf8");
    } catch (err) {
      throw new ProphetError(
        "invalid_config",
        `in-cluster service account: cannot read ${join(dir, file)}: ${(err as Error).message}`,
      );
    }
  };
  const token = read("token").trim();
  if (!token)
    throw new ProphetError("invalid_config", `in-cluster service account: ${join(dir, "token")} is empty`);
  const ca = read("ca.crt");
  let namespace: string | undefined;
  try {
    namespace = readFileSync(join(dir, "namespace"), "utf8").trim() || undefined;
  } catch {
    // the namespace file is optional (older or custom mounts)
  }
  return {
    cluster: { server, caData: Buffer.from(ca).toString("base64"), skipTLSVerify: false },
    user: { token },
    ...(namespace ? { namespace } : {}),
  };
}
