// Azure Functions (Node.js v4 programming model): an HTTP trigger (Alertmanager and CloudEvents),
// a timer trigger per schedule, and an Event Grid trigger (CloudEvents v1.0 schema, or the Event
// Grid schema whose data carries a Prophet event).
import type {
  EventGridEvent,
  HttpRequest,
  HttpResponseInit,
  InvocationContext as AzureContext,
  Timer,
  app as azureApp,
} from "@azure/functions";
import { normalizeInboundEvent } from "../../shared/events/edge/http.js";
import { parseEnvelope, type ProphetEvent } from "../../shared/events/envelope.js";
import type { ProphetFunction } from "../../shared/function.js";
import { scheduleTick, ticksForClusters } from "../local/cron.js";
import { dispatchEvents, handleHttpRequest, singleFunctionRoute } from "../runtime/http.js";
import { functionRuntime, type AdapterOptions } from "../runtime/single.js";

export type AzureApp = Pick<typeof azureApp, "http" | "timer" | "eventGrid">;

/** Azure timers take six-field NCRONTAB (with seconds); Prophet schedules are five-field cron. */
export function toNcrontab(cron: string): string {
  return `0 ${cron}`;
}

/** Event Grid delivers either a CloudEvent (CloudEvents schema) or its own schema. */
export function eventFromEventGrid(e: EventGridEvent | Record<string, unknown>): ProphetEvent {
  if ("specversion" in e) return parseEnvelope(e, "Event Grid CloudEvent");
  const data = (e as EventGridEvent).data;
  return parseEnvelope(data, "Event Grid event data");
}

export function registerAzureFunction(app: AzureApp, fn: ProphetFunction, opts: AdapterOptions = {}): void {
  const runtime = functionRuntime(fn, opts);
  const route = singleFunctionRoute(fn);

  app.http(fn.name, {
    methods: ["POST"],
    authLevel: "function",
    route: `${fn.name}/{*path}`,
    handler: async (request: HttpRequest, _context: AzureContext): Promise<HttpResponseInit> => {
      const ctx = await runtime.context();
      const reply = await handleHttpRequest(
        {
          method: request.method,
          path: new URL(request.url).pathname,
          headers: Object.fromEntries(request.headers.entries()),
          body: await request.text(),
        },
        route,
        ctx,
      );
      return { status: reply.status, headers: reply.headers, body: reply.body };
    },
  });

  for (const s of fn.schedules ?? []) {
    app.timer(`${fn.name}-${s.name}`, {
      schedule: toNcrontab(s.cron),
      handler: async (_timer: Timer, _context: AzureContext): Promise<void> => {
        const ctx = await runtime.context();
        // A v4 timer carries no data: the tick fans out here, one per cluster the deployment
        // serves (PROPHET_CLUSTERS_FILE), as the local host's cron does.
        const ticks = ticksForClusters(scheduleTick(s.name, ctx.deps.clock.now()), ctx.deps).map((t) =>
          normalizeInboundEvent(t, { now: ctx.deps.clock.now(), cluster: ctx.deps.cluster }),
        );
        await dispatchEvents(ticks, route, ctx);
      },
    });
  }

  app.eventGrid(`${fn.name}-events`, {
    handler: async (event: EventGridEvent, _context: AzureContext): Promise<void> => {
      const ctx = await runtime.context();
      const inbound = normalizeInboundEvent(eventFromEventGrid(event), {
        now: ctx.deps.clock.now(),
        cluster: ctx.deps.cluster,
      });
      // Throwing makes Event Grid retry, then dead-letter: nothing is dropped.
      await dispatchEvents([inbound], route, ctx);
    },
  });
}
