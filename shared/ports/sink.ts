import type { ProphetEvent } from "../events/envelope.js";

/**
 * Where emitted events go: the in-process bus locally, K_SINK on Knative, EventBridge on AWS,
 * Pub/Sub on Google Cloud, Event Grid on Azure. `send` resolves only once the platform accepted
 * every event; it throws otherwise, and the caller keeps the events for redelivery.
 */
export interface EventSink {
  readonly name: string;
  send(events: ProphetEvent[]): Promise<void>;
}

/** Collects events in memory: `prophet invoke` prints them, tests read them. */
export class CollectingSink implements EventSink {
  readonly name = "collect";
  readonly events: ProphetEvent[] = [];
  async send(events: ProphetEvent[]): Promise<void> {
    this.events.push(...events);
  }
}
