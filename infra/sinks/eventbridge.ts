// AWS: PutEvents onto an EventBridge bus. Source = the CloudEvent source, DetailType = its type,
// Detail = the whole structured CloudEvent, so rules filter on `detail-type` and the Lambda
// adapter recovers the event unchanged. PutEvents takes at most 10 entries and may fail some.
import type * as EventBridgeSdk from "@aws-sdk/client-eventbridge";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import type { EventSink } from "../../shared/ports/sink.js";

export interface EventBridgeSinkOptions {
  busName: string;
  region?: string;
  /** Tests point this at a loopback server that answers with recorded AWS responses. */
  endpoint?: string;
}

export class EventBridgeSink implements EventSink {
  readonly name = "eventbridge";
  private client: EventBridgeSdk.EventBridgeClient | undefined;
  private readonly sdk: Promise<typeof EventBridgeSdk>;
  constructor(private readonly opts: EventBridgeSinkOptions) {
    // Start loading the SDK now, while the cold start connects to the database, not on first send.
    this.sdk = import("@aws-sdk/client-eventbridge");
    this.sdk.catch(() => undefined);
  }

  async send(events: ProphetEvent[]): Promise<void> {
    // A bundled CommonJS module's named exports may sit under `default` (esbuild interop).
    const mod = await this.sdk;
    const sdk = ("EventBridgeClient" in mod ? mod : (mod as { default: typeof mod }).default) as typeof mod;
    const { EventBridgeClient, PutEventsCommand } = sdk;
    this.client ??= new EventBridgeClient({
      ...(this.opts.region ? { region: this.opts.region } : {}),
      ...(this.opts.endpoint ? { endpoint: this.opts.endpoint } : {}),
    });
    for (let i = 0; i < events.length; i += 10) {
      const batch = events.slice(i, i + 10);
      const out = await this.client.send(
        new PutEventsCommand({
          Entries: batch.map((e) => ({
            EventBusName: this.opts.busName,
            Source: e.source,
            DetailType: e.type,
            Detail: JSON.stringify(e),
            Time: new Date(e.time),
          })),
        }),
      );
      if (out.FailedEntryCount) {
        const failed = (out.Entries ?? [])
          .map((r, j) => (r.ErrorCode ? `${batch[j]?.id}: ${r.ErrorCode} ${r.ErrorMessage ?? ""}` : ""))
          .filter(Boolean);
        throw new Error(`EventBridge rejected ${out.FailedEntryCount} event(s): ${failed.join("; ")}`);
      }
    }
  }
}
