// The HTTP edge every runtime shares: a request (any platform's, normalised to this shape) becomes
// validated catalog events, or a ProphetError naming what is wrong.
import { HTTP } from "cloudevents";
import { ProphetError } from "../../errors.js";
import { validateEvent } from "../catalog.js";
import { parseEnvelope, type ProphetEvent } from "../envelope.js";
import { fanOutAlertmanagerWebhook, looksLikeAlertmanagerWebhook } from "./alertmanager.js";
import { translateKnativeEvent } from "./knative.js";
import { pubsubMessagePublishedType, unwrapPubsubMessage } from "./pubsub.js";

export interface InboundHttpRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Raw bytes are decoded here (strict UTF-8, size-limited), so every runtime rejects alike. */
  body: string | Uint8Array;
}

/** Largest request body any edge accepts (Alertmanager batches of thousands of alerts fit). */
export const maxBodyBytes = 5 * 1024 * 1024;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Bytes → text, refusing what is not UTF-8 instead of silently substituting U+FFFD. */
export function decodeBody(bytes: Uint8Array): string {
  if (bytes.byteLength > maxBodyBytes) {
    throw new ProphetError(
      "payload_too_large",
      `request body of ${bytes.byteLength} bytes is larger than ${maxBodyBytes}`,
    );
  }
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new ProphetError("bad_request", "the request body is not valid UTF-8", [
      { path: "(body)", message: "not valid UTF-8" },
    ]);
  }
}

export interface EdgeOptions {
  cluster?: string;
  now: Date;
}

function lowerHeaders(h: InboundHttpRequest["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

function parseJson(body: string, what: string): unknown {
  if (!body.trim()) throw new ProphetError("bad_request", `${what}: the request body is empty`);
  try {
    return JSON.parse(body);
  } catch (err) {
    throw new ProphetError("bad_request", `${what}: the body is not valid JSON (${(err as Error).message})`, [
      { path: "(body)", message: "not valid JSON" },
    ]);
  }
}

/**
 * Validates one inbound event against the catalog and translates foreign types (Knative ping and
 * ApiServerSource, Pub/Sub envelopes) into Prophet's own.
 */
export function normalizeInboundEvent(raw: ProphetEvent, opts: EdgeOptions): ProphetEvent {
  let event = raw;
  if (event.type === pubsubMessagePublishedType) event = unwrapPubsubMessage(event.data);
  const foreign = validateEvent(event);
  const translated = translateKnativeEvent(foreign);
  const checked = translated === foreign ? foreign : validateEvent(translated);
  if (checked.cluster === undefined && opts.cluster) return { ...checked, cluster: opts.cluster };
  return checked;
}

export function eventsFromHttp(req: InboundHttpRequest, opts: EdgeOptions): ProphetEvent[] {
  if (req.method.toUpperCase() !== "POST") {
    throw new ProphetError("bad_request", `${req.method} is not accepted here; POST an event`);
  }
  const headers = lowerHeaders(req.headers);
  const text = typeof req.body === "string" ? req.body : decodeBody(req.body);
  const isAlertmanagerPath = /\/alertmanager\/?$/.test(req.path);
  const contentType = headers["content-type"] ?? "";
  const isCloudEvent = "ce-specversion" in headers || contentType.startsWith("application/cloudevents");

  if (isAlertmanagerPath || !isCloudEvent) {
    const body = parseJson(text, isAlertmanagerPath ? "Alertmanager webhook" : "request");
    if (isAlertmanagerPath || looksLikeAlertmanagerWebhook(body)) {
      return fanOutAlertmanagerWebhook(body, {
        receivedAt: opts.now,
        ...(opts.cluster ? { cluster: opts.cluster } : {}),
      }).map((e) => normalizeInboundEvent(e, opts));
    }
    throw new ProphetError(
      "invalid_event",
      "not a CloudEvent: send binary mode (ce-* headers) or structured mode (Content-Type: application/cloudevents+json), or POST Alertmanager webhooks to /alertmanager",
    );
  }

  if (contentType.startsWith("application/cloudevents")) parseJson(text, "CloudEvent");
  let decoded: unknown;
  try {
    decoded = HTTP.toEvent({ headers, body: text });
  } catch (err) {
    throw new ProphetError("invalid_event", `not a valid CloudEvent: ${(err as Error).message}`);
  }
  const list = Array.isArray(decoded) ? decoded : [decoded];
  if (list.length === 0) throw new ProphetError("invalid_event", "the CloudEvents batch is empty");
  return list.map((ce, i) => {
    const where = list.length > 1 ? `event[${i}]` : "event";
    const plain = JSON.parse(JSON.stringify(ce)) as unknown;
    return normalizeInboundEvent(parseEnvelope(plain, where), opts);
  });
}
