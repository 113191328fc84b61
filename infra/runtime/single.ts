// What every cloud adapter shares: one function, its deps created once per container, its sink.
import { loadConfig, type Config } from "../../shared/config.js";
import type { ProphetFunction } from "../../shared/function.js";
import type { InvocationContext } from "../../shared/invocation/invoke.js";
import type { EventSink } from "../../shared/ports/sink.js";
import { createDeps, lazyDeps, type RuntimeDeps } from "./deps.js";
import { platformSink } from "./sink.js";

export interface AdapterOptions {
  /** Tests inject deps and sink; deployments build them from the environment. */
  deps?: () => Promise<RuntimeDeps>;
  sink?: EventSink;
  config?: Config;
}

export interface FunctionRuntime {
  fn: ProphetFunction;
  context(): Promise<InvocationContext>;
}

export function functionRuntime(fn: ProphetFunction, opts: AdapterOptions = {}): FunctionRuntime {
  let cfg: Config | undefined = opts.config;
  const config = () => (cfg ??= loadConfig(process.env));
  const deps = opts.deps ?? lazyDeps(() => createDeps(config()));
  let sink = opts.sink;
  // Choose the sink before the store opens, so its SDK loads in parallel with the connection.
  const early = () => {
    try {
      sink ??= platformSink(config());
    } catch {
      /* reported by context() below */
    }
  };
  return {
    fn,
    async context() {
      early();
      const d = await deps();
      sink ??= platformSink(config());
      return { deps: d, sink, leaseMs: (cfg?.PROPHET_LEASE_SECONDS ?? 300) * 1000 };
    },
  };
}
