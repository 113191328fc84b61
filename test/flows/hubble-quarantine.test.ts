// hubble-quarantine through the invocation pipeline on PGlite: batches of exporter lines learn the
// service map; after the learning period an unknown egress and a scan from one pod are announced
// (io.prophet.flow.anomaly, audited) and raise the ProphetFlowAnomaly alert whose remediation is
// quarantine_pod, needing approval; bad lines are counted, a bad batch is refused; a duplicate
// delivery repeats nothing; a cold instance reads the learned map back from the store.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hubbleQuarantine } from "../../functions/hubble-quarantine/index.js";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import type { AlertEventData } from "../../shared/events/schemas/alert.js";
import type { FlowAnomalyData, QuarantineData } from "../../shared/events/schemas/flows.js";
import { forgetWarmAnalyzers } from "../../shared/flows/run.js";
import type { FlowSettings } from "../../shared/flows/settings.js";
import { invokeFunction } from "../../shared/invocation/invoke.js";
import { SimulatedClock } from "../../shared/ports/clock.js";
import { CollectingSink } from "../../shared/ports/sink.js";
import type { Store } from "../../shared/ports/store.js";
import { listAudit } from "../../shared/store/audit.js";
import { sample } from "../support/samples.js";
import { freshPgliteStore, testDeps } from "../support/stores.js";

let store: Store;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ store, cleanup } = await freshPgliteStore());
});
afterAll(() => cleanup());

const settings: FlowSettings = {
  learningMs: 10 * 60_000,
  quarantine: "propose",
  quarantineScore: 0.8,
  quarantineTtl: "4h",
};
const T0 = Date.parse("2026-11-22T08:00:00Z");

interface Pod {
  ns: string;
  app: string;
  pod: string;
  ip: string;
}
const web: Pod = { ns: "shop", app: "web", pod: "web-6d4f9c7b8-abcde", ip: "10.244.1.10" };
const cart: Pod = { ns: "shop", app: "cart", pod: "cart-7d9f8b6c5-x2kqp", ip: "10.244.1.20" };
const db: Pod = { ns: "data", app: "postgres", pod: "postgres-0", ip: "10.244.2.30" };

function endpoint(p: Pod) {
  return {
    ID: 100,
    identity: 1000 + p.app.length,
    namespace: p.ns,
    labels: [`k8s:app=${p.app}`, `k8s:io.kubernetes.pod.namespace=${p.ns}`],
    pod_name: p.pod,
  };
}

/** One exporter line: a TCP SYN from a pod to a pod or an external address. */
function line(ms: number, from: Pod, to: Pod | { ip: string }, port: number): string {
  const dst = "pod" in to ? endpoint(to) : { identity: 2, labels: ["reserved:world"] };
  return JSON.stringify({
    flow: {
      time: new Date(ms).toISOString(),
      verdict: "FORWARDED",
      IP: { source: from.ip, destination: to.ip, ipVersion: "IPv4" },
      l4: { TCP: { source_port: 40000 + (ms % 20000), destination_port: port, flags: { SYN: true } } },
      source: endpoint(from),
      destination: dst,
      Type: "L3_L4",
      node_name: "node-1",
      traffic_direction: "EGRESS",
    },
    node_name: "node-1",
    time: new Date(ms).toISOString(),
  });
}

let seq = 0;
function batch(lines: string[], id = `batch-${++seq}`): ProphetEvent {
  return {
    specversion: "1.0",
    id,
    source: "/hubble/exporter/node-1",
    type: "io.prophet.flows.batch",
    time: new Date(T0).toISOString(),
    datacontenttype: "application/json",
    cluster: "test",
    data: { cluster: "test", node: "node-1", lines: lines.join("\n") + "\n" },
  };
}

/** Normal traffic: web → cart:8080 and cart → postgres:5432, every 5 s for `minutes`. */
function normal(fromMs: number, minutes: number): string[] {
  const out: string[] = [];
  for (let t = fromMs; t < fromMs + minutes * 60_000; t += 5_000)
    out.push(line(t, web, cart, 8080), line(t + 1, cart, db, 5432));
  return out;
}

async function run(event: ProphetEvent, clock: SimulatedClock) {
  const sink = new CollectingSink();
  const out = await invokeFunction(hubbleQuarantine, event, {
    deps: { ...testDeps(store, clock), flows: settings },
    sink,
  });
  return { out, events: sink.events };
}

