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
import { z } from "zod";
import { ClusterNameSchema } from "../../shared/clusters/definition.js";
import { loadConfig } from "../../shared/config.js";
import { ProphetError, describeIssues, issuesFromZod } from "../../shared/errors.js";
import type { ProphetFunction } from "../../shared/function.js";
import type { InvocationContext } from "../../shared/invocation/invoke.js";
import { scheduleTick } from "../local/cron.js";
import { dispatchEvents, handleHttpRequest, singleFunctionRoute, type EventResult } from "../runtime/http.js";
import { functionRuntime, type AdapterOptions, type FunctionRuntime } from "../runtime/single.js";
import { secretsOnce } from "./secrets.js";

type LambdaInput = APIGatewayProxyEventV2 | EventBridgeEvent<string, unknown> | SQSEvent | ScheduledInput;
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

/** A schedule's constant input (serverless.yml `input`): the schedule, and the cluster it is for. */
const ScheduledInputSchema = z.strictObject({
  schedule: z.string().min(1),
  cluster: ClusterNameSchema.optional(),
});
type ScheduledInput = z.infer<typeof ScheduledInputSchema>;

/** `{schedule, cluster?}` → a tick for that cluster (unscoped without one). */
export function tickFromScheduledInput(input: unknown, now: Date): ProphetEvent {
  const res = ScheduledInputSchema.safeParse(input);
  if (!res.success) {
    const issues = issuesFromZod(res.error.issues);
    throw new ProphetError("invalid_event", `bad schedule input: ${describeIssues(issues)}`, issues);
  }
  return scheduleTick(res.data.schedule, now, res.data.cluster);
}

/** EventBridge envelope → Prophet event: a schedule or a CloudEvent put by the sink. */
export function eventFromEventBridge(e: EventBridgeEvent<string, unknown>, now: Date): ProphetEvent {
  if (e.source === "aws.events" || e.source === "aws.scheduler") {
    const detail = (e.detail ?? {}) as { schedule?: string; cluster?: unknown };
    const rule = e.resources?.[0]?.split("/").pop();
    const name = detail.schedule ?? rule;
    if (!name) throw new ProphetError("invalid_event", "scheduled event names no schedule");
    const at = new Date(e.time || now);
    if (detail.cluster === undefined) return scheduleTick(name, at);
    return tickFromScheduledInput({ schedule: name, cluster: detail.cluster }, at);
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
  // Secret references (infra/aws/secrets.ts) are resolved before the configuration is loaded, so
  // deps are created from the values. Tests that inject deps or a config skip it.
  const secrets = opts.deps || opts.config ? undefined : secretsOnce(process.env);
  let runtime: FunctionRuntime | undefined = secrets ? undefined : functionRuntime(fn, opts);
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
    else if ("schedule" in event) inbound = tickFromScheduledInput(event, now);
    else
      throw new ProphetError(
        "invalid_event",
        "unrecognised Lambda event: expected API Gateway v2, EventBridge, SQS or a schedule input",
      );
    const results = await dispatchEvents([normalizeInboundEvent(inbound, edge)], route, ctx);
    return { results };
  };

  return middy<LambdaInput, LambdaOutput, Error, Context>(base).before(async (request) => {
    // Ports are created once per container and reused by every invocation it serves.
    runtime ??= functionRuntime(fn, { ...opts, config: loadConfig(await secrets!()) });
    (request.context as ProphetLambdaContext).prophet = await runtime.context();
  });
}
