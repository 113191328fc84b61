// Alert grouping at intake (issue #4, ADR 0009): the alerts of one incident become one incident.
// A storm after a bad rollout opens one incident per workload (node, …), each announced once,
// resolved once its last alert resolves; repeats and concurrent deliveries change nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertIntake } from "../../functions/alert-intake/index.js";
import { alertSubject, alertTarget } from "../../shared/events/edge/alertmanager.js";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import type { AlertEventData } from "../../shared/events/schemas/alert.js";
import type { IncidentEventData } from "../../shared/events/schemas/incident.js";
import { invokeFunction } from "../../shared/invocation/invoke.js";
import { CollectingSink } from "../../shared/ports/sink.js";
import type { Store } from "../../shared/ports/store.js";
import { verifyAudit } from "../../shared/store/audit.js";
import {
  alertGroupKey,
  getIncident,
  listIncidentAlerts,
  listIncidents,
  podWorkload,
} from "../../shared/store/incidents.js";
import { sample } from "../support/samples.js";
import { freshPgliteStore, freshPostgresStore, testDeps } from "../support/stores.js";

const rollout = new Date("2026-11-22T09:00:00Z");
const minutes = (m: number) => new Date(rollout.getTime() + m * 60_000);
const base = sample<ProphetEvent<AlertEventData>>("catalog/io.prophet.alert.firing.json");

let fp = 0;
/** A unique Alertmanager-style fingerprint per call. */
const nextFingerprint = () => (0x1000 + fp++).toString(16).padStart(16, "0");

/** An alert as the Alertmanager edge delivers it (id = fingerprint + startsAt). */
function alert(
  labels: Record<string, string>,
  startsAt: Date,
  fingerprint = nextFingerprint(),
): ProphetEvent<AlertEventData> {
  const all: Record<string, string> = { severity: "warning", ...labels };
  const target = alertTarget(all);
  return {
    ...base,
    id: `${fingerprint}-${startsAt.toISOString()}`,
    time: startsAt.toISOString(),
    cluster: "prod-eu",
    subject: alertSubject(all.alertname!, target),
    data: {
      ...base.data,
      fingerprint,
      status: "firing",
      alertname: all.alertname!,
      severity: all.severity ?? "warning",
      labels: all,
      annotations: { summary: `${all.alertname} test alert` },
      startsAt: startsAt.toISOString(),
      endsAt: null,
      target,
    },
  };
}

/** The resolution of a firing alert, as the edge delivers it. */
function resolution(firing: ProphetEvent<AlertEventData>, endsAt: Date): ProphetEvent<AlertEventData> {
  return {
    ...firing,
    id: `${firing.id}-resolved`,
    type: "io.prophet.alert.resolved",
    time: endsAt.toISOString(),
    data: { ...firing.data, status: "resolved", endsAt: endsAt.toISOString() },
  };
}

// Pod names as a ReplicaSet generates them: hash and suffix from k8s rand.String's alphabet.
const alphabet = "bcdfghjklmnpqrstvwxz2456789";
const suffix = (i: number) =>
  Array.from({ length: 5 }, (_, k) => alphabet[Math.floor(i / alphabet.length ** k) % alphabet.length]).join(
    "",
  );
