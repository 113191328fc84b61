import { describe, expect, it } from "vitest";
import { fanOutAlertmanagerWebhook } from "../../shared/events/edge/alertmanager.js";
import { eventsFromHttp } from "../../shared/events/edge/http.js";
import { ProphetError } from "../../shared/errors.js";
import { sample, sampleText } from "../support/samples.js";

const now = new Date("2026-11-22T09:14:05Z");

describe("Alertmanager webhook v4 edge", () => {
  it("fans a webhook out into one io.prophet.alert.firing per alert, id = fingerprint + startsAt", () => {
    const events = fanOutAlertmanagerWebhook(sample("alertmanager/webhook-v4-kube-pod-crashlooping.json"), {
      receivedAt: now,
    });
    expect(events.map((e) => [e.type, e.id])).toEqual([
      ["io.prophet.alert.firing", "5f3c1a9e07b2d4c8-2026-11-22T09:14:03.512Z"],
      ["io.prophet.alert.firing", "a81b44f0c3e9d217-2026-11-22T09:15:41.007Z"],
    ]);
    expect(events[0]?.subject).toBe("KubePodCrashLooping shop/Pod/cart-7d9f8b6c5-x2kqp");
    expect(events[0]?.cluster).toBe("prod-eu");
    expect(events[0]?.source).toBe("http://alertmanager.monitoring.svc:9093/alertmanager");
    expect(events[0]?.data).toMatchObject({
      severity: "warning",
      endsAt: null,
      target: { namespace: "shop", kind: "Pod" },
    });
  });

  it("gives the resolution of an alert its own id, distinct from the firing one", () => {
    const [resolved] = fanOutAlertmanagerWebhook(
      sample("alertmanager/webhook-v4-kube-pod-crashlooping-resolved.json"),
      { receivedAt: now },
    );
    expect(resolved?.type).toBe("io.prophet.alert.resolved");
    expect(resolved?.id).toBe("5f3c1a9e07b2d4c8-2026-11-22T09:14:03.512Z-resolved");
    expect(resolved?.time).toBe("2026-11-22T09:31:03.512Z");
  });

  it("reads the upstream sample payload (no Kubernetes labels): subject falls back to the instance", () => {
    const [e] = fanOutAlertmanagerWebhook(sample("alertmanager/webhook-v4-probe-failure.json"), {
      receivedAt: now,
      cluster: "edge",
    });
    expect(e?.subject).toBe("ProbeFailure https://server.example.org");
    expect(e?.cluster).toBe("edge");
  });

  it("answers malformed JSON with a bad_request naming the problem", () => {
    try {
      eventsFromHttp({ method: "POST", path: "/alertmanager", headers: {}, body: '{"nonsense":' }, { now });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ProphetError);
      expect((err as ProphetError).status).toBe(400);
      expect((err as ProphetError).message).toMatch(/not valid JSON/);
    }
  });

  it("rejects a webhook whose alert lacks a fingerprint, with the path of the field", () => {
    const hook = sample<{ alerts: Array<Record<string, unknown>> }>(
      "alertmanager/webhook-v4-kube-pod-crashlooping.json",
    );
    delete hook.alerts[1]?.fingerprint;
    expect(() =>
      eventsFromHttp(
        { method: "POST", path: "/alertmanager", headers: {}, body: JSON.stringify(hook) },
        { now },
      ),
    ).toThrowError(/alerts\.1\.fingerprint/);
  });

  it("decodes CloudEvents in binary mode with the cloudevents SDK, keeping the cluster extension", () => {
    const msg = sample<{ headers: Record<string, string>; body: unknown }>(
      "platform/knative/broker-binary-alert-firing.json",
    );
    const [e] = eventsFromHttp(
      { method: "POST", path: "/", headers: msg.headers, body: JSON.stringify(msg.body) },
      { now },
    );
    expect(e).toMatchObject({
      type: "io.prophet.alert.firing",
      id: "5f3c1a9e07b2d4c8-2026-11-22T09:14:03.512Z",
      cluster: "prod-eu",
    });
  });

  it("decodes structured mode and batches", () => {
    const one = sampleText("catalog/io.prophet.schedule.tick.json");
    const [s] = eventsFromHttp(
      { method: "POST", path: "/", headers: { "content-type": "application/cloudevents+json" }, body: one },
      { now },
    );
    expect(s?.type).toBe("io.prophet.schedule.tick");
    const batch = `[${one},${sampleText("catalog/io.prophet.incident.opened.json")}]`;
    const both = eventsFromHttp(
      {
        method: "POST",
        path: "/",
        headers: { "content-type": "application/cloudevents-batch+json" },
        body: batch,
      },
      { now },
    );
    expect(both.map((e) => e.type)).toEqual(["io.prophet.schedule.tick", "io.prophet.incident.opened"]);
  });

  it("refuses a plain JSON body that is neither a CloudEvent nor a webhook", () => {
    expect(() =>
      eventsFromHttp(
        { method: "POST", path: "/", headers: { "content-type": "application/json" }, body: '{"a":1}' },
        { now },
      ),
    ).toThrowError(/not a CloudEvent/);
  });
});
