// incident-notify, driven through the invocation pipeline against loopback endpoints that answer
// like Slack's incoming webhook and like a JSON webhook receiver. Specifies: one message per
// incident on firing (after diagnosis) and one on resolved, each with the right blocks; duplicates
// send nothing; a failed send is a retryable error that leaves no "sent" mark, and the retry
// sends; no secret reaches a message body or a log line; with no channel configured it is silent.
import { Writable } from "node:stream";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { alertIntake } from "../../functions/alert-intake/index.js";
import { incidentNotify } from "../../functions/incident-notify/index.js";
import { createLogger } from "../../infra/runtime/logger.js";
import { ProphetError } from "../../shared/errors.js";
import { parseEnvelope, type ProphetEvent } from "../../shared/events/envelope.js";
import type { DiagnosisCompletedData } from "../../shared/events/schemas/diagnosis.js";
import type { IncidentEventData } from "../../shared/events/schemas/incident.js";
import type { Deps } from "../../shared/function.js";
import { invokeFunction } from "../../shared/invocation/invoke.js";
import { slackNotifier, type SlackMessage } from "../../shared/notify/slack.js";
import { webhookNotifier, type WebhookBody } from "../../shared/notify/webhook.js";
import type { Logger } from "../../shared/ports/log.js";
import { CollectingSink } from "../../shared/ports/sink.js";
import type { Store } from "../../shared/ports/store.js";
import { sample } from "../support/samples.js";
import { freshPgliteStore, testDeps } from "../support/stores.js";
import { slackAnswer, startEndpoint, type FakeEndpoint } from "./fake-endpoint.js";

let store: Store;
let cleanup: () => Promise<void>;
let slack: FakeEndpoint;
let hook: FakeEndpoint;
let seq = 0;

beforeAll(async () => {
  ({ store, cleanup } = await freshPgliteStore());
});
afterAll(async () => cleanup());
beforeEach(async () => {
  slack = await startEndpoint(slackAnswer("ok"));
  hook = await startEndpoint(
    { status: 204, contentType: "text/plain", body: "" },
    "/hooks/prophet?token=hook-Secret-9f8e7d",
  );
});
afterEach(async () => {
  await slack.close();
  await hook.close();
});

function event<T>(path: string, patch: (e: ProphetEvent<T>) => ProphetEvent<T> = (e) => e): ProphetEvent<T> {
  return patch(parseEnvelope(sample(path)) as ProphetEvent<T>);
}

/**
 * A fresh alert through alert-intake: the incident exists in the store, as in the pipeline. Each
 * is about a workload of its own, so it opens an incident of its own (alerts about one workload
 * are grouped into one incident, docs/decisions/0009).
 */
async function openIncident(): Promise<{ incidentId: string; firing: ProphetEvent; n: number }> {
  const n = ++seq;
  type Alert = { fingerprint: string; labels: Record<string, string> };
  const firing = event<Alert>("catalog/io.prophet.alert.firing.json", (e) => ({
    ...e,
    id: `${e.id}-notify-${n}`,
    data: {
      ...e.data,
      fingerprint: `${e.data.fingerprint}${n}`,
      labels: { ...e.data.labels, pod: `cart-${n}-7d9f8b6c5-x2kqp` },
    },
  }));
  const out = await invokeFunction(alertIntake, firing, {
    deps: testDeps(store),
    sink: new CollectingSink(),
  });
  const opened = out.emitted[0] as ProphetEvent<IncidentEventData>;
  return { incidentId: opened.data.incidentId, firing, n };
}

function diagnosisOf(incidentId: string, id: string, tweak: (d: DiagnosisCompletedData) => void = () => {}) {
  return event<DiagnosisCompletedData>("catalog/io.prophet.diagnosis.completed.json", (e) => {
    const data = structuredClone(e.data);
    data.incidentId = incidentId;
    tweak(data);
    return { ...e, id, data };
  });
}

async function resolutionOf(firing: ProphetEvent, n: number): Promise<ProphetEvent> {
  const f = firing as ProphetEvent<{ fingerprint: string }>;
  const resolved = event<{ fingerprint: string }>("catalog/io.prophet.alert.resolved.json", (e) => ({
    ...e,
    id: `${e.id}-notify-${n}`,
    data: { ...e.data, fingerprint: f.data.fingerprint },
  }));
  const out = await invokeFunction(alertIntake, resolved, {
    deps: testDeps(store),
    sink: new CollectingSink(),
  });
  expect(out.emitted[0]?.type).toBe("io.prophet.incident.resolved");
  return out.emitted[0]!;
}

function depsWith(extra: Partial<Deps> = {}): Deps {
  return { ...testDeps(store), notify: [slackNotifier(slack.url), webhookNotifier(hook.url)], ...extra };
}

const notify = (e: ProphetEvent, deps: Deps = depsWith()) =>
  invokeFunction(incidentNotify, e, { deps, sink: new CollectingSink() });

