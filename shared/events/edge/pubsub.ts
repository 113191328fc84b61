// Pub/Sub → Eventarc delivers `google.cloud.pubsub.topic.v1.messagePublished`. Prophet publishes
// with the CloudEvents Pub/Sub protocol binding (attributes `ce-*`, data = JSON bytes), so the
// original event is rebuilt from the message here.
import { z } from "zod";
import { ProphetError, describeIssues, issuesFromZod } from "../../errors.js";
import { parseEnvelope, type ProphetEvent } from "../envelope.js";

export const pubsubMessagePublishedType = "google.cloud.pubsub.topic.v1.messagePublished";

const messagePublishedSchema = z.object({
  message: z.object({
    data: z.string().optional(),
    attributes: z.record(z.string(), z.string()).default({}),
    messageId: z.string().optional(),
    publishTime: z.string().optional(),
  }),
  subscription: z.string().optional(),
});

export function unwrapPubsubMessage(data: unknown): ProphetEvent {
  const res = messagePublishedSchema.safeParse(data);
  if (!res.success) {
    const issues = issuesFromZod(res.error.issues, "data");
    throw new ProphetError("invalid_event", `bad Pub/Sub message: ${describeIssues(issues)}`, issues);
  }
  const { message } = res.data;
  const text = message.data ? Buffer.from(message.data, "base64").toString("utf8") : "";
  const attrs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(message.attributes)) {
    if (k.startsWith("ce-")) attrs[k.slice(3)] = v;
  }
  if (!("specversion" in attrs)) {
    // Structured mode: the whole event is the message body.
    try {
      return parseEnvelope(JSON.parse(text), "Pub/Sub message data");
    } catch (err) {
      if (err instanceof ProphetError) throw err;
      throw new ProphetError(
        "invalid_event",
        "Pub/Sub message has no ce-* attributes and its data is not JSON",
      );
    }
  }
  let payload: unknown = undefined;
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      throw new ProphetError("invalid_event", "Pub/Sub message data is not valid JSON", [
        { path: "data.message.data", message: "not valid JSON" },
      ]);
    }
  }
  return parseEnvelope({ ...attrs, data: payload }, "Pub/Sub message");
}
