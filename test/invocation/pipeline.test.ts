// One event in one function: what happens on success, duplicate delivery, handler failure and
// sink outage. The rule under test: a crash never eats an accepted event, and nothing runs twice.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertIntake } from "../../functions/alert-intake/index.js";
import { parseEnvelope, type ProphetEvent } from "../../shared/events/envelope.js";
import { ProphetError } from "../../shared/errors.js";
import { defineFunction } from "../../shared/function.js";
import { invokeFunction } from "../../shared/invocation/invoke.js";
import { CollectingSink, type EventSink } from "../../shared/ports/sink.js";
import type { Store } from "../../shared/ports/store.js";
import { verifyAudit } from "../../shared/store/audit.js";
import { listIncidents } from "../../shared/store/incidents.js";
import { sample } from "../support/samples.js";
import { freshPostgresStore, testDeps } from "../support/stores.js";

let store: Store;
beforeAll(async () => {
  const s = await freshPostgresStore();
  if (!s) throw new Error("these tests need PostgreSQL (see test/setup)");
  store = s;
});
afterAll(() => store?.close());

const firing = () => parseEnvelope(sample("catalog/io.prophet.alert.firing.json"));

describe("invoking a function", () => {
  it("handles an alert once: an incident, an audit row, one incident.opened", async () => {
    const sink = new CollectingSink();
    const out = await invokeFunction(alertIntake, firing(), { deps: testDeps(store), sink });
    expect(out.status).toBe("handled");
    expect(sink.events.map((e) => e.type)).toEqual(["io.prophet.incident.opened"]);
    expect(sink.events[0]?.cluster).toBe("prod-eu");
    const again = await invokeFunction(alertIntake, firing(), { deps: testDeps(store), sink });
    expect(again.status).toBe("duplicate");
    expect(sink.events).toHaveLength(1);
    expect(await listIncidents(store)).toHaveLength(1);
    expect(await verifyAudit(store)).toMatchObject({ ok: true, rows: 1 });
  });

  it("leaves a failed event retryable, and the retry runs the handler again", async () => {
    let calls = 0;
    const flaky = defineFunction({
      name: "flaky",
      description: "fails once",
      accepts: ["io.prophet.schedule.tick"],
      emits: [],
      async handle() {
        calls++;
        if (calls === 1) throw new Error("database hiccup");
        return [];
      },
    });
    const tick = parseEnvelope(sample("catalog/io.prophet.schedule.tick.json"));
    const ctx = { deps: testDeps(store), sink: new CollectingSink() };
    const err = await invokeFunction(flaky, tick, ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProphetError);
    expect((err as ProphetError).retryable).toBe(true);
    expect((err as ProphetError).message).toMatch(/database hiccup/);
    expect((await invokeFunction(flaky, tick, ctx)).status).toBe("handled");
    expect(calls).toBe(2);
  });

  it("keeps emitted events when the sink is down and resends them without re-running the handler", async () => {
    let handled = 0;
    const counting = defineFunction({
      ...alertIntake,
      name: "alert-intake-counting",
      async handle(e, d) {
        handled++;
        return alertIntake.handle(e, d);
      },
    });
    const event: ProphetEvent = {
      ...firing(),
      id: "b-1",
      data: { ...(firing().data as object), fingerprint: "b1", startsAt: "2026-11-22T11:00:00Z" },
    };
    let down = true;
    const delivered: ProphetEvent[] = [];
    const sink: EventSink = {
      name: "flaky-sink",
      async send(events) {
        if (down) throw new Error("broker unavailable");
        delivered.push(...events);
      },
    };
    const deps = testDeps(store);
    const err = await invokeFunction(counting, event, { deps, sink }).catch((e: unknown) => e);
    expect((err as ProphetError).code).toBe("delivery_failed");
    down = false;
    const retry = await invokeFunction(counting, event, { deps, sink });
    expect(retry.status).toBe("redelivered");
    expect(handled).toBe(1);
    expect(delivered.map((e) => e.type)).toEqual(["io.prophet.incident.opened"]);
    expect((await invokeFunction(counting, event, { deps, sink })).status).toBe("duplicate");
  });

  it("rejects a type the function does not accept with a 400", async () => {
    const tick = parseEnvelope(sample("catalog/io.prophet.schedule.tick.json"));
    const err = (await invokeFunction(alertIntake, tick, {
      deps: testDeps(store),
      sink: new CollectingSink(),
    }).catch((e: unknown) => e)) as ProphetError;
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/does not accept io.prophet.schedule.tick/);
  });

  it("fails a handler that emits a type it did not declare, and leaves the event retryable", async () => {
    const liar = defineFunction({
      name: "liar",
      description: "emits undeclared",
      accepts: ["io.prophet.schedule.tick"],
      emits: [],
      async handle(e) {
        return [{ ...e, id: "x" }];
      },
    });
    const tick = parseEnvelope(sample("catalog/io.prophet.schedule.tick.json"));
    const err = (await invokeFunction(liar, tick, {
      deps: testDeps(store),
      sink: new CollectingSink(),
    }).catch((e: unknown) => e)) as ProphetError;
    expect(err.code).toBe("handler_failed");
    expect(err.message).toMatch(/undeclared type/);
  });

  it("derives emitted ids from the cause, so a re-run emits the same ids", async () => {
    const a = await alertIntake.handle(
      {
        ...firing(),
        id: "same",
        data: { ...(firing().data as object), fingerprint: "c1", startsAt: "2026-11-22T12:00:00Z" },
      },
      testDeps(store),
    );
    expect(a).toHaveLength(1);
    const { makeEvent } = await import("../../shared/events/emit.js");
    const { IncidentOpened } = await import("../../shared/events/catalog.js");
    const again = makeEvent(IncidentOpened, a[0]?.data as never, {
      cause: { ...firing(), id: "same" },
      source: "/prophet/functions/alert-intake",
      time: new Date(),
    });
    expect(again.id).toBe(a[0]?.id);
  });
});