async function sentRows(incidentId: string) {
  const { rows } = await store.query<{ phase: string; channel: string }>(
    "SELECT phase, channel FROM notifications_sent WHERE incident_id = $1 ORDER BY phase, channel",
    [incidentId],
  );
  return rows;
}

async function auditActions(incidentId: string) {
  const { rows } = await store.query<{ action: string; channel: string }>(
    `SELECT action, details->>'channel' AS channel FROM audit_log
      WHERE actor = 'function:incident-notify' AND details->>'incidentId' = $1 ORDER BY seq`,
    [incidentId],
  );
  return rows;
}

const texts = (m: SlackMessage) => JSON.stringify(m.blocks);
const textOf = (b: unknown) => (b as { text: { text: string } }).text.text;
const fieldsOf = (b: unknown) => (b as { fields: Array<{ text: string }> }).fields.map((f) => f.text);

describe("incident-notify", () => {
  it("sends one firing message with the diagnosis in Block Kit and the documented JSON body", async () => {
    const { incidentId } = await openIncident();
    const out = await notify(diagnosisOf(incidentId, `diag-${incidentId}`));
    expect(out).toEqual({ status: "handled", emitted: [] });

    expect(slack.bodies).toHaveLength(1);
    const msg = slack.bodies[0] as SlackMessage;
    expect(msg.blocks.map((b) => b.type)).toEqual([
      "header",
      "section",
      "section",
      "section",
      "section",
      "section",
      "context",
    ]);
    expect(msg.blocks[0]).toEqual({
      type: "header",
      text: { type: "plain_text", text: "🔥 FIRING: KubePodCrashLooping", emoji: true },
    });
    const fields = fieldsOf(msg.blocks[1]);
    expect(fields).toEqual([
      "*Subject*\nKubePodCrashLooping shop/Pod/cart-7d9f8b6c5-x2kqp",
      "*Severity*\nwarning",
      "*Cluster*\nprod-eu",
      "*Status*\nFIRING",
    ]);
    const rootCause = textOf(msg.blocks[3]);
    expect(rootCause).toContain("*Root cause:* `OOMKilled` on Pod shop/cart-7d9f8b6c5-x2kqp");
    expect(rootCause).toContain("memory limit of 256Mi");
    expect(textOf(msg.blocks[4])).toMatch(/^\*Findings\*\n• `ReplicasNotReady` Deployment shop\/cart/);
    expect(JSON.stringify(msg.blocks.at(-1))).toContain(`Prophet incident \`${incidentId}\` · firing`);
    expect(msg.text).toMatch(/^🔥 FIRING: KubePodCrashLooping/);
    // Evidence (events, log lines) stays in Prophet.
    expect(texts(msg)).not.toContain("loading product catalogue");

    expect(hook.bodies).toHaveLength(1);
    const body = hook.bodies[0] as WebhookBody;
    expect(body).toMatchObject({
      version: "1",
      type: "io.prophet.incident.notification",
      phase: "firing",
      incident: {
        id: incidentId,
        cluster: "prod-eu",
        subject: "KubePodCrashLooping shop/Pod/cart-7d9f8b6c5-x2kqp",
        alertname: "KubePodCrashLooping",
        severity: "warning",
      },
      rootCause: { kind: "Pod", namespace: "shop", reason: "OOMKilled" },
    });
    expect(body.findings.map((f) => f.reason)).toEqual(["OOMKilled", "ReplicasNotReady"]);
    expect(Object.keys(body.findings[0]!).sort()).toEqual(["kind", "message", "name", "namespace", "reason"]);

    expect(await sentRows(incidentId)).toEqual([
      { phase: "firing", channel: "slack" },
      { phase: "firing", channel: "webhook" },
    ]);
    expect(await auditActions(incidentId)).toEqual([
      { action: "notification.firing", channel: "slack" },
      { action: "notification.firing", channel: "webhook" },
    ]);
  });

  it("sends one RESOLVED message when the incident resolves, and a late diagnosis sends nothing", async () => {
    const { incidentId, firing, n } = await openIncident();
    await notify(diagnosisOf(incidentId, `diag-${incidentId}`));
    await notify(await resolutionOf(firing, n));
    expect(slack.bodies).toHaveLength(2);
    const msg = slack.bodies[1] as SlackMessage;
    expect(msg.blocks[0]).toMatchObject({
      type: "header",
      text: { text: "✅ RESOLVED: KubePodCrashLooping" },
    });
    expect(texts(msg)).toContain("*Status*\\nRESOLVED");
    expect(texts(msg)).toContain(`Prophet incident \`${incidentId}\` · resolved`);
    expect((hook.bodies[1] as WebhookBody).phase).toBe("resolved");
    expect((hook.bodies[1] as WebhookBody).incident.id).toBe(incidentId);

    await notify(diagnosisOf(incidentId, `diag-late-${incidentId}`));
    expect(slack.bodies).toHaveLength(2);
    expect((await auditActions(incidentId)).map((r) => r.action)).toEqual([
      "notification.firing",
      "notification.firing",
      "notification.resolved",
      "notification.resolved",
    ]);
  });

  it("does not notify twice for a second diagnosis of the same incident (different event id)", async () => {
    const { incidentId } = await openIncident();
    await notify(diagnosisOf(incidentId, `diag-a-${incidentId}`));
    const again = await notify(diagnosisOf(incidentId, `diag-b-${incidentId}`));
    expect(again.status).toBe("handled");
    await notify(diagnosisOf(incidentId, `diag-a-${incidentId}`)); // a plain redelivery
    expect(slack.bodies).toHaveLength(1);
    expect(hook.bodies).toHaveLength(1);
    expect(await auditActions(incidentId)).toHaveLength(2);
  });

  for (const failure of ["no_service", "invalid_payload", "rate_limited", "server_error"] as const) {
    it(`Slack answering ${failure}: a retryable error, no "sent" mark, and the retry sends`, async () => {
      const { incidentId } = await openIncident();
      slack.answer = slackAnswer(failure);
      const diagnosis = diagnosisOf(incidentId, `diag-${incidentId}`);
      const err = await notify(diagnosis).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ProphetError);
      expect((err as ProphetError).retryable).toBe(true);
      expect((err as ProphetError).message).toContain(slackAnswer(failure).body);
      if (failure === "rate_limited") expect((err as ProphetError).message).toContain("retry after 30s");
      expect((err as ProphetError).message).not.toContain(slack.url);
      // The webhook channel succeeded and is not sent again; Slack is not marked.
      expect(await sentRows(incidentId)).toEqual([{ phase: "firing", channel: "webhook" }]);

      slack.answer = slackAnswer("ok");
      const retry = await notify(diagnosis);
      expect(retry.status).toBe("handled");
      expect(slack.bodies).toHaveLength(2); // the failed attempt and the retry
      expect(hook.bodies).toHaveLength(1);
      expect(await sentRows(incidentId)).toEqual([
        { phase: "firing", channel: "slack" },
        { phase: "firing", channel: "webhook" },
      ]);
    });
  }

  it("treats a refused connection as retryable", async () => {
    const { incidentId } = await openIncident();
    const url = slack.url;
    await slack.close();
    const err = await notify(
      diagnosisOf(incidentId, `diag-${incidentId}`),
      depsWith({ notify: [slackNotifier(url)] }),
    ).then(
      () => undefined,
      (e: unknown) => e as ProphetError,
    );
    expect(err?.retryable).toBe(true);
    expect(err?.message).toMatch(/slack: ECONNREFUSED/);
    expect(await sentRows(incidentId)).toEqual([]);
    slack = await startEndpoint(slackAnswer("ok")); // for afterEach
  });

  it("keeps secrets out of message bodies and log lines", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString("utf8"));
        done();
      },
    });
    const log = createLogger("debug", {}, destination) as Logger;
    const { incidentId } = await openIncident();
    const secrets = [
      "Tr0ub4dor&3",
      "sk_live_51HxYzAbCdEfGhIjKlMnOpQr",
      "c3VwZXJzZWNyZXQtdmFsdWUtZm9yLXRlc3Rpbmc",
    ];
    const diagnosis = diagnosisOf(incidentId, `diag-${incidentId}`, (d) => {
      const leaky = d.findings[1]!;
      leaky.message = `env DB_URL=postgres://ledger:${secrets[0]}@db:5432/ledger; STRIPE_API_KEY=${secrets[1]}`;
      leaky.evidence.logs = [`token=${secrets[2]}`];
      d.explanation.nextSteps.push(`rotate password=${secrets[0]}`);
    });
    slack.answer = slackAnswer("server_error");
    await notify(diagnosis, depsWith({ log })).catch(() => undefined);
    slack.answer = slackAnswer("ok");
    await notify(diagnosis, depsWith({ log }));

    const everything = [...slack.raw, ...hook.raw, ...lines].join("\n");
    expect(slack.raw.length + hook.raw.length).toBe(3);
    for (const s of secrets) expect(everything).not.toContain(s);
    expect(lines.join("\n")).not.toContain("xoxbSecretWebhookToken123");
    expect(lines.join("\n")).not.toContain("hook-Secret-9f8e7d");
    expect(lines.some((l) => l.includes('"channel":"slack"') && l.includes("notification failed"))).toBe(
      true,
    );
    expect(slack.raw[1]).toContain("[redacted]");
  });

  it("does nothing without a configured channel", async () => {
    const { incidentId } = await openIncident();
    const out = await notify(diagnosisOf(incidentId, `diag-${incidentId}`), testDeps(store));
    expect(out).toEqual({ status: "handled", emitted: [] });
    expect(slack.bodies).toHaveLength(0);
    expect(await sentRows(incidentId)).toEqual([]);
    expect(await auditActions(incidentId)).toEqual([]);
  });
});
