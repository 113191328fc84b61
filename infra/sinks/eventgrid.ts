// Azure: POST a CloudEvents batch to an Event Grid topic endpoint (CloudEvents v1.0 schema).
import type { ProphetEvent } from "../../shared/events/envelope.js";
import type { EventSink } from "../../shared/ports/sink.js";

export class EventGridSink implements EventSink {
  readonly name = "eventgrid";
  constructor(
    private readonly endpoint: string,
    private readonly key: string,
  ) {}
  async send(events: ProphetEvent[]): Promise<void> {
    const res = await fetch(this.endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/cloudevents-batch+json; charset=utf-8",
        "aeg-sas-key": this.key,
      },
      body: JSON.stringify(events),
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status >= 300)
      throw new Error(`Event Grid answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  }
}
