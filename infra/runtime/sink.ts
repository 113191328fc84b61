// Picks the platform's event sink from the configuration (PROPHET_SINK=auto looks at what the
// platform set: K_SINK on Knative, AWS_LAMBDA_FUNCTION_NAME on Lambda, PUBSUB_TOPIC, Event Grid).
import type { Config } from "../../shared/config.js";
import { ProphetError } from "../../shared/errors.js";
import type { EventSink } from "../../shared/ports/sink.js";
import { EventBridgeSink } from "../sinks/eventbridge.js";
import { EventGridSink } from "../sinks/eventgrid.js";
import { HttpSink } from "../sinks/http.js";
import { PubSubSink } from "../sinks/pubsub.js";

/** Refuses to send: the events stay stored as undelivered and the platform retries the input. */
export const missingSink: EventSink = {
  name: "none",
  async send(events) {
    if (events.length)
      throw new Error(
        "no event sink is configured: set K_SINK (Knative), EVENTBRIDGE_BUS_NAME (AWS), PUBSUB_TOPIC (Google) or EVENTGRID_TOPIC_ENDPOINT (Azure)",
      );
  },
};

async function metadataToken(): Promise<string> {
  const res = await fetch(
    "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token",
    { headers: { "Metadata-Flavor": "Google" }, signal: AbortSignal.timeout(5_000) },
  );
  if (!res.ok) throw new Error(`metadata server answered ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

export function platformSink(cfg: Config, env: Record<string, string | undefined> = process.env): EventSink {
  let kind = cfg.PROPHET_SINK;
  if (kind === "auto") {
    if (cfg.K_SINK) kind = "http";
    else if (env.AWS_LAMBDA_FUNCTION_NAME) kind = "eventbridge";
    else if (cfg.PUBSUB_TOPIC) kind = "pubsub";
    else if (cfg.EVENTGRID_TOPIC_ENDPOINT) kind = "eventgrid";
    else return missingSink;
  }
  switch (kind) {
    case "http":
      if (!cfg.K_SINK) throw new ProphetError("invalid_config", "PROPHET_SINK=http needs K_SINK");
      return new HttpSink(cfg.K_SINK);
    case "eventbridge":
      return new EventBridgeSink({
        busName: cfg.EVENTBRIDGE_BUS_NAME,
        ...(cfg.AWS_REGION ? { region: cfg.AWS_REGION } : {}),
        ...(env.EVENTBRIDGE_ENDPOINT ? { endpoint: env.EVENTBRIDGE_ENDPOINT } : {}),
      });
    case "pubsub": {
      if (!cfg.PUBSUB_TOPIC || !cfg.GOOGLE_CLOUD_PROJECT)
        throw new ProphetError(
          "invalid_config",
          "PROPHET_SINK=pubsub needs PUBSUB_TOPIC and GOOGLE_CLOUD_PROJECT",
        );
      const emulator = env.PUBSUB_EMULATOR_HOST;
      return new PubSubSink({
        project: cfg.GOOGLE_CLOUD_PROJECT,
        topic: cfg.PUBSUB_TOPIC,
        ...(emulator ? { endpoint: `http://${emulator}` } : { accessToken: metadataToken }),
      });
    }
    case "eventgrid":
      if (!cfg.EVENTGRID_TOPIC_ENDPOINT || !cfg.EVENTGRID_KEY)
        throw new ProphetError(
          "invalid_config",
          "PROPHET_SINK=eventgrid needs EVENTGRID_TOPIC_ENDPOINT and EVENTGRID_KEY",
        );
      return new EventGridSink(cfg.EVENTGRID_TOPIC_ENDPOINT, cfg.EVENTGRID_KEY);
    case "none":
    case "bus":
      return missingSink;
  }
}