const pods = (deployment: string, hash: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${deployment}-${hash}-${suffix(i)}`);

const crashLooping = (pod: string, at: Date) =>
  alert({ alertname: "KubePodCrashLooping", namespace: "shop", pod, container: pod.split("-")[0]! }, at);
const waiting = (pod: string, at: Date) =>
  alert({ alertname: "KubeContainerWaiting", namespace: "shop", pod, container: pod.split("-")[0]! }, at);

/** 150 alerts: a bad rollout of cart and checkout, plus an unrelated StatefulSet and node. */
function storm(): ProphetEvent<AlertEventData>[] {
  const cart = pods("cart", "7d4b9c6f8", 50);
  const checkout = pods("checkout", "5c9d7f4b8", 50);
  const crashes = [...cart, ...checkout].map((p, i) => crashLooping(p, minutes((i % 25) * 0.2)));
  const waits = [...cart.slice(0, 15), ...checkout.slice(0, 15)].map((p, i) =>
    waiting(p, minutes(1 + i * 0.1)),
  );
  const database = [
    ...[0, 1, 2].flatMap((n) =>
      ["KubePodNotReady", "KubeContainerWaiting", "KubePodCrashLooping"].map((alertname) =>
        alert({ alertname, namespace: "data", pod: `postgres-${n}`, container: "postgres" }, minutes(2 + n)),
      ),
    ),
    alert(
      { alertname: "KubeStatefulSetReplicasMismatch", namespace: "data", statefulset: "postgres" },
      minutes(4),
    ),
  ];
  const node = [
    "KubeNodeNotReady",
    "KubeNodeUnreachable",
    "KubeletDown",
    "NodeFilesystemSpaceFillingUp",
    "NodeMemoryHighUtilization",
    "NodeNetworkReceiveErrs",
    "KubeNodeReadinessFlapping",
    "NodeClockNotSynchronising",
    "KubeletPlegDurationHigh",
    "NodeHighNumberConntrackEntriesUsed",
  ].map((alertname, i) =>
    alert(
      { alertname, node: "ip-10-0-1-7", namespace: "monitoring", job: "node-exporter" },
      minutes(3 + i * 0.5),
    ),
  );
  const all = [...crashes, ...waits, ...database, ...node];
  expect(all).toHaveLength(150);
  // Alertmanager sends groups in its own order: interleave so grouping never relies on arrival order.
  return all
    .map((e, i) => ({ e, k: (i * 37) % 151 }))
    .sort((a, b) => a.k - b.k)
    .map((x) => x.e);
}

async function deliver(store: Store, events: ProphetEvent[]): Promise<ProphetEvent<IncidentEventData>[]> {
  const sink = new CollectingSink();
  for (const e of events) await invokeFunction(alertIntake, e, { deps: testDeps(store), sink });
  return sink.events as ProphetEvent<IncidentEventData>[];
}

describe("the group key", () => {
  it("names the workload behind a pod: ReplicaSet, DaemonSet and StatefulSet names stripped", () => {
    expect(podWorkload("cart-7d4b9c-x2x9z")).toBe("cart");
    expect(podWorkload("checkout-jgnxhm2tx9-rd84n")).toBe("checkout");
    expect(podWorkload("web-api-7d9f8b6c5-x2kqp")).toBe("web-api");
    expect(podWorkload("fluent-bit-x2kqp")).toBe("fluent-bit");
    expect(podWorkload("postgres-0")).toBe("postgres");
    expect(podWorkload("backup-29123450-x2kqp")).toBe("backup-29123450");
    expect(podWorkload("api-server")).toBe("api-server");
  });

  it("puts a pod's alerts, its Deployment's, an anomaly's and an SLO burn on it together", () => {
    const key = (labels: Record<string, string>) => alertGroupKey("prod-eu", { labels, fingerprint: "f" });
    const cart = key({ alertname: "KubePodCrashLooping", namespace: "shop", pod: "cart-7d4b9c-x2x9z" });
    expect(cart).toBe("prod-eu|shop|workload=cart");
    // kube-state-metrics' own pod and Service ride on its alerts; the deployment label wins.
    expect(
      key({
        alertname: "KubeDeploymentReplicasMismatch",
        namespace: "shop",
        deployment: "cart",
        pod: "kube-state-metrics-6f7d8b9c4-b2c4d",
        service: "kube-state-metrics",
        job: "kube-state-metrics",
      }),
    ).toBe(cart);
    expect(
      key({ alertname: "ProphetAnomaly", namespace: "shop", pod: "cart-7d4b9c-qq2wz", deployment: "cart" }),
    ).toBe(cart);
    expect(
      key({
        alertname: "CartErrorBudgetBurn",
        sloth_id: "cart-availability",
        namespace: "shop",
        deployment: "cart",
      }),
    ).toBe(cart);
  });

  it("keeps other workloads, SLOs without a workload, nodes and namespaces apart", () => {
    const key = (labels: Record<string, string>) => alertGroupKey("prod-eu", { labels, fingerprint: "f" });
    const keys = [
      key({ alertname: "A", namespace: "shop", pod: "cart-7d4b9c-x2x9z" }),
      key({ alertname: "A", namespace: "shop", pod: "checkout-5c9d7f4b8-m7wq2" }),
      key({ alertname: "A", namespace: "shop2", pod: "cart-7d4b9c-x2x9z" }),
      key({ alertname: "B", sloth_id: "cart-availability", sloth_service: "cart" }),
      key({ alertname: "B", sloth_id: "cart-latency", sloth_service: "cart" }),
      key({ alertname: "C", node: "ip-10-0-1-7", namespace: "monitoring" }),
      key({ alertname: "C", node: "ip-10-0-1-8", namespace: "monitoring" }),
      key({ alertname: "D", namespace: "shop", persistentvolumeclaim: "data-postgres-0" }),
      key({ alertname: "E", namespace: "shop" }),
      key({ alertname: "ProbeFailure", instance: "https://server.example.org" }),
      key({ alertname: "Watchdog" }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    expect(
      alertGroupKey("prod-us", {
        labels: { alertname: "A", namespace: "shop", pod: "cart-7d4b9c-x2x9z" },
        fingerprint: "f",
      }),
    ).not.toBe(keys[0]);
    // The exporter's Service (= its job) is not what the alert is about: such alerts fall back to the namespace.
    expect(
      key({ alertname: "F", namespace: "shop", service: "kube-state-metrics", job: "kube-state-metrics" }),
    ).toBe(key({ alertname: "G", namespace: "shop" }));
  });
});

describe.each([
  ["PGlite", "pglite"],
  ["PostgreSQL", "postgres"],
] as const)("grouping alerts into incidents on %s", (_, kind) => {
  let store: Store;
  let close: () => Promise<void>;
  beforeAll(async () => {
    if (kind === "pglite") {
      const s = await freshPgliteStore();
      store = s.store;
      close = s.cleanup;
    } else {
      const s = await freshPostgresStore();
      if (!s) throw new Error("these tests need PostgreSQL (see test/setup)");
      store = s;
      close = () => s.close();
    }
  }, 60_000);
  afterAll(() => close?.());

  const events = storm();
  let opened: ProphetEvent<IncidentEventData>[] = [];

  it("a storm of 150 alerts opens one incident per workload and node, each announced once", async () => {
    opened = await deliver(store, events);
    expect(opened.map((e) => e.type)).toEqual(Array(4).fill("io.prophet.incident.opened"));
    const incidents = await listIncidents(store);
    expect(incidents).toHaveLength(4);
    expect(new Set(opened.map((e) => e.data.incidentId))).toEqual(new Set(incidents.map((i) => i.id)));
    const byKey = Object.fromEntries(incidents.map((i) => [i.groupKey, i]));
    expect(byKey["prod-eu|shop|workload=cart"]).toMatchObject({
      status: "firing",
      alerts: 65,
      alertnames: ["KubeContainerWaiting", "KubePodCrashLooping"],
    });
    expect(byKey["prod-eu|shop|workload=checkout"]).toMatchObject({ alerts: 65 });
    expect(byKey["prod-eu|data|workload=postgres"]).toMatchObject({
      alerts: 10,
      alertnames: [
        "KubeContainerWaiting",
        "KubePodCrashLooping",
        "KubePodNotReady",
        "KubeStatefulSetReplicasMismatch",
      ],
    });
    expect(byKey["prod-eu||node=ip-10-0-1-7"]).toMatchObject({ alerts: 10 });
    // Each incident keeps the id, alert and target of the alert that opened it.
    for (const e of opened) {
      const i = await getIncident(store, e.data.incidentId);
      expect(i).toMatchObject({
        fingerprint: e.data.fingerprint,
        alertname: e.data.alertname,
        alerts: i!.alerts,
      });
      expect(e.data.alerts).toBe(1);
    }
  });

  it("records every alert in the audit log: four opened, the rest grouped", async () => {
    const { rows } = await store.query<{ change: string; n: number | string }>(
      `SELECT details->>'change' AS change, count(*) AS n FROM audit_log
        WHERE actor = 'function:alert-intake' GROUP BY 1 ORDER BY 1`,
    );
    expect(rows.map((r) => [r.change, Number(r.n)])).toEqual([
      ["grouped", 146],
      ["opened", 4],
    ]);
    expect(await verifyAudit(store)).toMatchObject({ ok: true, rows: 150 });
  });

  it("a duplicate delivery of any alert changes nothing, through the function or straight to the handler", async () => {
    expect(await deliver(store, events.slice(0, 20))).toEqual([]);
    const deps = testDeps(store);
    for (const e of events.slice(0, 40)) expect(await alertIntake.handle(e, deps)).toEqual([]);
    const incidents = await listIncidents(store);
    expect(incidents.map((i) => i.alerts).sort((a, b) => a - b)).toEqual([10, 10, 65, 65]);
  });

  it("joins a later alert on the same workload while the incident is open and the alerts keep coming", async () => {
    const cart = (await listIncidents(store)).find((i) => i.groupKey === "prod-eu|shop|workload=cart")!;
    const late = [
      alert(
        {
          alertname: "KubeDeploymentReplicasMismatch",
          namespace: "shop",
          deployment: "cart",
          pod: "kube-state-metrics-6f7d8b9c4-b2c4d",
        },
        minutes(14),
      ),
      alert(
        {
          alertname: "ProphetAnomaly",
          namespace: "shop",
          deployment: "cart",
          pod: pods("cart", "7d4b9c6f8", 1)[0]!,
        },
        minutes(14.5),
      ),
      alert(
        {
          alertname: "CartErrorBudgetBurn",
          sloth_id: "cart-availability",
          namespace: "shop",
          deployment: "cart",
        },
        minutes(15),
      ),
    ];
    expect(await deliver(store, late)).toEqual([]);
    const after = (await getIncident(store, cart.id))!;
    expect(after.alerts).toBe(68);
    expect(after.alertnames).toEqual([
      "CartErrorBudgetBurn",
      "KubeContainerWaiting",
      "KubeDeploymentReplicasMismatch",
      "KubePodCrashLooping",
      "ProphetAnomaly",
    ]);
  });

  it("opens a new incident for the same workload when the alert starts outside the window", async () => {
    const later = alert(
      { alertname: "KubePodCrashLooping", namespace: "shop", pod: "cart-9f8b6c5d4-zz2x4" },
      minutes(40),
    );
    const out = await deliver(store, [later]);
    expect(out.map((e) => e.type)).toEqual(["io.prophet.incident.opened"]);
    // Keep the storm's incidents what they were for the resolutions below: close this one.
    expect((await deliver(store, [resolution(later, minutes(41))])).map((e) => e.type)).toEqual([
      "io.prophet.incident.resolved",
    ]);
  });

  it("resolves an incident only when its last alert resolves, and reports it once", async () => {
    const cart = (await listIncidents(store, { status: "firing" })).find(
      (i) => i.groupKey === "prod-eu|shop|workload=cart",
    )!;
    const members = await listIncidentAlerts(store, cart.id);
    const byFingerprint = new Map(events.map((e) => [e.data.fingerprint, e]));
    // The three late members were delivered in the test above, not from the storm: rebuild them.
    const firing = members.map(
      (m) => byFingerprint.get(m.fingerprint) ?? alert(m.labels, m.startsAt, m.fingerprint),
    );
    const [last, ...rest] = firing;
    expect(
      await deliver(
        store,
        rest.map((e, i) => resolution(e, minutes(20 + i * 0.01))),
      ),
    ).toEqual([]);
    const almost = (await getIncident(store, cart.id))!;
    expect(almost.status).toBe("firing");
    expect((await listIncidentAlerts(store, cart.id)).filter((m) => m.status === "firing")).toHaveLength(1);

    const closed = await deliver(store, [resolution(last!, minutes(25))]);
    expect(closed.map((e) => [e.type, e.data.incidentId])).toEqual([
      ["io.prophet.incident.resolved", cart.id],
    ]);
    expect(closed[0]!.data).toMatchObject({
      status: "resolved",
      alerts: 68,
      resolvedAt: minutes(25).toISOString(),
    });
    // A repeated resolution, straight to the handler, reports nothing more.
    expect(await alertIntake.handle(resolution(last!, minutes(25)), testDeps(store))).toEqual([]);
    const open = (await listIncidents(store, { status: "firing" })).map((i) => i.groupKey).sort();
    expect(open).toEqual([
      "prod-eu|data|workload=postgres",
      "prod-eu|shop|workload=checkout",
      "prod-eu||node=ip-10-0-1-7",
    ]);
  });

  it("two alerts of one group delivered at the same time open one incident", async () => {
    const at = minutes(120);
    const together = [
      alert({ alertname: "KubePodCrashLooping", namespace: "pay", pod: "ledger-6c5d4b9f8-x2kqp" }, at),
      alert({ alertname: "KubePodCrashLooping", namespace: "pay", pod: "ledger-6c5d4b9f8-b2c4d" }, at),
      alert({ alertname: "KubeDeploymentReplicasMismatch", namespace: "pay", deployment: "ledger" }, at),
      alert({ alertname: "KubePodNotReady", namespace: "pay", pod: "ledger-6c5d4b9f8-q7wz9" }, at),
    ];
    const sink = new CollectingSink();
    const out = await Promise.all(
      together.map((e) => invokeFunction(alertIntake, e, { deps: testDeps(store), sink })),
    );
    expect(out.map((o) => o.status)).toEqual(["handled", "handled", "handled", "handled"]);
    expect(sink.events.map((e) => e.type)).toEqual(["io.prophet.incident.opened"]);
    const ledger = (await listIncidents(store)).filter((i) => i.groupKey === "prod-eu|pay|workload=ledger");
    expect(ledger).toHaveLength(1);
    expect(ledger[0]!.alerts).toBe(4);
    // Both deliveries of one alert at once: still one member.
    const again = together[0]!;
    await Promise.all([
      alertIntake.handle(again, testDeps(store)),
      alertIntake.handle(again, testDeps(store)),
    ]);
    expect((await getIncident(store, ledger[0]!.id))!.alerts).toBe(4);
  });
});
