// Google Cloud: publish to a Pub/Sub topic with the CloudEvents Pub/Sub binding (binary mode:
// attributes ce-*, data = JSON). Eventarc delivers it back as messagePublished, which the HTTP
// edge unwraps. Uses the Pub/Sub REST API (the emulator speaks it too), so no gRPC stack loads.
import type { ProphetEvent } from "../../shared/events/envelope.js";
import type { EventSink } from "../../shared/ports/sink.js";

export interface PubSubSinkOptions {
  project: string;
  topic: string;
  /** e.g. http://127.0.0.1:8085 for the emulator (PUBSUB_EMULATOR_HOST). */
  endpoint?: string;
  /** Returns an OAuth access token; not needed for the emulator. */
  accessToken?: () => Promise<string>;
}

export function pubsubAttributes(e: ProphetEvent): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(e)) {
    if (k === "data" || v === undefined) continue;
    attrs[`ce-${k}`] = String(v);
  }
  return attrs;
}

export class PubSubSink implements EventSink {
  readonly name = "pubsub";
  constructor(private readonly opts: PubSubSinkOptions) {}
  async send(events: ProphetEvent[]): Promise<void> {
    const base = this.opts.endpoint ?? "https://pubsub.googleapis.com";
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (this.opts.accessToken) headers.authorization = `Bearer ${await this.opts.accessToken()}`;
    const res = await fetch(`${base}/v1/projects/${this.opts.project}/topics/${this.opts.topic}:publish`, {
      method: "POST",
      headers,
      body: JSON.stringify({
        messages: events.map((e) => ({
          data: Buffer.from(JSON.stringify(e.data ?? null)).toString("base64"),
          attributes: pubsubAttributes(e),
        })),
      }),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status >= 300)
      throw new Error(`Pub/Sub answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  }
}
