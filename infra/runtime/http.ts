// One HTTP request → events → the functions that take them → one reply. Used by every runtime
// adapter and the local host, so all of them answer the same statuses and bodies.
import { eventsFromHttp, type InboundHttpRequest } from "../../shared/events/edge/http.js";
import { pubsubMessagePublishedType } from "../../shared/events/edge/pubsub.js";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import { orderingKey } from "../../shared/invocation/ordering.js";
import { ProphetError, asProphetError } from "../../shared/errors.js";
import type { ProphetFunction } from "../../shared/function.js";
import {
  invokeFunction,
  type InvocationContext,
  type InvocationObserver,
} from "../../shared/invocation/invoke.js";

export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface EventResult {
  id: string;
  type: string;
  subject?: string;
  function: string;
  status: "handled" | "redelivered" | "duplicate";
  emitted: number;
}

export function jsonReply(status: number, body: unknown): HttpReply {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

export function errorReply(err: unknown): HttpReply {
  const e = asProphetError(err);
  return jsonReply(e.status, e.toJSON());
}

/** At most this many ordering lanes of one request run at once (each holds a store connection). */
const MAX_LANES = 8;

/**
 * Runs every event through every function `route` names; throws the most serious error.
 * Events run in order within their ordering lane (shared/invocation/ordering.ts: an Alertmanager
 * webhook's alerts about one workload, one SLO, one node), and lanes run side by side, so the
 * first alert of a new incident does not wait for every alert ahead of it in the webhook; events
 * without a lane (everything but alerts) run one after another, as they arrive.
 */
export async function dispatchEvents(
  events: ProphetEvent[],
  route: (e: ProphetEvent) => ProphetFunction[],
  ctx: InvocationContext,
): Promise<EventResult[]> {
  const perEvent: EventResult[][] = events.map(() => []);
  const errors: ProphetError[] = [];
  const lanes = new Map<string, number[]>();
  events.forEach((event, i) => {
    const lane = orderingKey(event, ctx.deps.cluster) ?? "";
    const list = lanes.get(lane);
    if (list) list.push(i);
    else lanes.set(lane, [i]);
  });
  const runLane = async (indices: number[]) => {
    for (const i of indices) {
      const event = events[i]!;
      for (const fn of route(event)) {
        try {
          const out = await invokeFunction(fn, event, ctx);
          perEvent[i]!.push({
            id: event.id,
            type: event.type,
            ...(event.subject ? { subject: event.subject } : {}),
            function: fn.name,
            status: out.status,
            emitted: out.emitted.length,
          });
        } catch (err) {
          errors.push(asProphetError(err));
        }
      }
    }
  };
  const queue = [...lanes.values()];
  await Promise.all(
    Array.from({ length: Math.min(MAX_LANES, queue.length) }, async () => {
      for (let lane = queue.shift(); lane; lane = queue.shift()) await runLane(lane);
    }),
  );
  if (errors.length) {
    // A retryable failure wins, so the sender redelivers; the events that did succeed are
    // recorded and will be recognised as duplicates.
    throw errors.find((e) => e.retryable) ?? errors[0];
  }
  return perEvent.flat();
}

export async function handleHttpRequest(
  req: InboundHttpRequest,
  route: (e: ProphetEvent) => ProphetFunction[],
  ctx: InvocationContext & { observer?: InvocationObserver },
): Promise<HttpReply> {
  try {
    const events = eventsFromHttp(req, { now: ctx.deps.clock.now(), cluster: ctx.deps.cluster });
    const ignored: Array<{ id: string; type: string }> = [];
    const routed = isTopicDelivery(req) ? ignoringOtherTypes(route, ignored) : route;
    const results = await dispatchEvents(events, routed, ctx);
    return jsonReply(200, { accepted: events.length, results, ...(ignored.length ? { ignored } : {}) });
  } catch (err) {
    const e = asProphetError(err);
    if (e.status < 500 && e.code !== "in_progress") ctx.observer?.rejected?.("(edge)", "(request)", e.code);
    return errorReply(e);
  }
}

/** Eventarc posts Pub/Sub messages as a binary-mode `messagePublished` CloudEvent. */
function isTopicDelivery(req: InboundHttpRequest): boolean {
  return Object.entries(req.headers).some(
    ([k, v]) => k.toLowerCase() === "ce-type" && v === pubsubMessagePublishedType,
  );
}

/**
 * Eventarc's Pub/Sub triggers cannot filter on Prophet's type (ADR 0012), so every function on the
 * topic receives every event on it. One it does not take is acknowledged as ignored: a 4xx is a
 * nack, and Pub/Sub would push it again and again until the message expires.
 */
function ignoringOtherTypes(
  route: (e: ProphetEvent) => ProphetFunction[],
  ignored: Array<{ id: string; type: string }>,
): (e: ProphetEvent) => ProphetFunction[] {
  return (e) => {
    try {
      return route(e);
    } catch (err) {
      if (!(err instanceof ProphetError) || err.code !== "unsupported_type") throw err;
      ignored.push({ id: e.id, type: e.type });
      return [];
    }
  };
}

/** The route of a function deployed alone: it takes what it accepts and rejects the rest. */
export function singleFunctionRoute(fn: ProphetFunction): (e: ProphetEvent) => ProphetFunction[] {
  return (e) => {
    if (!fn.accepts.includes(e.type)) {
      throw new ProphetError("unsupported_type", `function ${fn.name} does not accept ${e.type}`, [
        { path: "type", message: `accepted: ${fn.accepts.join(", ")}` },
      ]);
    }
    return [fn];
  };
}
