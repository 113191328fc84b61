// The Google path end to end, on real servers: the gcp deploy plan's topic and Eventarc triggers
// on the Cloud SDK's Pub/Sub emulator, alert-intake and alert-diagnosis served by the Functions
// Framework from the gcp bundle's entry with the real Pub/Sub sink, and PostgreSQL.
// An Alertmanager webhook goes in; incident.opened and diagnosis.completed come out on the topic.
// Under CI=true and locally alike, a missing gcloud or java fails the suite (no skip).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertDiagnosis } from "../../functions/alert-diagnosis/index.js";
import { alertIntake } from "../../functions/alert-intake/index.js";
import { plan, type Step } from "../../infra/deploy/plan.js";
import { fanOutAlertmanagerWebhook } from "../../shared/events/edge/alertmanager.js";
import { deriveEventId } from "../../shared/events/envelope.js";
import { functionSource } from "../../shared/function.js";
import { freshPostgresUrl } from "../support/stores.js";
import { sample, sampleText } from "../support/samples.js";
import {
  requireEmulatorTools,
  startEventarcStandIn,
  startPubsubEmulator,
  serveFunction,
  type Delivery,
  type EventarcStandIn,
  type PubsubApi,
  type PubsubEmulator,
  type PulledMessage,
  type ServedFunction,
} from "../support/pubsub-emulator.js";

const project = "prophet-emulator";
const webhook = "alertmanager/webhook-v4-kube-pod-crashlooping.json";
const incidentOpened = "io.prophet.incident.opened";
const diagnosisCompleted = "io.prophet.diagnosis.completed";

/** What the gcp plan creates on Pub/Sub and deploys, read from its gcloud commands. */
function gcpResources(steps: Step[]) {
  const flag = (argv: string[], name: string) =>
    argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? "";
  const commands = steps.flatMap((s) => (s.command ? [s.command] : []));
  const topic = commands.find((c) => c.slice(1, 4).join(" ") === "pubsub topics create")?.[4];
  if (!topic) throw new Error("the gcp plan creates no Pub/Sub topic");
  const functions = commands
    .filter((c) => c.slice(1, 3).join(" ") === "functions deploy")
    .map((c) => ({
      service: c[3]!,
      target: flag(c, "entry-point"),
      env: Object.fromEntries(
        flag(c, "set-env-vars")
          .split(",")
          .map((kv) => kv.split("=") as [string, string]),
      ),
    }));
  const triggers = commands
    .filter((c) => c.slice(1, 4).join(" ") === "eventarc triggers create")
    .map((c) => ({
      name: c[4]!,
      service: flag(c, "destination-run-service"),
      region: flag(c, "location"),
      topic: flag(c, "transport-topic"),
      filter: flag(c, "event-filters"),
    }));
  return { topic, functions, triggers };
}

const typeOf = (m: PulledMessage) => m.message.attributes?.["ce-type"];

