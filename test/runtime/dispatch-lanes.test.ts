// One Alertmanager webhook carries alerts of several incidents: the alerts of one incident group run
// in the order they came (a firing and its resolution, two alerts racing to open one incident),
// while other groups' alerts run beside them, so a new incident's first alert does not wait for
// every alert ahead of it in the webhook. Other events keep the delivery's order.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dispatchEvents } from "../../infra/runtime/http.js";
import { AlertFiring, ScheduleTick } from "../../shared/events/catalog.js";
import { fanOutAlertmanagerWebhook } from "../../shared/events/edge/alertmanager.js";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import { defineFunction } from "../../shared/function.js";
import { orderingKey } from "../../shared/invocation/ordering.js";
import { CollectingSink } from "../../shared/ports/sink.js";
import type { Store } from "../../shared/ports/store.js";
import { freshPgliteStore, testDeps } from "../support/stores.js";

const alert = (pod: string, n: number) => ({
  status: "firing",
  labels: { alertname: "KubePodCrashLooping", namespace: "shop", pod, container: "app", severity: "warning" },
  annotations: { summary: `${pod} crash-looping` },
  startsAt: "2026-11-22T09:10:00Z",
  endsAt: "0001-01-01T00:00:00Z",
  generatorURL: "http://prometheus:9090/graph",
  fingerprint: `00000000000000${n.toString(16).padStart(2, "0")}`,
});
const webhook = (alerts: ReturnType<typeof alert>[]) => ({
  receiver: "prophet",
  status: "firing",
  version: "4",
  groupKey: '{}:{alertname="KubePodCrashLooping"}',
  truncatedAlerts: 0,
  externalURL: "http://alertmanager:9093",
  groupLabels: { alertname: "KubePodCrashLooping" },
  commonLabels: {},
  commonAnnotations: {},
  alerts,
});

let store: Store;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ store, cleanup } = await freshPgliteStore());
});
afterAll(async () => cleanup());

describe("dispatch lanes", () => {
  it("names the incident group as the lane of an alert, and none for other events", () => {
    const [a, b, c] = fanOutAlertmanagerWebhook(
      webhook([
        alert("cart-7d9f8b6c5-x2x4q", 1),
        alert("cart-7d9f8b6c5-b7kzp", 2),
        alert("web-5c4d9f7b8-t6xhn", 3),
      ]),
      { receivedAt: new Date("2026-11-22T09:14:05Z") },
    );
    expect(orderingKey(a!, "test")).toBe(orderingKey(b!, "test"));
    expect(orderingKey(a!, "test")).not.toBe(orderingKey(c!, "test"));
    expect(orderingKey(a!, "test")).toContain("workload=cart");
    // Another cluster's alert about a workload of the same name is another incident.
    expect(orderingKey({ ...a!, cluster: "eu-1" }, "test")).not.toBe(orderingKey(a!, "test"));
    // Unvalidated data without labels keeps delivery order (the invocation rejects it with a reason).
    expect(orderingKey({ ...a!, data: { nope: true } }, "test")).toBeUndefined();
    const tick = { ...a!, type: ScheduleTick.type, data: {} } as ProphetEvent;
    expect(orderingKey(tick, "test")).toBeUndefined();
  });

  it("runs one group's alerts in order and another group's beside them", async () => {
    const events = fanOutAlertmanagerWebhook(
      webhook([
        alert("cart-7d9f8b6c5-x2x4q", 1),
        alert("cart-7d9f8b6c5-b7kzp", 2),
        alert("web-5c4d9f7b8-t6xhn", 3),
        alert("cart-7d9f8b6c5-m9wq2", 4),
      ]),
      { receivedAt: new Date("2026-11-22T09:14:05Z") },
    );
    const log: string[] = [];
    let webStarted: () => void = () => undefined;
    const webSeen = new Promise<void>((r) => (webStarted = r));
    const recorder = defineFunction({
      name: "lane-recorder",
      description: "records the order it sees alerts in",
      accepts: [AlertFiring.type],
      emits: [],
      async handle(event) {
        const pod = (event.data as { labels: Record<string, string> }).labels.pod!;
        log.push(`start ${pod}`);
        if (pod === "web-5c4d9f7b8-t6xhn") webStarted();
        // The first cart alert waits for the web alert to start: only possible if the web alert
        // does not queue behind it. Bounded, so a regression fails instead of hanging.
        if (pod === "cart-7d9f8b6c5-x2x4q")
          await Promise.race([webSeen, new Promise((r) => setTimeout(r, 2000))]);
        log.push(`end ${pod}`);
        return [];
      },
    });
    const results = await dispatchEvents(events, () => [recorder], {
      deps: testDeps(store),
      sink: new CollectingSink(),
    });
    // The web alert ran while the first cart alert was in flight.
    expect(log.indexOf("start web-5c4d9f7b8-t6xhn")).toBeLessThan(log.indexOf("end cart-7d9f8b6c5-x2x4q"));
    // The cart alerts ran one after another, in the webhook's order.
    const cart = log.filter((l) => l.includes("cart-7d9f8b6c5"));
    expect(cart).toEqual([
      "start cart-7d9f8b6c5-x2x4q",
      "end cart-7d9f8b6c5-x2x4q",
      "start cart-7d9f8b6c5-b7kzp",
      "end cart-7d9f8b6c5-b7kzp",
      "start cart-7d9f8b6c5-m9wq2",
      "end cart-7d9f8b6c5-m9wq2",
    ]);
    // The reply lists the events in the order they came, whatever order they finished in.
    expect(results.map((r) => r.id)).toEqual(events.map((e) => e.id));
    expect(results.every((r) => r.status === "handled")).toBe(true);
  });

  it("reports a failed event after running the others, which a redelivery then finds done", async () => {
    const events = fanOutAlertmanagerWebhook(
      webhook([alert("api-5c4d9f7b8-x2x4q", 11), alert("db-6d5b8c9f4-b7kzp", 12)]),
      {
        receivedAt: new Date("2026-11-22T09:14:05Z"),
      },
    );
    const handled: string[] = [];
    let fail = true;
    const flaky = defineFunction({
      name: "lane-flaky",
      description: "fails on the api alert once",
      accepts: [AlertFiring.type],
      emits: [],
      async handle(event) {
        const pod = (event.data as { labels: Record<string, string> }).labels.pod!;
        if (pod.startsWith("api") && fail) throw new Error("api store down");
        handled.push(pod);
        return [];
      },
    });
    const ctx = { deps: testDeps(store), sink: new CollectingSink() };
    await expect(dispatchEvents(events, () => [flaky], ctx)).rejects.toThrow(/api store down/);
    expect(handled).toEqual(["db-6d5b8c9f4-b7kzp"]);
    fail = false;
    const again = await dispatchEvents(events, () => [flaky], ctx);
    expect(again.map((r) => r.status)).toEqual(["handled", "duplicate"]);
    expect(handled).toEqual(["db-6d5b8c9f4-b7kzp", "api-5c4d9f7b8-x2x4q"]);
  });
});