describe("hubble-quarantine", () => {
  const clock = new SimulatedClock(new Date(T0 + 20 * 60_000).toISOString());

  it("learns, then announces unknown egress and a scan from one pod and asks for its quarantine", async () => {
    const learn = await run(batch(normal(T0, 15)), clock);
    expect(learn.out.status).toBe("handled");
    expect(learn.events).toEqual([]);

    // After learning: the usual traffic, plus cart dialling out on 4444 and sweeping the subnet.
    const t = T0 + 16 * 60_000;
    const attack = [...normal(t, 1), line(t + 100, cart, { ip: "203.0.113.7" }, 4444)];
    for (let i = 0; i < 200; i++)
      attack.push(line(t + 200 + i * 10, cart, { ...db, ip: `10.244.3.${i}`, pod: `x-${i}` }, 22));
    const { events } = await run(batch(attack, "attack-1"), clock);
    const anomalies = events.filter((e) => e.type === "io.prophet.flow.anomaly");
    const detectors = anomalies.map((e) => (e.data as FlowAnomalyData).detector);
    expect(detectors).toContain("new-egress");
    expect(detectors).toContain("scan");
    const egress = anomalies.find((e) => (e.data as FlowAnomalyData).detector === "new-egress")!
      .data as FlowAnomalyData;
    expect(egress).toMatchObject({ identity: "shop/cart", namespace: "shop", pod: cart.pod });
    expect(egress.message).toContain("203.0.113");
    expect(egress.evidence.some((f) => f.port === 4444 && f.destination.startsWith("203.0.113.7"))).toBe(
      true,
    );
    expect(anomalies.every((e) => (e.data as FlowAnomalyData).identity === "shop/cart")).toBe(true);

    const alerts = events.filter((e) => e.type === "io.prophet.alert.firing");
    expect(alerts.length).toBeGreaterThan(0);
    const alert = alerts[0]!.data as AlertEventData;
    expect(alert.labels).toMatchObject({
      alertname: "ProphetFlowAnomaly",
      namespace: "shop",
      pod: cart.pod,
      prophet_remediation: "quarantine_pod",
      prophet_require_approval: "true",
      prophet_quarantine_ttl: "4h",
    });
    expect(alert.target).toMatchObject({ namespace: "shop", kind: "Pod", name: cart.pod });

    const audit = await listAudit(store, { limit: 100 });
    expect(audit.filter((r) => r.action === "flow.anomaly").length).toBe(anomalies.length);

    // The same batch delivered again: nothing repeats.
    const again = await run(batch(attack, "attack-1"), clock);
    expect(again.events).toEqual([]);
  });

  it("counts bad lines and analyses the rest; refuses a batch that is not one", async () => {
    const good = normal(T0 + 17 * 60_000, 1);
    const { out } = await run(batch([good[0]!, "{not json", '{"flow":{"verdict":"NOPE"}}', good[1]!]), clock);
    expect(out.status).toBe("handled");
    // The edge answers this with 400 and the reason.
    await expect(run({ ...batch([]), id: "empty", data: { cluster: "test" } }, clock)).rejects.toThrow(
      /needs lines \(JSONL text\) or flows/,
    );
  });

  it("a cold instance reads the learned map from the store and judges at once", async () => {
    forgetWarmAnalyzers(store);
    const { rows } = await store.query<{ n: number }>("SELECT count(*)::int AS n FROM flow_baselines");
    expect(rows[0]!.n).toBe(1);
    const t = T0 + 18 * 60_000;
    const { events } = await run(
      batch([...normal(t, 1), line(t + 50, web, { ip: "198.51.100.9" }, 6667)]),
      clock,
    );
    const d = events.map((e) => e.data as FlowAnomalyData).find((x) => x.detector === "new-egress");
    expect(d).toMatchObject({ identity: "shop/web", pod: web.pod });
  });

  it("reports a quarantine applied by the remediation", async () => {
    const executed = sample("catalog/io.prophet.remediation.executed.json") as ProphetEvent;
    const event = {
      ...executed,
      id: "rem-exec-q1",
      data: {
        ...(executed.data as Record<string, unknown>),
        action: "quarantine_pod",
        target: { kind: "Pod", namespace: "shop", name: cart.pod },
        params: {},
        changes: ["Pod shop/cart-7d9f8b6c5-x2kqp labelled aiops.prophet.io/quarantine=true"],
      },
    };
    const { events } = await run(event, clock);
    expect(events.map((e) => e.type)).toEqual(["io.prophet.quarantine.applied"]);
    expect(events[0]!.data as QuarantineData).toMatchObject({ namespace: "shop", pod: cart.pod });
  });
});
