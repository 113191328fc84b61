// Builds the ports a function needs from the configuration. Cloud adapters call this once per
// container (cold start) and reuse it across invocations.
import type { Config } from "../../shared/config.js";
import { ProphetError } from "../../shared/errors.js";
import type { Deps } from "../../shared/function.js";
import { systemClock, type Clock } from "../../shared/ports/clock.js";
import type { ClusterPort } from "../../shared/ports/cluster.js";
import type { Logger } from "../../shared/ports/log.js";
import { openStore } from "../../shared/store/open.js";
import { createLogger } from "./logger.js";

/** The platform we run on, from the variables each one sets; undefined locally. */
export function cloudPlatform(env: Record<string, string | undefined>): string | undefined {
  if (env.AWS_LAMBDA_FUNCTION_NAME) return "AWS Lambda";
  if (env.FUNCTIONS_WORKER_RUNTIME) return "Azure Functions";
  if (env.K_SERVICE) return "Knative / Cloud Run";
  return undefined;
}

export interface RuntimeDeps extends Deps {
  close(): Promise<void>;
}

/**
 * The cluster to diagnose and act on: an explicit kubeconfig (KUBECONFIG, or the sandbox's that
 * the local host passes), else in-cluster credentials. Never ~/.kube/config implicitly: Prophet
 * must not reach a real cluster nobody pointed it at. client-node loads only when one is set.
 */
async function clusterPort(
  kubeconfig: string | undefined,
  env: Record<string, string | undefined>,
): Promise<ClusterPort | undefined> {
  if (!kubeconfig && !env.KUBERNETES_SERVICE_HOST) return undefined;
  const { kubeClusterPort } = await import("../../shared/kube/cluster-port.js");
  return kubeClusterPort(kubeconfig ? { kubeconfig } : {});
}

export async function createDeps(
  cfg: Config,
  overrides: { clock?: Clock; log?: Logger; kubeconfig?: string } = {},
): Promise<RuntimeDeps> {
  const log = overrides.log ?? createLogger(cfg.LOG_LEVEL);
  const platform = cloudPlatform(process.env);
  if (platform && !cfg.DATABASE_URL) {
    throw new ProphetError(
      "invalid_config",
      `DATABASE_URL is required on ${platform}: functions are stateless and keep their state in PostgreSQL (PGlite is the local default only)`,
      [{ path: "DATABASE_URL", message: "required in a cloud deployment" }],
    );
  }
  const store = await openStore({
    ...(cfg.DATABASE_URL ? { databaseUrl: cfg.DATABASE_URL } : {}),
    dataDir: cfg.PROPHET_DATA_DIR,
  });
  const kube = await clusterPort(overrides.kubeconfig ?? cfg.KUBECONFIG, process.env);
  return {
    store,
    ...(kube ? { kube } : {}),
    clock: overrides.clock ?? systemClock,
    log,
    cluster: cfg.PROPHET_CLUSTER,
    close: () => store.close(),
  };
}

/** Lazily creates deps once and shares the promise (concurrent cold invocations wait together). */
export function lazyDeps(make: () => Promise<RuntimeDeps>): () => Promise<RuntimeDeps> {
  let pending: Promise<RuntimeDeps> | undefined;
  return () => {
    pending ??= make().catch((err) => {
      pending = undefined; // a failed start (database down) is retried on the next invocation
      throw err;
    });
    return pending;
  };
}
