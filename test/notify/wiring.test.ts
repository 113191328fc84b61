// Notification channels come from the environment: none configured means none built (and
// incident-notify stays silent); a malformed webhook URL stops start-up without echoing it.
import { describe, expect, it } from "vitest";
import { notifiers } from "../../infra/runtime/deps.js";
import { loadConfig } from "../../shared/config.js";

describe("notification wiring", () => {
  it("builds no channel by default", async () => {
    expect(await notifiers(loadConfig({}))).toEqual([]);
  });

  it("builds Slack and the JSON webhook when their URLs are set", async () => {
    const cfg = loadConfig({
      SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
      PROPHET_NOTIFY_WEBHOOK_URL: "https://example.test/prophet",
    });
    expect((await notifiers(cfg)).map((n) => n.channel)).toEqual(["slack", "webhook"]);
    expect(
      (await notifiers(loadConfig({ PROPHET_NOTIFY_WEBHOOK_URL: "http://127.0.0.1:9/x" }))).map(
        (n) => n.channel,
      ),
    ).toEqual(["webhook"]);
  });

  it("rejects a malformed URL without printing it", () => {
    expect(() => loadConfig({ SLACK_WEBHOOK_URL: "hooks.slack.com/services/T000/B000/SECRETPART" })).toThrow(
      /SLACK_WEBHOOK_URL: expected a URL \(Slack incoming webhook\); got \(hidden\)/,
    );
  });
});
