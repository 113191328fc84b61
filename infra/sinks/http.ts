// Knative: POST each event to K_SINK (the Broker) in binary mode, as the cloudevents SDK encodes it.
import { CloudEvent, HTTP } from "cloudevents";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import type { EventSink } from "../../shared/ports/sink.js";

export function toSdkEvent(e: ProphetEvent): CloudEvent<unknown> {
  return new CloudEvent<unknown>({ ...e }, false);
}

export class HttpSink implements EventSink {
  readonly name: string;
  constructor(
    private readonly url: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.name = `http(${new URL(url).host})`;
  }
  async send(events: ProphetEvent[]): Promise<void> {
    for (const e of events) {
      const msg = HTTP.binary(toSdkEvent(e));
      const res = await fetch(this.url, {
        method: "POST",
        headers: msg.headers as Record<string, string>,
        body: msg.body as string,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (res.status >= 300) {
        throw new Error(
          `sink answered ${res.status} for ${e.type} ${e.id}: ${(await res.text()).slice(0, 200)}`,
        );
      }
    }
  }
}
