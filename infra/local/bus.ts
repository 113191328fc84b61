// The in-process broker of the local host. `send` returns once every subscriber has handled the
// events (each through the full invocation pipeline, so idempotency and retries apply); if one
// still fails after the retries, `send` throws and the producer's outputs stay stored as
// undelivered, to be sent again by `redeliverPending` — nothing accepted is lost in a crash.
import { ScheduleTick } from "../../shared/events/catalog.js";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import type { ScheduleTickData } from "../../shared/events/schemas/schedule.js";
import type { ProphetFunction } from "../../shared/function.js";
import { invokeFunction, type InvocationContext } from "../../shared/invocation/invoke.js";
import type { EventSink } from "../../shared/ports/sink.js";
import { markDelivered, undeliveredOutputs } from "../../shared/store/idempotency.js";

export class LocalBus implements EventSink {
  readonly name = "local-bus";
  private ctx: InvocationContext | undefined;
  constructor(
    private readonly functions: readonly ProphetFunction[],
    private readonly attempts = 3,
  ) {}

  /** The bus is its own functions' sink, so it gets the context after construction. */
  attach(ctx: Omit<InvocationContext, "sink">): void {
    this.ctx = { ...ctx, sink: this };
  }

  /** Who receives an event: every function accepting its type; timer ticks only reach their owner. */
  route = (event: ProphetEvent): ProphetFunction[] => {
    const takers = this.functions.filter((f) => f.accepts.includes(event.type));
    if (event.type !== ScheduleTick.type) return takers;
    const schedule = (event.data as ScheduleTickData | undefined)?.schedule;
    return takers.filter((f) => f.schedules?.some((s) => s.name === schedule));
  };

  async send(events: ProphetEvent[]): Promise<void> {
    const ctx = this.ctx;
    if (!ctx) throw new Error("local bus used before attach()");
    const failures: string[] = [];
    for (const event of events) {
      for (const fn of this.route(event)) {
        let lastError: unknown;
        for (let attempt = 1; attempt <= this.attempts; attempt++) {
          try {
            await invokeFunction(fn, event, ctx);
            lastError = undefined;
            break;
          } catch (err) {
            lastError = err;
          }
        }
        if (lastError)
          failures.push(`${fn.name} on ${event.type} ${event.id}: ${(lastError as Error).message}`);
      }
    }
    if (failures.length) throw new Error(failures.join("; "));
  }

  /** Sends outputs that were stored but not delivered (after a crash or a failed subscriber). */
  async redeliverPending(): Promise<number> {
    const ctx = this.ctx;
    if (!ctx) return 0;
    let sent = 0;
    for (const { key, outputs } of await undeliveredOutputs(ctx.deps.store)) {
      try {
        await this.send(outputs);
        await markDelivered(ctx.deps.store, key);
        sent += outputs.length;
      } catch (err) {
        ctx.deps.log.warn({ key, err: (err as Error).message }, "redelivery failed; will retry");
      }
    }
    return sent;
  }
}
