// Each platform sink against the real thing where it runs here (Pub/Sub emulator) and otherwise a
// loopback server answering with the platform's recorded response shapes.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync } from "node:fs";
import { HTTP } from "cloudevents";
import { afterAll, describe, expect, it } from "vitest";
import { EventBridgeSink } from "../../infra/sinks/eventbridge.js";
import { EventGridSink } from "../../infra/sinks/eventgrid.js";
import { HttpSink } from "../../infra/sinks/http.js";
import { PubSubSink } from "../../infra/sinks/pubsub.js";
import { unwrapPubsubMessage } from "../../shared/events/edge/pubsub.js";
import { parseEnvelope, type ProphetEvent } from "../../shared/events/envelope.js";
import { freePort } from "../setup/postgres.js";
import { sample } from "../support/samples.js";

const opened = parseEnvelope(sample("catalog/io.prophet.incident.opened.json"));
const tick = parseEnvelope(sample("catalog/io.prophet.schedule.tick.json"));

interface Captured {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

async function fakeServer(
  answer: (c: Captured) => { status: number; body: string; headers?: Record<string, string> },
) {
  const seen: Captured[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const c = { path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      seen.push(c);
      const a = answer(c);
      res.writeHead(a.status, { "content-type": "application/json", ...a.headers });
      res.end(a.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise((r) => server.close(r)) };
}

describe("HttpSink (Knative K_SINK)", () => {
  it("posts binary-mode CloudEvents that decode to the same event", async () => {
    const srv = await fakeServer(() => ({ status: 202, body: "" }));
    try {
      await new HttpSink(srv.url).send([opened, tick]);
      expect(srv.seen).toHaveLength(2);
      expect(srv.seen[0]?.headers["ce-type"]).toBe("io.prophet.incident.opened");
      expect(srv.seen[0]?.headers["ce-cluster"]).toBe("prod-eu");
      const back = HTTP.toEvent({ headers: srv.seen[0]!.headers, body: srv.seen[0]!.body }) as {
        id: string;
        data: unknown;
      };
      expect(back.id).toBe(opened.id);
      expect(back.data).toEqual(opened.data);
    } finally {
      await srv.close();
    }
  });

  it("throws when the broker refuses, so the events stay undelivered", async () => {
    const srv = await fakeServer(() => ({ status: 503, body: "overloaded" }));
    try {
      await expect(new HttpSink(srv.url).send([opened])).rejects.toThrow(/503/);
    } finally {
      await srv.close();
    }
  });
});

describe("EventBridgeSink", () => {
  process.env.AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE";
  process.env.AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

  it("puts each event with DetailType = type and Detail = the structured CloudEvent, 10 per call", async () => {
    const events: ProphetEvent[] = Array.from({ length: 12 }, (_, i) => ({ ...tick, id: `t-${i}` }));
    const srv = await fakeServer((c) => {
      const n = (JSON.parse(c.body) as { Entries: unknown[] }).Entries.length;
      // Recorded shape of a successful PutEvents response (AWS JSON 1.1).
      return {
        status: 200,
        headers: { "content-type": "application/x-amz-json-1.1" },
        body: JSON.stringify({
          Entries: Array.from({ length: n }, (_, i) => ({
            EventId: `11710aed-b79e-4468-a20b-bb3c0c3b4${String(i).padStart(3, "0")}`,
          })),
          FailedEntryCount: 0,
        }),
      };
    });
    try {
      await new EventBridgeSink({ busName: "prophet", region: "eu-west-1", endpoint: srv.url }).send(events);
      expect(srv.seen.map((c) => (JSON.parse(c.body) as { Entries: unknown[] }).Entries.length)).toEqual([
        10, 2,
      ]);
      expect(srv.seen[0]?.headers["x-amz-target"]).toBe("AWSEvents.PutEvents");
      const entry = (
        JSON.parse(srv.seen[0]!.body) as {
          Entries: Array<{ DetailType: string; Detail: string; EventBusName: string; Source: string }>;
        }
      ).Entries[0]!;
      expect(entry).toMatchObject({
        DetailType: "io.prophet.schedule.tick",
        EventBusName: "prophet",
        Source: "/prophet/cron",
      });
      expect(parseEnvelope(JSON.parse(entry.Detail))).toEqual(events[0]);
    } finally {
      await srv.close();
    }
  });

  it("reports entries EventBridge failed", async () => {
    const srv = await fakeServer(() => ({
      status: 200,
      headers: { "content-type": "application/x-amz-json-1.1" },
      body: JSON.stringify({
        Entries: [{ ErrorCode: "ThrottlingException", ErrorMessage: "Rate exceeded" }],
        FailedEntryCount: 1,
      }),
    }));
    try {
      await expect(
        new EventBridgeSink({ busName: "prophet", region: "eu-west-1", endpoint: srv.url }).send([tick]),
      ).rejects.toThrow(/ThrottlingException/);
    } finally {
      await srv.close();
    }
  });
});

describe("EventGridSink", () => {
  it("posts a CloudEvents batch with the SAS key", async () => {
    const srv = await fakeServer(() => ({ status: 200, body: "" }));
    try {
      await new EventGridSink(`${srv.url}/api/events`, "sas-key-value").send([opened]);
      expect(srv.seen[0]?.headers["aeg-sas-key"]).toBe("sas-key-value");
      expect(srv.seen[0]?.headers["content-type"]).toMatch(/cloudevents-batch\+json/);
      expect(JSON.parse(srv.seen[0]!.body)).toEqual([opened]);
    } finally {
      await srv.close();
    }
  });
});

describe("PubSubSink against the Pub/Sub emulator", () => {
  let emulator: ChildProcess | undefined;
  afterAll(() => {
    if (emulator?.pid) {
      try {
        process.kill(-emulator.pid, "SIGTERM");
      } catch {
        /* already gone */
      }
    }
  });

  it("publishes with ce-* attributes that Eventarc's messagePublished unwraps to the same event", async (ctx) => {
    if (!existsSync("/usr/bin/gcloud")) {
      if (process.env.CI === "true") throw new Error("gcloud (Pub/Sub emulator) is required under CI=true");
      return ctx.skip();
    }
    const port = await freePort();
    emulator = spawn(
      "gcloud",
      [
        "beta",
        "emulators",
        "pubsub",
        "start",
        `--host-port=127.0.0.1:${port}`,
        "--project=prophet-test",
        "--quiet",
      ],
      {
        detached: true,
        stdio: "ignore",
      },
    );
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ok = await fetch(base).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error("Pub/Sub emulator did not start within 60 s");
      await new Promise((r) => setTimeout(r, 250));
    }
    const put = (path: string, body: unknown) =>
      fetch(`${base}/v1/projects/prophet-test/${path}`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await put("topics/prophet-events", {})).status).toBe(200);
    expect(
      (await put("subscriptions/eventarc", { topic: "projects/prophet-test/topics/prophet-events" })).status,
    ).toBe(200);

    await new PubSubSink({ project: "prophet-test", topic: "prophet-events", endpoint: base }).send([opened]);

    const pulled = (await (
      await fetch(`${base}/v1/projects/prophet-test/subscriptions/eventarc:pull`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ maxMessages: 10 }),
      })
    ).json()) as { receivedMessages: Array<{ message: unknown }> };
    expect(pulled.receivedMessages).toHaveLength(1);
    const back = unwrapPubsubMessage({
      message: pulled.receivedMessages[0]?.message,
      subscription: "projects/prophet-test/subscriptions/eventarc",
    });
    expect(back).toEqual(opened);
  }, 90_000);
});
