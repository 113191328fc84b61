// The same function (alert-intake) on the same alert, delivered the way each platform delivers it,
// must record the same incident and emit the same events. Each runtime gets its own database.
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { HttpRequest, InvocationContext } from "@azure/functions";
import type { Context } from "aws-lambda";
import { afterAll, describe, expect, it } from "vitest";
import { alertIntake } from "../../functions/alert-intake/index.js";
import { auditVerify } from "../../functions/audit-verify/index.js";
import { toLambdaHandler } from "../../infra/aws/lambda.js";
import { registerAzureFunction, type AzureApp } from "../../infra/azure/functions.js";
import { toFunctionsFrameworkTarget } from "../../infra/gcp/functions-framework.js";
import { startHost } from "../../infra/local/host.js";
import { loadConfig } from "../../shared/config.js";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import { SimulatedClock } from "../../shared/ports/clock.js";
import { silentLogger } from "../../shared/ports/log.js";
import { CollectingSink } from "../../shared/ports/sink.js";
import type { Store } from "../../shared/ports/store.js";
import { listIncidents } from "../../shared/store/incidents.js";
import { openStore } from "../../shared/store/open.js";
import { sample, sampleText } from "../support/samples.js";
import { freshPostgresUrl, runtimeDeps } from "../support/stores.js";

const cartFingerprint = "5f3c1a9e07b2d4c8";
const clockStart = "2026-11-22T09:14:05Z";
const opened: Record<string, ProphetEvent | undefined> = {};
const stores: Store[] = [];
afterAll(async () => {
  for (const s of stores) await s.close().catch(() => undefined);
});

async function freshRuntime() {
  const url = await freshPostgresUrl();
  if (!url) throw new Error("adapter tests need PostgreSQL");
  const store = await openStore({ databaseUrl: url, dataDir: "unused" });
  stores.push(store);
  const sink = new CollectingSink();
  const deps = runtimeDeps(store, new SimulatedClock(clockStart));
  return { store, sink, url, opts: { deps: async () => deps, sink } };
}

function cartOpened(events: ProphetEvent[]): ProphetEvent | undefined {
  return events.find(
    (e) =>
      e.type === "io.prophet.incident.opened" &&
      (e.data as { fingerprint: string }).fingerprint === cartFingerprint,
  );
}

async function expectOneCartIncident(store: Store) {
  const incidents = await listIncidents(store);
  const cart = incidents.filter((i) => i.fingerprint === cartFingerprint);
  expect(cart).toHaveLength(1);
  expect(cart[0]).toMatchObject({
    cluster: "prod-eu",
    alertname: "KubePodCrashLooping",
    status: "firing",
    namespace: "shop",
  });
}

