import { describe, expect, it } from "vitest";
import { catalog, findEventDefinition, validateEvent } from "../../shared/events/catalog.js";
import { parseEnvelope } from "../../shared/events/envelope.js";
import { normalizeInboundEvent } from "../../shared/events/edge/http.js";
import { sample, sampleFiles } from "../support/samples.js";

describe("event catalog", () => {
  it("names every emitted type io.prophet.<domain>.<what>", () => {
    for (const def of catalog.filter((d) => d.direction === "emitted")) {
      expect(def.type).toMatch(/^io\.prophet\.[a-z]+(\.[a-z_]+)+$/);
    }
  });

  it("has a sample under events/catalog/ for every type, and every sample validates", () => {
    const files = new Set(sampleFiles("catalog"));
    for (const def of catalog) {
      expect(files.has(`${def.type}.json`), `missing events/catalog/${def.type}.json`).toBe(true);
      const event = parseEnvelope(sample(`catalog/${def.type}.json`));
      expect(event.type).toBe(def.type);
      expect(() => validateEvent(event)).not.toThrow();
    }
    for (const f of files)
      expect(findEventDefinition(f.replace(/\.json$/, "")), `${f} has no catalog entry`).toBeDefined();
  });

  it("rejects data that fails its schema, naming the field", () => {
    const event = parseEnvelope(sample("catalog/io.prophet.alert.firing.json"));
    const broken = { ...event, data: { ...(event.data as object), fingerprint: 42 } };
    expect(() => validateEvent(broken)).toThrowError(/data\.fingerprint/);
  });

  it("rejects an unknown type", () => {
    const event = parseEnvelope({
      specversion: "1.0",
      id: "1",
      source: "/x",
      type: "com.example.nope",
      data: {},
    });
    expect(() => validateEvent(event)).toThrowError(/unknown event type "com.example.nope"/);
  });

  it("translates a Knative PingSource tick into io.prophet.schedule.tick", () => {
    const ping = parseEnvelope(sample("catalog/dev.knative.sources.ping.json"));
    const tick = normalizeInboundEvent(ping, { now: new Date() });
    expect(tick.type).toBe("io.prophet.schedule.tick");
    expect(tick.data).toMatchObject({ schedule: "audit-verify", scheduledTime: "2026-11-22T10:15:00.013Z" });
  });

  it("translates ApiServerSource resource and ref events into io.prophet.cluster.resource.changed", () => {
    const upd = normalizeInboundEvent(
      parseEnvelope(sample("catalog/dev.knative.apiserver.resource.update.json")),
      { now: new Date() },
    );
    expect(upd.type).toBe("io.prophet.cluster.resource.changed");
    expect(upd.data).toMatchObject({
      change: "update",
      ref: { kind: "Deployment", namespace: "shop", name: "cart" },
    });
    const del = normalizeInboundEvent(
      parseEnvelope(sample("catalog/dev.knative.apiserver.ref.delete.json")),
      { now: new Date() },
    );
    expect(del.data).toMatchObject({
      change: "delete",
      ref: { kind: "Pod", name: "cart-7d9f8b6c5-x2kqp" },
      object: null,
    });
    expect(del.subject).toBe("/api/v1/namespaces/shop/pods/cart-7d9f8b6c5-x2kqp");
  });

  it("rejects a CloudEvent without source, naming the attribute", () => {
    expect(() =>
      parseEnvelope({ specversion: "1.0", id: "1", type: "io.prophet.schedule.tick" }),
    ).toThrowError(/source/);
  });
});
