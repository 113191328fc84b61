// A loopback HTTP endpoint that records every request and answers like Slack's incoming webhook
// (the recorded shapes in fixtures/slack-responses.json) or like any JSON webhook receiver.
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Answer {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

export type SlackAnswer =
  "ok" | "invalid_payload" | "no_service" | "channel_is_archived" | "rate_limited" | "server_error";

const slackFixtures = JSON.parse(
  readFileSync(new URL("fixtures/slack-responses.json", import.meta.url), "utf8"),
) as Record<SlackAnswer, Answer>;

export const slackAnswer = (name: SlackAnswer): Answer => slackFixtures[name];

export interface FakeEndpoint {
  /** A URL with a secret-looking path, as real webhook URLs have. */
  url: string;
  bodies: unknown[];
  raw: string[];
  /** What the next requests get; change it between attempts. */
  answer: Answer;
  close(): Promise<void>;
}

export async function startEndpoint(
  answer: Answer,
  path = "/services/T0PROPHET/B0NOTIFY/xoxbSecretWebhookToken123",
): Promise<FakeEndpoint> {
  const ep: Omit<FakeEndpoint, "url" | "close"> = { bodies: [], raw: [], answer };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      ep.raw.push(text);
      ep.bodies.push(JSON.parse(text));
      const a = ep.answer;
      res.writeHead(a.status, { "content-type": a.contentType, ...a.headers });
      res.end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return Object.assign(ep, {
    url: `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}
