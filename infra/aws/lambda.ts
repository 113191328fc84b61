// AWS Lambda through middy: API Gateway HTTP API (v2) for the Alertmanager webhook and
// CloudEvents over HTTP, EventBridge (Prophet events put by the EventBridge sink; schedules),
// and SQS with partial batch failure responses.
import middy from "@middy/core";
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
  EventBridgeEvent,
  SQSBatchResponse,
  SQSEvent,
} from "aws-lambda";
import { normalizeInboundEvent } from "../../shared/events/edge/http.js";
import { parseEnvelope, type ProphetEvent } from "../../shared/events/envelope.js";
import { ProphetError } from "../../shared/errors.js";
import type { ProphetFunction } from "../../shared/function.js";
import type { InvocationContext } from "../../shared/invocation/invoke.js";
import { scheduleTick } from "../local/cron.js";
import { dispatchEvents, handleHttpRequest, singleFunctionRoute, type EventResult } from "../runtime/http.js";
import { functionRuntime, type AdapterOptions } from "../runtime/single.js";

type LambdaInput =
  APIGatewayProxyEventV2 | EventBridgeEvent<string, unknown> | SQSEvent | { schedule: string };
type LambdaOutput = APIGatewayProxyStructuredResultV2 | SQSBatchResponse | { results: EventResult[] };

interface ProphetLambdaContext extends Context {
  prophet: InvocationContext;
}

function isApiGatewayV2(e: object): e is APIGatewayProxyEventV2 {
  return "requestContext" in e && "rawPath" in e;
}
function isSqs(e: object): e is SQSEvent {
  const records = (e as { Records?: Array<{ eventSource?: string }> }).Records;
  return Array.isArray(records) && records[0]?.eventSource === "aws:sqs";
}
function isEventBridge(e: object): e is EventBridgeEvent<string, unknown> {
  return "detail-type" in e && "detail" in e && "source" in e;
}

/** EventBridge envelope → Prophet event: a schedule or a CloudEvent put by the sink. */
export function eventFromEventBridge(e: EventBridgeEvent<string, unknown>, now: Date): ProphetEvent {
  if (e.source === "aws.events" || e.source === "aws.scheduler") {
    const detail = (e.detail ?? {}) as { schedule?: string };
    const rule = e.resources?.[0]?.split("/").pop();
    const name = detail.schedule ?? rule;
    if (!name) throw new ProphetError("invalid_event", "scheduled event names no schedule");
    return scheduleTick(name, new Date(e.time || now));
  }
  return parseEnvelope(e.detail, "EventBridge detail");
}

function eventFromSqsBody(body: string, now: Date): ProphetEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new ProphetError("bad_request", "SQS message body is not valid JSON");
  }
  if (typeof parsed === "object" && parsed !== null && isEventBridge(parsed))
    return eventFromEventBridge(parsed, now);
  return parseEnvelope(parsed, "SQS message body");
}

export function toLambdaHandler(fn: ProphetFunction, opts: AdapterOptions = {}) {
  const runtime = functionRuntime(fn, opts);
  const route = singleFunctionRoute(fn);

  const base = async (event: LambdaInput, context: Context): Promise<LambdaOutput> => {
    const ctx = (context as ProphetLambdaContext).prophet;
    const now = ctx.deps.clock.now();
    const edge = { now, cluster: ctx.deps.cluster };
    if (isApiGatewayV2(event)) {
      const body = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, "base64") : event.body) : "";
      const reply = await handleHttpRequest(
        { method: event.requestContext.http.method, path: event.rawPath, headers: event.headers, body },
        route,
        ctx,
      );
      return { statusCode: reply.status, headers: reply.headers, body: reply.body };
    }
    if (isSqs(event)) {
      const batchItemFailures: SQSBatchResponse["batchItemFailures"] = [];
      for (const record of event.Records) {
        try {
          const e = normalizeInboundEvent(eventFromSqsBody(record.body, now), edge);
          await dispatchEvents([e], route, ctx);
        } catch (err) {
          // Invalid records fail too: after maxReceiveCount the queue's redrive policy moves them
          // to the dead-letter queue, where they are kept for a person rather than dropped.
          ctx.deps.log.warn(
            { messageId: record.messageId, err: (err as Error).message },
            "SQS record failed",
          );
          batchItemFailures.push({ itemIdentifier: record.messageId });
        }
      }
      return { batchItemFailures };
    }
    let inbound: ProphetEvent;
    if (isEventBridge(event)) inbound = eventFromEventBridge(event, now);
    else if ("schedule" in event && typeof event.schedule === "string")
      inbound = scheduleTick(event.schedule, now);
    else
      throw new ProphetError(
        "invalid_event",
        "unrecognised Lambda event: expected API Gateway v2, EventBridge, SQS or a schedule",
      );
    const results = await dispatchEvents([normalizeInboundEvent(inbound, edge)], route, ctx);
    return { results };
  };

  return middy<LambdaInput, LambdaOutput, Error, Context>(base).before(async (request) => {
    // Ports are created once per container and reused by every invocation it serves.
    (request.context as ProphetLambdaContext).prophet = await runtime.context();
  });
}
