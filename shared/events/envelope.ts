// The CloudEvents 1.0 envelope as plain data. Edges convert to and from the `cloudevents` SDK's
// HTTP bindings; everything inside works on this shape.
import { createHash } from "node:crypto";
import { z } from "zod";
import { ProphetError, describeIssues, issuesFromZod } from "../errors.js";

export interface ProphetEvent<T = unknown> {
  specversion: "1.0";
  id: string;
  source: string;
  type: string;
  subject?: string;
  time: string;
  datacontenttype: "application/json";
  dataschema?: string;
  /** Extension attribute: the cluster the event is about (see docs/decisions/0003-event-ids.md). */
  cluster?: string;
  data: T;
}

const extensionName = /^[a-z0-9]{1,20}$/;

export const envelopeSchema = z
  .object({
    specversion: z.literal("1.0", { error: 'must be "1.0"' }),
    id: z.string().min(1, "must be a non-empty string"),
    source: z.string().min(1, "must be a non-empty URI-reference"),
    type: z.string().min(1, "must be a non-empty string"),
    subject: z.string().optional(),
    time: z.iso.datetime({ offset: true, error: "must be an RFC 3339 timestamp" }).optional(),
    datacontenttype: z.string().optional(),
    dataschema: z.string().optional(),
    cluster: z.string().min(1).optional(),
    data: z.unknown().optional(),
  })
  .passthrough();

/** Parses any object claiming to be a structured-mode CloudEvent into the envelope. */
export function parseEnvelope(raw: unknown, where = "event"): ProphetEvent {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ProphetError("invalid_event", `${where} must be a JSON object with CloudEvents attributes`);
  }
  const res = envelopeSchema.safeParse(raw);
  if (!res.success) {
    const issues = issuesFromZod(res.error.issues);
    throw new ProphetError(
      "invalid_event",
      `${where} is not a valid CloudEvent: ${describeIssues(issues)}`,
      issues,
    );
  }
  const e = res.data;
  for (const key of Object.keys(e)) {
    if (!extensionName.test(key)) {
      throw new ProphetError("invalid_event", `${where} has an invalid attribute name "${key}"`, [
        { path: key, message: "CloudEvents attribute names are lowercase letters and digits" },
      ]);
    }
  }
  let data = e.data;
  if (typeof data === "string" && (e.datacontenttype ?? "application/json").includes("json")) {
    try {
      data = JSON.parse(data);
    } catch {
      throw new ProphetError("invalid_event", `${where}.data is not valid JSON`, [
        { path: "data", message: "not valid JSON" },
      ]);
    }
  }
  return {
    specversion: "1.0",
    id: e.id,
    source: e.source,
    type: e.type,
    ...(e.subject !== undefined ? { subject: e.subject } : {}),
    time: e.time ?? new Date(0).toISOString(),
    datacontenttype: "application/json",
    ...(e.dataschema !== undefined ? { dataschema: e.dataschema } : {}),
    ...(e.cluster !== undefined ? { cluster: e.cluster } : {}),
    data,
  };
}

/**
 * Ids of emitted events are derived from the event that caused them, so a retried handler emits
 * the same ids again and every consumer's idempotency check drops the repeats.
 */
export function deriveEventId(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 32);
}