describe("Google: Eventarc over Pub/Sub (emulator) between two Functions Framework functions", () => {
  // At collection, so a missing tool fails the file instead of reporting its tests as skipped.
  requireEmulatorTools();
  let emulator: PubsubEmulator | undefined;
  let eventarc: EventarcStandIn | undefined;
  const served: ServedFunction[] = [];
  let api: PubsubApi;
  let topic = "";
  let intake: ServedFunction;
  const intakeService = "prophet-alert-intake";
  const observer = "prophet-test-observer";
  const resources = gcpResources(
    plan("gcp", { fns: [alertIntake, alertDiagnosis], gcpProject: project, env: "emulator" }),
  );

  beforeAll(async () => {
    emulator = await startPubsubEmulator();
    const databaseUrl = await freshPostgresUrl();
    if (!databaseUrl) throw new Error("needs PostgreSQL (test/setup/global.ts starts one)");
    api = emulator.api(project);
    topic = resources.topic;
    await api.createTopic(topic);
    // The test's own view of the topic: every event any function publishes.
    await api.createSubscription(observer, topic);
    eventarc = await startEventarcStandIn();
    // An Eventarc Pub/Sub trigger is a push subscription on its transport topic.
    for (const t of resources.triggers) {
      expect(t.filter).toBe("type=google.cloud.pubsub.topic.v1.messagePublished");
      await api.createSubscription(
        `eventarc-${t.region}-${t.name}-sub`,
        t.topic,
        eventarc.endpoint(t.service),
      );
    }
    const started = await Promise.all(
      resources.functions.map((f) =>
        serveFunction(f.target, {
          ...f.env,
          // Set by the plan as a secret, by Cloud Run, and by the emulator's environment.
          DATABASE_URL: databaseUrl,
          K_SERVICE: f.service,
          GOOGLE_CLOUD_PROJECT: project,
          PROPHET_SINK: "pubsub",
          PUBSUB_EMULATOR_HOST: emulator!.host,
          LOG_LEVEL: "warn",
        }).then((s) => {
          served.push(s); // stopped in afterAll even if the other one fails to start
          return s;
        }),
      ),
    );
    for (const [i, f] of resources.functions.entries())
      eventarc.route(f.service, started[i]!.url, api.topicPath(topic));
    intake = started.find((s) => s.name === alertIntake.name)!;
  }, 60_000);

  afterAll(async () => {
    await Promise.all(served.map((s) => s.stop()));
    await eventarc?.close();
    await emulator?.stop();
  });

  /** What the observer subscription received and the test has not looked at yet. */
  const inbox: PulledMessage[] = [];

  /** Takes `n` messages of `type` from the observer subscription, pulling at most 50 times. */
  async function take(type: string, n: number): Promise<PulledMessage[]> {
    const ofType = () => inbox.filter((m) => typeOf(m) === type);
    for (let i = 0; i < 50 && ofType().length < n; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      inbox.push(...(await api.pullNow(observer)));
    }
    const got = ofType();
    if (got.length < n) throw new Error(`expected ${n} × ${type} on the topic, got ${got.length}`);
    const taken = got.slice(0, n);
    for (const m of taken) inbox.splice(inbox.indexOf(m), 1);
    return taken;
  }

  const acked = (d: Delivery) => d.status >= 200 && d.status < 300;
  const answered = (ds: Delivery[], service: string, messageId: string) =>
    ds.some((d) => d.target === service && d.messageId === messageId && acked(d));

  let opened: PulledMessage[] = [];

  it("the gcp plan wires both functions to one topic through Eventarc triggers", () => {
    expect(resources.functions.map((f) => f.target)).toEqual(["alert-intake", "alert-diagnosis"]);
    expect(resources.triggers.map((t) => t.service)).toEqual([
      "prophet-alert-intake",
      "prophet-alert-diagnosis",
    ]);
    for (const f of resources.functions) expect(f.env.PUBSUB_TOPIC).toBe(topic);
    for (const t of resources.triggers) expect(t.topic).toBe(topic);
  });

  it("a webhook to alert-intake flows through Pub/Sub and Eventarc to alert-diagnosis, and back to the topic", async () => {
    const res = await fetch(`${intake.url}alertmanager`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: sampleText(webhook),
    });
    const reply = (await res.json()) as { results: Array<{ status: string; emitted: number }> };
    expect(res.status, JSON.stringify(reply)).toBe(200);
    expect(reply.results.map((r) => [r.status, r.emitted])).toEqual([
      ["handled", 1],
      ["handled", 1],
    ]);

    // alert-intake replied after publishing: both incident.opened are on the topic now.
    const alerts = fanOutAlertmanagerWebhook(sample(webhook), { receivedAt: new Date() });
    const bySubject = (m: PulledMessage) => m.message.attributes?.["ce-subject"] ?? "";
    opened = (await take(incidentOpened, 2)).sort((a, b) => bySubject(a).localeCompare(bySubject(b)));
    const intakeSource = functionSource(alertIntake.name);
    expect(opened.map((m) => m.message.attributes)).toEqual(
      [...alerts]
        .sort((a, b) => (a.subject ?? "").localeCompare(b.subject ?? ""))
        .map((a) =>
          expect.objectContaining({
            "ce-specversion": "1.0",
            "ce-type": incidentOpened,
            "ce-source": intakeSource,
            "ce-id": deriveEventId(intakeSource, a.source, a.id, incidentOpened, ""),
            // The alerts' `cluster` label, carried as the CloudEvents extension attribute.
            "ce-cluster": "prod-eu",
            "ce-subject": a.subject,
          }),
        ),
    );

    // Eventarc pushes each to alert-diagnosis, which diagnoses and publishes (no cluster is
    // configured, so the diagnosis says Unavailable: the event flow is what is under test).
    const diagnosis = resources.functions.find((f) => f.target === alertDiagnosis.name)!.service;
    await eventarc!.until("alert-diagnosis handled both incidents", (ds) =>
      opened.every((m) => answered(ds, diagnosis, m.message.messageId)),
    );
    const first = eventarc!.deliveries.filter(
      (d) => d.target === diagnosis && d.attributes["ce-type"] === incidentOpened,
    );
    expect(first.map((d) => [d.status, JSON.parse(d.reply)])).toEqual(
      first.map(() => [
        200,
        expect.objectContaining({ results: [expect.objectContaining({ status: "handled", emitted: 1 })] }),
      ]),
    );
    const diagnoses = await take(diagnosisCompleted, 2);
    const diagnosisSource = functionSource(alertDiagnosis.name);
    for (const m of diagnoses)
      expect(m.message.attributes).toMatchObject({
        "ce-type": diagnosisCompleted,
        "ce-source": diagnosisSource,
        "ce-cluster": "prod-eu",
      });
    // Each id is derived from its cause's source and id, so a replay yields the same ids.
    const ids = (ms: PulledMessage[]) => ms.map((m) => m.message.attributes?.["ce-id"]).sort();
    expect(ids(diagnoses)).toEqual(
      opened
        .map((m) => m.message.attributes!)
        .map((o) => deriveEventId(diagnosisSource, o["ce-source"]!, o["ce-id"]!, diagnosisCompleted, ""))
        .sort(),
    );
    for (const m of diagnoses) {
      const data = JSON.parse(Buffer.from(m.message.data ?? "", "base64").toString("utf8")) as Record<
        string,
        unknown
      >;
      expect(JSON.stringify(data)).toMatch(/No Kubernetes cluster is configured for prod-eu/);
    }

    // Every trigger gets every message on the topic (Eventarc cannot filter on ce-type): the ones
    // a function does not take are acknowledged, not rejected into endless redelivery.
    const all = [...opened, ...diagnoses].map((m) => m.message.messageId);
    await eventarc!.until("every function acknowledged every message on the topic", (ds) =>
      resources.functions.every((f) => all.every((id) => answered(ds, f.service, id))),
    );
    expect(eventarc!.deliveries.filter((d) => !acked(d))).toEqual([]);
    const foreign = eventarc!.deliveries.find(
      (d) => d.target === intakeService && d.attributes["ce-type"] === diagnosisCompleted,
    )!;
    expect(JSON.parse(foreign.reply)).toEqual({
      accepted: 1,
      results: [],
      ignored: [{ id: foreign.attributes["ce-id"], type: diagnosisCompleted }],
    });
  });

  it("outside a topic delivery, a type the function does not take is still refused (400)", async () => {
    expect(opened).toHaveLength(2);
    // incident.opened posted straight to alert-intake in binary mode, as a Knative Trigger would.
    const res = await fetch(intake.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...opened[0]!.message.attributes },
      body: Buffer.from(opened[0]!.message.data ?? "", "base64").toString("utf8"),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "unsupported_type" });
  });

  it("a duplicate of incident.opened (republished, or pushed again) produces no second diagnosis", async () => {
    expect(opened).toHaveLength(2);
    const diagnosis = resources.functions.find((f) => f.target === alertDiagnosis.name)!.service;
    const original = opened[0]!.message;

    // The same message pushed again with its messageId (Pub/Sub's at-least-once delivery).
    const firstPush = eventarc!.deliveries.find(
      (d) => d.target === diagnosis && d.messageId === original.messageId,
    )!;
    const again = await eventarc!.redeliver(firstPush);
    expect(again.status).toBe(200);
    expect(JSON.parse(again.reply)).toMatchObject({ results: [{ status: "duplicate", emitted: 0 }] });

    // The same CloudEvent published again (a publisher's retry): a new messageId, the same ce-id.
    const [republished] = await api.publish(topic, [
      { ...(original.data ? { data: original.data } : {}), attributes: original.attributes ?? {} },
    ]);
    await eventarc!.until("both functions answered the republished incident", (ds) =>
      resources.functions.every((f) => answered(ds, f.service, republished!)),
    );
    const push = eventarc!.deliveries.find((d) => d.target === diagnosis && d.messageId === republished)!;
    expect(JSON.parse(push.reply)).toMatchObject({ results: [{ status: "duplicate", emitted: 0 }] });

    // Replies come after publishing, so the topic already holds anything the duplicates caused.
    inbox.push(...(await api.pullNow(observer)));
    expect(inbox.map((m) => [typeOf(m), m.message.messageId])).toEqual([[incidentOpened, republished]]);
  });
});
