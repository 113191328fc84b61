// Builds the ports a function needs from the configuration. Cloud adapters call this once per
// container (cold start) and reuse it across invocations.
import type { Config } from "../../shared/config.js";
import type { Deps } from "../../shared/function.js";
import { systemClock, type Clock } from "../../shared/ports/clock.js";
import type { Logger } from "../../shared/ports/log.js";
import { openStore } from "../../shared/store/open.js";
import { createLogger } from "./logger.js";

export interface RuntimeDeps extends Deps {
  close(): Promise<void>;
}

export async function createDeps(
  cfg: Config,
  overrides: { clock?: Clock; log?: Logger } = {},
): Promise<RuntimeDeps> {
  const log = overrides.log ?? createLogger(cfg.LOG_LEVEL);
  const store = await openStore({
    ...(cfg.DATABASE_URL ? { databaseUrl: cfg.DATABASE_URL } : {}),
    dataDir: cfg.PROPHET_DATA_DIR,
  });
  return {
    store,
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
