// What happens to one event in one function, whatever the runtime: type check, schema check,
// idempotency claim, handler, output validation, durable completion, delivery to the sink.
import { validateEvent } from "../events/catalog.js";
import type { ProphetEvent } from "../events/envelope.js";
import { ProphetError, asProphetError } from "../errors.js";
import type { Deps, ProphetFunction } from "../function.js";
import type { EventSink } from "../ports/sink.js";
import {
  claimEvent,
  completeEvent,
  markDelivered,
  releaseEvent,
  type EventKey,
} from "../store/idempotency.js";

export interface InvocationObserver {
  received?(fn: string, type: string): void;
  rejected?(fn: string, type: string, code: string): void;
  emitted?(fn: string, type: string): void;
  failed?(fn: string, type: string, code: string): void;
  duplicate?(fn: string, type: string): void;
  duration?(fn: string, type: string, seconds: number): void;
}

export interface InvocationContext {
  deps: Deps;
  sink: EventSink;
  observer?: InvocationObserver;
  /** How long a claim protects an event from a concurrent attempt; past it, the attempt is presumed dead. */
  leaseMs?: number;
}

export type InvocationOutcome =
  | { status: "handled"; emitted: ProphetEvent[] }
  | { status: "redelivered"; emitted: ProphetEvent[] }
  | { status: "duplicate"; emitted: [] };

export async function invokeFunction(
  fn: ProphetFunction,
  incoming: ProphetEvent,
  ctx: InvocationContext,
): Promise<InvocationOutcome> {
  const { observer } = ctx;
  let deps = ctx.deps;
  observer?.received?.(fn.name, incoming.type);
  let event: ProphetEvent;
  try {
    if (!fn.accepts.includes(incoming.type)) {
      throw new ProphetError(
        "unsupported_type",
        `function ${fn.name} does not accept ${incoming.type} (accepts: ${fn.accepts.join(", ")})`,
        [{ path: "type", message: "not accepted by this function" }],
      );
    }
    event = validateEvent(incoming);
    deps = scopeToCluster(ctx.deps, event);
  } catch (err) {
    const e = asProphetError(err);
    observer?.rejected?.(fn.name, incoming.type, e.code);
    throw e;
  }

  const key: EventKey = { functionName: fn.name, source: event.source, id: event.id };
  const claim = await claimEvent(deps.store, key, event.type, deps.clock.now(), ctx.leaseMs ?? 5 * 60_000);
  if (claim.kind === "duplicate") {
    observer?.duplicate?.(fn.name, event.type);
    deps.log.debug({ fn: fn.name, id: event.id, type: event.type }, "duplicate event ignored");
    return { status: "duplicate", emitted: [] };
  }
  if (claim.kind === "in_progress") {
    throw new ProphetError(
      "in_progress",
      `event ${event.id} is being processed by another attempt until ${claim.leaseUntil.toISOString()}`,
    );
  }
  if (claim.kind === "undelivered") {
    await deliver(fn, key, claim.outputs, ctx);
    return { status: "redelivered", emitted: claim.outputs };
  }

  const started = performance.now();
  let outputs: ProphetEvent[];
  try {
    const produced = await fn.handle(event, deps);
    outputs = produced.map((o) => validateEvent(o));
    for (const o of outputs) {
      if (!fn.emits.includes(o.type)) {
        throw new ProphetError("handler_failed", `function ${fn.name} emitted undeclared type ${o.type}`);
      }
    }
  } catch (err) {
    // Give the event back: a redelivery must run it again, never find it "done".
    await releaseEvent(deps.store, key).catch(() => undefined);
    const e =
      err instanceof ProphetError && err.code !== "invalid_data"
        ? err
        : new ProphetError(
            "handler_failed",
            `${fn.name} failed on ${event.type} ${event.id}: ${(err as Error).message}`,
            [],
            { cause: err },
          );
    observer?.failed?.(fn.name, event.type, e.code);
    deps.log.error(
      { fn: fn.name, id: event.id, type: event.type, err: (err as Error).message },
      "handler failed",
    );
    throw e;
  } finally {
    observer?.duration?.(fn.name, event.type, (performance.now() - started) / 1000);
  }
  await completeEvent(deps.store, key, outputs, deps.clock.now());
  await deliver(fn, key, outputs, ctx);
  return { status: "handled", emitted: outputs };
}

/**
 * The deps for an event: those of the cluster it names when the deployment serves several (so
 * every read and action lands on that cluster and every row names it), refused when it names a
 * cluster nobody registered — acting on the default cluster instead would act on the wrong one.
 */
export function scopeToCluster(deps: Deps, event: ProphetEvent): Deps {
  const name = event.cluster;
  const dir = deps.clusters;
  if (!dir || name === undefined || name === deps.cluster) return deps;
  const ports = dir.ports(name);
  if (!ports)
    throw new ProphetError(
      "not_found",
      `event ${event.id} names cluster "${name}", which this deployment does not serve (clusters: ${[deps.cluster, ...dir.names()].join(", ")})`,
      [{ path: "cluster", message: "not a registered cluster" }],
    );
  const { kube: home, metrics: _metrics, ...rest } = deps;
  return {
    ...rest,
    ...(home ? { home } : {}),
    cluster: name,
    ...(ports.kube ? { kube: ports.kube } : {}),
    ...(ports.metrics ? { metrics: ports.metrics } : {}),
  };
}

async function deliver(fn: ProphetFunction, key: EventKey, outputs: ProphetEvent[], ctx: InvocationContext) {
  if (outputs.length === 0) return;
  try {
    await ctx.sink.send(outputs);
  } catch (err) {
    ctx.observer?.failed?.(fn.name, "(delivery)", "delivery_failed");
    throw new ProphetError(
      "delivery_failed",
      `${fn.name}: emitted events could not be delivered to ${ctx.sink.name}: ${(err as Error).message}`,
      [],
      { cause: err },
    );
  }
  await markDelivered(ctx.deps.store, key);
  for (const o of outputs) ctx.observer?.emitted?.(fn.name, o.type);
}
