// The local host on its embedded defaults (PGlite on disk): the acceptance path of the README.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functions } from "../../functions/registry.js";
import { scheduleTick } from "../../infra/local/cron.js";
import { startHost, type RunningHost } from "../../infra/local/host.js";
import { loadConfig } from "../../shared/config.js";
import { SimulatedClock } from "../../shared/ports/clock.js";
import { silentLogger } from "../../shared/ports/log.js";
import { sampleText } from "../support/samples.js";

let host: RunningHost;
let dir: string;
const clock = new SimulatedClock("2026-11-22T09:14:05Z");

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "prophet-host-"));
  const config = loadConfig({ PROPHET_DATA_DIR: dir, PROPHET_CRON: "false", LOG_LEVEL: "silent" });
  host = await startHost({ config, functions, clock, log: silentLogger, port: 0 });
});
afterAll(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${host.url}${path}`, { method: "POST", body, headers });

describe("local host on embedded defaults", () => {
  it("is healthy and ready on PGlite", async () => {
    expect((await fetch(`${host.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${host.url}/readyz`)).json()).toEqual({ status: "ready", store: "pglite" });
  });

  it("records an Alertmanager webhook as incidents in the audit log, once", async () => {
    const body = sampleText("alertmanager/webhook-v4-kube-pod-crashlooping.json");
    const first = await post("/alertmanager", body);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({
      accepted: 2,
      results: [{ status: "handled" }, { status: "handled" }],
    });
    const second = await post("/alertmanager", body);
    expect(await second.json()).toMatchObject({
      results: [{ status: "duplicate" }, { status: "duplicate" }],
    });
    const audit = (await (await fetch(`${host.url}/api/audit`)).json()) as {
      items: Array<{ action: string; subject: string }>;
    };
    // alert-diagnosis audits a diagnosis of each opened incident too (without a cluster: "Unavailable").
    const intake = audit.items.filter((a) => a.action.startsWith("alert."));
    expect(intake.map((a) => a.subject).sort()).toEqual([
      "KubePodCrashLooping shop/Pod/cart-7d9f8b6c5-x2kqp",
      "KubePodCrashLooping shop/Pod/checkout-5c9d7f4b8-m7wq2",
    ]);
    expect(await (await fetch(`${host.url}/api/audit/verify`)).json()).toMatchObject({ ok: true, rows: 4 });
  });

  it("closes the incident when the alert resolves", async () => {
    const res = await post(
      "/alertmanager",
      sampleText("alertmanager/webhook-v4-kube-pod-crashlooping-resolved.json"),
    );
    expect(res.status).toBe(200);
    const list = (await (await fetch(`${host.url}/api/incidents?status=resolved`)).json()) as {
      items: Array<{ id: string; fingerprint: string; resolvedAt: string }>;
    };
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({
      fingerprint: "5f3c1a9e07b2d4c8",
      resolvedAt: "2026-11-22T09:31:03.512Z",
    });
    const one = await fetch(`${host.url}/api/incidents/${list.items[0]?.id}`);
    expect(one.status).toBe(200);
  });

  it("answers nonsense with a 400 and a reason, and keeps serving", async () => {
    const bad = await post("/alertmanager", '{"nonsense":');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: "bad_request",
      message: expect.stringMatching(/not valid JSON/),
    });
    const missing = await post(
      "/",
      JSON.stringify({ specversion: "1.0", id: "x", type: "io.prophet.schedule.tick" }),
      { "content-type": "application/cloudevents+json" },
    );
    expect(missing.status).toBe(400);
    expect((await missing.json()) as { message: string }).toMatchObject({
      message: expect.stringMatching(/source/),
    });
    const unknown = await post(
      "/",
      JSON.stringify({ specversion: "1.0", id: "x", source: "/s", type: "com.example.nope" }),
      { "content-type": "application/cloudevents+json" },
    );
    expect(await unknown.json()).toMatchObject({ error: "unknown_type" });
    expect((await fetch(`${host.url}/healthz`)).status).toBe(200);
  });

  it("rejects malformed alerts with a 4xx and the reason: missing labels, too large, not UTF-8", async () => {
    const hook = JSON.parse(sampleText("alertmanager/webhook-v4-kube-pod-crashlooping.json")) as {
      alerts: Array<Record<string, unknown>>;
    };
    delete hook.alerts[0]?.labels;
    const noLabels = await post("/alertmanager", JSON.stringify(hook));
    expect(noLabels.status).toBe(400);
    expect(await noLabels.json()).toMatchObject({ issues: [{ path: "alerts.0.labels" }] });

    const huge = await post("/alertmanager", `{"pad":"${"x".repeat(6 * 1024 * 1024)}"}`);
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ error: "payload_too_large" });

    const latin1 = Buffer.concat([Buffer.from('{"receiver":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
    const notUtf8 = await fetch(`${host.url}/alertmanager`, { method: "POST", body: latin1 });
    expect(notUtf8.status).toBe(400);
    expect(await notUtf8.json()).toMatchObject({ message: "the request body is not valid UTF-8" });

    const notAnObject = await post("/alertmanager", "[1,2,3]");
    expect(notAnObject.status).toBe(400);
    expect((await fetch(`${host.url}/healthz`)).status).toBe(200);
  });

  it("counts events in /metrics", async () => {
    const text = await (await fetch(`${host.url}/metrics`)).text();
    expect(text).toMatch(
      /prophet_events_received_total\{function="alert-intake",type="io.prophet.alert.firing"\} 4/,
    );
    expect(text).toMatch(
      /prophet_events_duplicate_total\{function="alert-intake",type="io.prophet.alert.firing"\} 2/,
    );
    expect(text).toMatch(/prophet_events_rejected_total\{[^}]*code="bad_request"\} 2/);
    expect(text).toMatch(/prophet_handler_duration_seconds_bucket/);
  });

  it("runs scheduled functions through the bus, and only the schedule's owner", async () => {
    await host.bus.send([scheduleTick("audit-verify", clock.now())]);
    const { rows } = await host.deps.store.query<{
      outputs: Array<{ type: string; data: { ok: boolean; rows: number } }>;
    }>("SELECT outputs FROM processed_events WHERE function_name = 'audit-verify'");
    expect(rows[0]?.outputs[0]).toMatchObject({
      type: "io.prophet.audit.verified",
      data: { ok: true, rows: 5 },
    });
    expect(host.bus.route(scheduleTick("someone-else", clock.now()))).toEqual([]);
  });

  it("404s unknown routes with a JSON body", async () => {
    const res = await fetch(`${host.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: "not_found" });
  });
});