const lambdaContext = {
  functionName: "prophet-dev-alert-intake",
  awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
} as Context;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("one function, every runtime", () => {
  it("local host: Alertmanager webhook over HTTP through the in-process bus", async () => {
    const url = await freshPostgresUrl();
    if (!url) throw new Error("needs PostgreSQL");
    const config = loadConfig({ DATABASE_URL: url, PROPHET_CRON: "false", LOG_LEVEL: "silent" });
    const host = await startHost({
      config,
      functions: [alertIntake, auditVerify],
      clock: new SimulatedClock(clockStart),
      log: silentLogger,
      port: 0,
    });
    try {
      const res = await fetch(`${host.url}/alertmanager`, {
        method: "POST",
        body: sampleText("alertmanager/webhook-v4-kube-pod-crashlooping.json"),
      });
      expect(res.status).toBe(200);
      const { rows } = await host.deps.store.query<{ outputs: ProphetEvent[] }>(
        "SELECT outputs FROM processed_events WHERE function_name = 'alert-intake'",
      );
      opened.local = cartOpened(rows.flatMap((r) => r.outputs));
      await expectOneCartIncident(host.deps.store);
    } finally {
      await host.close();
    }
  });

  it("Functions Framework (Cloud Run / GCF gen2 / Knative): binary CloudEvent from a Broker, Eventarc Pub/Sub, Alertmanager", async () => {
    const ff = await import("@google-cloud/functions-framework");
    const { getTestServer } = await import("@google-cloud/functions-framework/testing");
    const rt = await freshRuntime();
    ff.http("alert-intake-test", toFunctionsFrameworkTarget(alertIntake, rt.opts));
    const server = getTestServer("alert-intake-test");
    const base = await listen(server);
    try {
      const knative = sample<{ headers: Record<string, string>; body: unknown }>(
        "platform/knative/broker-binary-alert-firing.json",
      );
      const r1 = await fetch(`${base}/`, {
        method: "POST",
        headers: knative.headers,
        body: JSON.stringify(knative.body),
      });
      expect(r1.status).toBe(200);
      const eventarc = sample<{ headers: Record<string, string>; body: unknown }>(
        "platform/gcp/eventarc-pubsub-alert-firing.json",
      );
      const r2 = await fetch(`${base}/`, {
        method: "POST",
        headers: eventarc.headers,
        body: JSON.stringify(eventarc.body),
      });
      expect(await r2.json()).toMatchObject({ results: [{ status: "duplicate" }] });
      const r3 = await fetch(`${base}/alertmanager`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: sampleText("alertmanager/webhook-v4-kube-pod-crashlooping.json"),
      });
      expect(await r3.json()).toMatchObject({ results: [{ status: "duplicate" }, { status: "handled" }] });
      const bad = await fetch(`${base}/alertmanager`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"nonsense":',
      });
      expect(bad.status).toBe(400);
      opened.functionsFramework = cartOpened(rt.sink.events);
      await expectOneCartIncident(rt.store);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("AWS Lambda via middy: API Gateway v2, EventBridge, SQS with a partial batch failure", async () => {
    const rt = await freshRuntime();
    const handler = toLambdaHandler(alertIntake, rt.opts);
    const api = (await handler(sample("platform/aws/apigw-v2-alertmanager.json"), lambdaContext)) as {
      statusCode: number;
      body: string;
    };
    expect(api.statusCode).toBe(200);
    expect(JSON.parse(api.body)).toMatchObject({ accepted: 2 });
    const eb = await handler(sample("platform/aws/eventbridge-alert-firing.json"), lambdaContext);
    expect(eb).toMatchObject({ results: [{ status: "duplicate" }] });
    const sqs = await handler(sample("platform/aws/sqs-batch.json"), lambdaContext);
    expect(sqs).toEqual({ batchItemFailures: [{ itemIdentifier: "2e1424d4-f796-459a-8184-9c92662be6da" }] });
    const bad = (await handler(
      {
        ...sample<object>("platform/aws/apigw-v2-alertmanager.json"),
        body: '{"nonsense":',
        isBase64Encoded: false,
      } as never,
      lambdaContext,
    )) as { statusCode: number; body: string };
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/not valid JSON/);
    opened.lambda = cartOpened(rt.sink.events);
    await expectOneCartIncident(rt.store);
  });

  it("Azure Functions v4: HTTP trigger and Event Grid (CloudEvents schema)", async () => {
    const rt = await freshRuntime();
    const registered: Record<string, { handler: (...args: never[]) => unknown }> = {};
    const app = {
      http: (name: string, o: { handler: never }) => (registered[`http:${name}`] = o),
      timer: (name: string, o: { handler: never }) => (registered[`timer:${name}`] = o),
      eventGrid: (name: string, o: { handler: never }) => (registered[`eventGrid:${name}`] = o),
    } as unknown as AzureApp;
    registerAzureFunction(app, alertIntake, rt.opts);
    expect(Object.keys(registered).sort()).toEqual(["eventGrid:alert-intake-events", "http:alert-intake"]);
    const httpSample = sample<{ url: string; headers: Record<string, string>; body: unknown }>(
      "platform/azure/http-alertmanager.json",
    );
    const request = new HttpRequest({
      method: "POST",
      url: httpSample.url,
      headers: httpSample.headers,
      body: { string: JSON.stringify(httpSample.body) },
    });
    const ctx = new InvocationContext({ functionName: "alert-intake" });
    const httpHandler = registered["http:alert-intake"]?.handler as (
      r: HttpRequest,
      c: InvocationContext,
    ) => Promise<{ status: number; body: string }>;
    const reply = await httpHandler(request, ctx);
    expect(reply.status).toBe(200);
    const egHandler = registered["eventGrid:alert-intake-events"]?.handler as (
      e: unknown,
      c: InvocationContext,
    ) => Promise<void>;
    await egHandler(sample("platform/azure/eventgrid-cloudevent-alert-firing.json"), ctx);
    opened.azure = cartOpened(rt.sink.events);
    await expectOneCartIncident(rt.store);
  });

  it("registers a timer per schedule on Azure and turns an EventBridge schedule into the same tick", async () => {
    const rt = await freshRuntime();
    const timers: string[] = [];
    registerAzureFunction(
      {
        http() {},
        eventGrid() {},
        timer: (n: string, o: { schedule: string }) => timers.push(`${n} ${o.schedule}`),
      } as unknown as AzureApp,
      auditVerify,
      rt.opts,
    );
    expect(timers).toEqual(["audit-verify-audit-verify 0 */15 * * * *"]);
    const handler = toLambdaHandler(auditVerify, rt.opts);
    const out = await handler(sample("platform/aws/eventbridge-scheduled.json"), lambdaContext);
    expect(out).toMatchObject({
      results: [{ id: "audit-verify@2026-11-22T10:15:00.000Z", status: "handled", emitted: 1 }],
    });
    expect(rt.sink.events.map((e) => e.type)).toEqual(["io.prophet.audit.verified"]);
  });

  it("fans an Azure timer out to one tick per cluster the deployment serves (a v4 timer carries no data)", async () => {
    const rt = await freshRuntime();
    const base = await rt.opts.deps();
    const deps = {
      ...base,
      cluster: "home",
      clusters: { names: () => ["edge-1", "edge-2"], ports: () => ({}) },
    };
    const registered: Record<string, { handler: (...args: never[]) => unknown }> = {};
    registerAzureFunction(
      {
        http() {},
        eventGrid() {},
        timer: (n: string, o: { handler: never }) => (registered[n] = o),
      } as unknown as AzureApp,
      auditVerify,
      { deps: async () => deps, sink: rt.sink },
    );
    const timer = registered["audit-verify-audit-verify"]!.handler as (
      t: unknown,
      c: unknown,
    ) => Promise<void>;
    await timer({}, new InvocationContext({ functionName: "audit-verify" }));
    const verified = rt.sink.events.filter((e) => e.type === "io.prophet.audit.verified");
    expect(verified.map((e) => e.cluster).sort()).toEqual(["edge-1", "edge-2", "home"]);
  });

  it("emits identical events under every runtime", () => {
    const runtimes = ["local", "functionsFramework", "lambda", "azure"];
    for (const r of runtimes) expect(opened[r], `${r} emitted no incident.opened`).toBeDefined();
    for (const r of runtimes.slice(1)) expect(opened[r]).toEqual(opened.local);
  });
});
