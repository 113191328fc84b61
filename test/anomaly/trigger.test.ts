// anomaly-trigger on a scripted metrics API and an in-memory cluster: AnomalyAction parsing with
// the seeds' fields, thresholds, the learned detector's state surviving cold starts (a new
// invocation with nothing in memory continues from the store, feeding each point exactly once),
// the cooldown, a bad PromQL reported in the status with no event, a redelivered tick emitting
// nothing new, and the remediation planner and gate reading the alert's labels.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anomalyTrigger } from "../../functions/anomaly-trigger/index.js";
import { scheduleTick } from "../../infra/local/cron.js";
import { createDetector, observePoint } from "../../shared/anomaly/detector.js";
import { feedPoint, newMemory, type SeriesRule } from "../../shared/anomaly/trigger/series.js";
import { listSeries } from "../../shared/anomaly/trigger/state.js";
import { parseThreshold } from "../../shared/anomaly/trigger/threshold.js";
import { TRIGGER_DETECTOR } from "../../shared/anomaly/trigger/series.js";
import type { KubeObject } from "../../shared/diagnosis/objects.js";
import { validateEvent } from "../../shared/events/catalog.js";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import type { AnomalyDetectedData } from "../../shared/events/schemas/anomaly.js";
import type { AlertEventData } from "../../shared/events/schemas/alert.js";
import type { Deps } from "../../shared/function.js";
import type { ClusterPort } from "../../shared/ports/cluster.js";
import { SimulatedClock } from "../../shared/ports/clock.js";
import { MetricsError, type MetricsPort, type Series } from "../../shared/ports/metrics.js";
import type { Store } from "../../shared/ports/store.js";
import { planWithRules } from "../../shared/remediation/planner.js";
import { isInvalid, parseAnomalyAction } from "../../shared/remediation/policy-source.js";
import { freshPgliteStore, testDeps } from "../support/stores.js";

const START = "2026-03-02T10:00:00Z";
const t0 = Date.parse(START) / 1000;
const MiB = 2 ** 20;

/** A Prometheus-like API over scripted series: value(labels, t) per series, NaN = no sample. */
function scriptedMetrics(
  series: { labels: Record<string, string>; value: (t: number) => number }[],
  opts: { refuse?: RegExp } = {},
): MetricsPort & { ranges: { start: number; end: number }[] } {
  const ranges: { start: number; end: number }[] = [];
  return {
    name: "scripted",
    ranges,
    async instant() {
      return [];
    },
    async range(promql, start, end, step) {
      if (opts.refuse?.test(promql))
        throw new MetricsError("bad_query", "bad_data: 1:15: parse error: unclosed left parenthesis");
      const s = start.getTime() / 1000;
      const e = end.getTime() / 1000;
      ranges.push({ start: s, end: e });
      const out: Series[] = [];
      for (const x of series) {
        const points: [number, number][] = [];
        for (let t = s; t <= e; t += step) {
          const v = x.value(t);
          if (Number.isFinite(v)) points.push([t, v]);
        }
        if (points.length) out.push({ labels: x.labels, points });
      }
      return out;
    },
  };
}

/** Just enough of a cluster: AnomalyActions and Pods, status written with a merge patch. */
function memoryCluster(objects: KubeObject[]): ClusterPort & { objects: KubeObject[] } {
  const find = (kind: string, ns: string | undefined, name: string) =>
    objects.find(
      (o) => o.kind === kind && o.metadata.name === name && (o.metadata.namespace ?? "") === (ns ?? ""),
    );
  return {
    name: "memory",
    objects,
    async list(kind, ns) {
      return objects.filter((o) => o.kind === kind && (ns === undefined || o.metadata.namespace === ns));
    },
    async get(kind, ns, name) {
      return find(kind, ns, name);
    },
    async podLogs() {
      return "";
    },
    async events() {
      return [];
    },
    async patch(kind, ns, name, patch) {
      const o = find(kind, ns, name);
      if (!o) throw new Error(`${kind} ${ns}/${name} not found`);
      o.status = { ...(o.status as object), ...(patch as { status: object }).status };
      return o;
    },
  };
}

function anomalyAction(name: string, spec: Record<string, unknown>, generation = 1): KubeObject {
  return {
    apiVersion: "aiops.prophet.io/v1alpha1",
    kind: "AnomalyAction",
    metadata: { name, namespace: "shop", generation },
    spec,
  };
}

function pod(name: string, labels: Record<string, string>, memoryLimit = "512Mi"): KubeObject {
  const hash = name.split("-").at(-2)!;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "shop",
      labels: { ...labels, "pod-template-hash": hash },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: `${labels.app}-${hash}`,
          uid: "rs",
          controller: true,
        },
      ],
    },
    spec: { containers: [{ name: labels.app!, resources: { limits: { memory: memoryLimit } } }] },
  };
}

const memSeries = (p: string, container = "cart") => ({
  __name__: "container_memory_working_set_bytes",
  namespace: "shop",
  pod: p,
  container,
});

let store: Store;
let cleanup: () => Promise<void>;
let clusterSeq = 0;

beforeAll(async () => {
  ({ store, cleanup } = await freshPgliteStore());
});
afterAll(async () => {
  await cleanup?.();
});

/** A fresh process: new deps (nothing in memory), the same store; its own cluster name per test. */
function processDeps(cluster: string, clock: SimulatedClock, metrics: MetricsPort, kube?: ClusterPort): Deps {
  return { ...testDeps(store, clock), cluster, metrics, ...(kube ? { kube } : {}) };
}

async function tick(deps: Deps, at: Date): Promise<ProphetEvent[]> {
  const events = await anomalyTrigger.handle(scheduleTick("anomaly-trigger", at), deps);
  for (const e of events) validateEvent(e);
  return events;
}

const detected = (events: ProphetEvent[]) =>
  events.filter((e) => e.type === "io.prophet.anomaly.detected") as ProphetEvent<AnomalyDetectedData>[];
const alerts = (events: ProphetEvent[], type: "firing" | "resolved") =>
  events.filter((e) => e.type === `io.prophet.alert.${type}`) as ProphetEvent<AlertEventData>[];

describe("AnomalyAction with the seeds' fields", () => {
  const parse = (spec: Record<string, unknown>) => parseAnomalyAction(anomalyAction("a", spec));

  it("parses source, metric, threshold, remediation, podSelector, cooldownSeconds, requireApproval", () => {
    const r = parse({
      source: "prometheus",
      metric: 'container_memory_working_set_bytes{namespace="shop"}',
      threshold: "> 1Gi",
      remediation: "restart_pod",
      podSelector: { matchLabels: { app: "cart" } },
      cooldownSeconds: 120,
      requireApproval: false,
    });
    expect(r).toMatchObject({
      id: "shop/a",
      source: "cluster",
      metricsSource: "prometheus",
      threshold: "> 1Gi",
      remediation: "restart_pod",
      cooldownSeconds: 120,
      requireApproval: false,
    });
    expect(parse({ metric: "up", threshold: "anomaly", remediation: "rollout_restart" })).toMatchObject({
      requireApproval: true,
      cooldownSeconds: 600,
    });
  });

  it.each([
    [
      { metric: "up", threshold: "anomaly", remediation: "reboot_cluster" },
      /spec\.remediation: "reboot_cluster" is not a registered action/,
    ],
    [
      { metric: "up", threshold: "about 3", remediation: "restart_pod" },
      /spec\.threshold: "about 3" is not a number, a comparison/,
    ],
    [{ metric: "up", threshold: "anomaly" }, /spec\.action: set remediation/],
    [{ metric: "up", threshold: "anomaly", remediation: "restart_pod", source: "datadog" }, /spec\.source/],
  ])("refuses %j", (spec, reason) => {
    const r = parse(spec);
    expect(isInvalid(r) && r.invalid).toMatch(reason);
  });

  it("reads thresholds: quantities, plain numbers, shares of the limit, the learned detector", () => {
    expect(parseThreshold("> 1Gi")).toEqual({ kind: "value", op: ">", value: 2 ** 30, text: "> 1Gi" });
    expect(parseThreshold(">= 0.9")).toMatchObject({ op: ">=", value: 0.9 });
    expect(parseThreshold("< 10")).toMatchObject({ op: "<", value: 10 });
    expect(parseThreshold(">500m")).toMatchObject({ op: ">", value: 0.5 });
    expect(parseThreshold("> 80% of limit")).toMatchObject({ kind: "limit", op: ">", fraction: 0.8 });
    expect(parseThreshold("anomaly")).toEqual({ kind: "anomaly" });
    expect(parseThreshold(3, "lt")).toMatchObject({ kind: "value", op: "<", value: 3 });
    expect(parseThreshold("1Gi")).toHaveProperty("error");
  });

  it("compares per point and needs the condition to hold for `for`", () => {
    const rule: SeriesRule = {
      threshold: parseThreshold("> 1Gi") as never,
      forSeconds: 60,
      leadTimeSeconds: 0,
    };
    const m = newMemory(rule);
    const v = (t: number, x: number) => feedPoint(m, rule, t, x, undefined);
    expect(v(0, 2 ** 30).active).toBe(false); // equal is not above
    expect(v(30, 2 ** 30 + 1).active).toBe(false); // holds, not yet for 60 s
    expect(v(60, 2 ** 30 + 1).active).toBe(false);
    expect(v(90, 2 ** 30 + 1)).toMatchObject({ active: true, component: "threshold" });
    expect(v(120, 1).active).toBe(false);
    const share: SeriesRule = {
      threshold: parseThreshold("> 80% of limit") as never,
      forSeconds: 0,
      leadTimeSeconds: 0,
    };
    const s = newMemory(share);
    expect(feedPoint(s, share, 0, 420 * MiB, 512 * MiB)).toMatchObject({
      active: true,
      bound: 0.8 * 512 * MiB,
    });
    expect(feedPoint(s, share, 30, 420 * MiB, undefined).active).toBe(false); // no limit known: no bound
  });
});

describe("the learned detector's state lives in the store", () => {
  // Three replicas with a gentle two-hour wave and their own noise; cart-b leaks 8 MiB/min from minute 150.
  const noise = (t: number, k: number) => Math.sin(t * 0.7 + k) * 0.4 + Math.sin(t * 0.13 + 2 * k) * 0.6;
  const base = (t: number, k: number) =>
    200 * MiB + 4 * MiB * Math.sin((2 * Math.PI * (t - t0)) / 7200) + MiB * noise(t, k);
  const leakAt = t0 + 150 * 60;
  const script = [
    { labels: memSeries("cart-5f7c9d8b4-aaaaa"), value: (t: number) => base(t, 1) },
    {
      labels: memSeries("cart-5f7c9d8b4-bbbbb"),
      value: (t: number) => base(t, 2) + (Math.max(0, t - leakAt) * (8 * MiB)) / 60,
    },
    { labels: memSeries("cart-5f7c9d8b4-ccccc"), value: (t: number) => base(t, 3) },
  ];
  const spec = {
    metric: 'container_memory_working_set_bytes{namespace="shop",container="cart"}',
    threshold: "anomaly",
    remediation: "restart_pod",
    podSelector: { matchLabels: { app: "cart" } },
  };

  it(
    "a new invocation every minute (a cold start each time) feeds each sample once, as one continuous run would",
    { timeout: 60_000 },
    async () => {
      const cluster = `cold-${clusterSeq++}`;
      const clock = new SimulatedClock(START);
      const objects = [
        anomalyAction("cart-memory", spec),
        ...script.map((s) => pod(s.labels.pod, { app: "cart" })),
      ];
      const events: ProphetEvent[] = [];
      const metricsLog: { start: number; end: number }[] = [];
      for (let minute = 0; minute < 200; minute++) {
        clock.advance(60_000);
        // Nothing carries over between invocations but the store and the cluster.
        const metrics = scriptedMetrics(script);
        const deps = processDeps(cluster, clock, metrics, memoryCluster(objects));
        events.push(...(await tick(deps, clock.now())));
        metricsLog.push(...metrics.ranges);
      }
      // The first invocation warmed from an hour of history; later ones asked only for new samples.
      expect(metricsLog[0]!.end - metricsLog[0]!.start).toBe(3600);
      expect(metricsLog.slice(1).every((r) => r.end - r.start <= 60)).toBe(true);

      // Replaying exactly the samples at 30 s steps through one detector gives the stored state.
      const rows = await listSeries(store, cluster, "shop/cart-memory");
      expect(rows).toHaveLength(3);
      const a = rows.find((r) => r.seriesKey.includes("aaaaa"))!;
      const det = createDetector(TRIGGER_DETECTOR);
      const end = a.lastSample!.getTime() / 1000;
      for (let t = t0 + 60 - 3600; t <= end; t += 30) observePoint(det, t, script[0]!.value(t));
      expect(a.memory!.detector).toEqual(det);

      // The leak in cart-b is the one detection, named as the pod unlike its replicas.
      const d = detected(events);
      expect(d.map((e) => e.data.series.labels.pod)).toEqual(["cart-5f7c9d8b4-bbbbb"]);
      const data = d[0]!.data;
      expect(Date.parse(data.at) / 1000).toBeGreaterThan(leakAt);
      expect(Date.parse(data.at) / 1000 - leakAt).toBeLessThan(10 * 60);
      expect(data.target).toEqual({
        namespace: "shop",
        pod: "cart-5f7c9d8b4-bbbbb",
        container: "cart",
        workload: { kind: "Deployment", name: "cart" },
      });
      expect(data.remediation).toEqual({ action: "restart_pod", requireApproval: true });
      expect(data.peers).toMatchObject({ members: 3, outlier: "cart-5f7c9d8b4-bbbbb", isOutlier: true });
      const fired = alerts(events, "firing");
      expect(fired).toHaveLength(1);
      expect(fired[0]!.data.labels).toMatchObject({
        alertname: "ProphetAnomaly",
        namespace: "shop",
        pod: "cart-5f7c9d8b4-bbbbb",
        deployment: "cart",
        prophet_anomaly_action: "shop/cart-memory",
        prophet_remediation: "restart_pod",
        prophet_require_approval: "true",
        prophet_anomaly_outlier: "cart-5f7c9d8b4-bbbbb",
      });
      expect(fired[0]!.data.target).toMatchObject({
        namespace: "shop",
        kind: "Pod",
        name: "cart-5f7c9d8b4-bbbbb",
      });
      const status = objects[0]!.status as Record<string, unknown>;
      expect(status).toMatchObject({
        phase: "Detected",
        detectionCount: 1,
        activeSeries: 3,
        anomalousSeries: 1,
      });
      expect(status.lastDetected).toBe(data.at);
    },
  );
});

describe("cooldown, redelivery, bad PromQL", () => {
  const spike = (ranges: [number, number][]) => (t: number) =>
    ranges.some(([a, b]) => t >= t0 + a * 60 && t < t0 + b * 60) ? 150 : 50;

  it(
    "one detection per cooldown: resolved after a quiet spell, suppressed while cooling down, raised again after",
    { timeout: 30_000 },
    async () => {
      const cluster = `cool-${clusterSeq++}`;
      const clock = new SimulatedClock(START);
      // Above 100 at minutes 10–14, 22–25 (within the 20-minute cooldown of the first) and 40–44.
      const metrics = scriptedMetrics([
        {
          labels: { __name__: "queue_depth", namespace: "shop", service: "cart" },
          value: spike([
            [10, 14],
            [22, 25],
            [40, 44],
          ]),
        },
      ]);
      const objects = [
        anomalyAction("queue", {
          metric: "queue_depth",
          threshold: "> 100",
          for: "0s",
          remediation: "notify_only",
          cooldownSeconds: 1200,
        }),
      ];
      const deps = processDeps(cluster, clock, metrics, memoryCluster(objects));
      const seen: { minute: number; type: string }[] = [];
      for (let minute = 1; minute <= 60; minute++) {
        clock.advance(60_000);
        for (const e of await tick(deps, clock.now())) seen.push({ minute, type: e.type });
      }
      expect(seen).toEqual([
        { minute: 10, type: "io.prophet.anomaly.detected" },
        { minute: 10, type: "io.prophet.alert.firing" },
        { minute: 19, type: "io.prophet.alert.resolved" },
        // 22–25 is within 20 minutes of the detection at 10:10: no new anomaly.
        { minute: 40, type: "io.prophet.anomaly.detected" },
        { minute: 40, type: "io.prophet.alert.firing" },
        { minute: 49, type: "io.prophet.alert.resolved" },
      ]);
      const rows = await listSeries(store, cluster);
      // suppressed counts the invocations that saw the condition while cooling down (22–25).
      expect(rows[0]!.memory).toMatchObject({ detections: 2, suppressed: 4 });
    },
  );

  it("a tick delivered twice (or twice at once) emits its events once", { timeout: 30_000 }, async () => {
    const cluster = `dup-${clusterSeq++}`;
    const clock = new SimulatedClock(START);
    const metrics = scriptedMetrics([
      { labels: { __name__: "queue_depth", namespace: "shop" }, value: spike([[5, 30]]) },
    ]);
    const rule = parseAnomalyAction(
      anomalyAction("queue", {
        metric: "queue_depth",
        threshold: "> 100",
        for: "1m",
        remediation: "notify_only",
      }),
      "file",
    );
    if (isInvalid(rule)) throw new Error(rule.invalid);
    const deps = { ...processDeps(cluster, clock, metrics), anomaly: { actions: async () => [rule] } };
    const all: ProphetEvent[] = [];
    for (let minute = 1; minute <= 10; minute++) {
      clock.advance(60_000);
      const t = scheduleTick("anomaly-trigger", clock.now());
      const [a, b] = await Promise.all([anomalyTrigger.handle(t, deps), anomalyTrigger.handle(t, deps)]);
      const again = await anomalyTrigger.handle(t, deps);
      all.push(...a!, ...b!, ...again);
    }
    expect(detected(all)).toHaveLength(1);
    expect(alerts(all, "firing")).toHaveLength(1);
    expect(detected(all)[0]!.data.action.origin).toBe("file");
  });

  it("a bad PromQL: status Invalid with the metrics API's error, no event, the other actions evaluated", async () => {
    const cluster = `bad-${clusterSeq++}`;
    const clock = new SimulatedClock(START);
    const metrics = scriptedMetrics([{ labels: { __name__: "up", job: "x" }, value: () => 1 }], {
      refuse: /^sum\(rate/,
    });
    const objects = [
      anomalyAction("broken", { metric: "sum(rate(up[5m]", threshold: "> 0", remediation: "notify_only" }),
      anomalyAction("fine", { metric: "up", threshold: "< 0.5", remediation: "notify_only" }),
      anomalyAction("typo", { metric: "up", threshold: "> 0", remediation: "notify_only", cooldown: 5 }),
    ];
    const deps = processDeps(cluster, clock, metrics, memoryCluster(objects));
    clock.advance(60_000);
    const events = await tick(deps, clock.now());
    expect(events).toEqual([]);
    const [broken, fine, typo] = objects.map((o) => o.status as Record<string, unknown>);
    expect(broken).toMatchObject({
      phase: "Invalid",
      observedGeneration: 1,
      conditions: [
        {
          type: "Ready",
          status: "False",
          reason: "QueryFailed",
          message: expect.stringContaining("parse error: unclosed left parenthesis"),
        },
        { type: "AnomalyDetected", status: "False" },
      ],
    });
    expect(fine).toMatchObject({
      phase: "Active",
      activeSeries: 1,
      conditions: [{ type: "Ready", status: "True" }, {}],
    });
    expect(typo).toMatchObject({ phase: "Invalid", conditions: [{ reason: "InvalidSpec" }] });
    expect(String(typo!.message)).toMatch(/cooldown/);
    expect(await listSeries(store, cluster, "shop/broken")).toEqual([]);
  });
});

describe("the remediation planner reads the anomaly's labels", () => {
  const labels = {
    alertname: "ProphetAnomaly",
    namespace: "shop",
    pod: "cart-5f7c9d8b4-bbbbb",
    container: "cart",
    deployment: "cart",
    prophet_anomaly_action: "shop/cart-memory",
    prophet_anomaly_detector: "trend",
    prophet_anomaly_resource: "memory",
  };
  const input = (remediation: string) => ({
    incidentId: "inc-1",
    alertname: "ProphetAnomaly",
    severity: "warning",
    labels: { ...labels, prophet_remediation: remediation },
    rootCause: null,
    findings: [],
    history: [],
  });

  it("restart_pod on the pod the series is about; increase_resources on its Deployment, memory ×1.5", async () => {
    const restart = await planWithRules(input("restart_pod"));
    expect(restart.action).toMatchObject({
      name: "restart_pod",
      target: { kind: "Pod", namespace: "shop", name: "cart-5f7c9d8b4-bbbbb" },
    });
    expect(restart.confidence).toBeGreaterThanOrEqual(0.8);
    const grow = await planWithRules(input("increase_resources"));
    expect(grow.action).toMatchObject({
      name: "increase_resources",
      target: { kind: "Deployment", namespace: "shop", name: "cart" },
      params: { resource: "memory", factor: 1.5, container: "cart" },
    });
    expect((await planWithRules(input("rollout_restart"))).action?.target.kind).toBe("Deployment");
  });

  it("quarantine_pod on the pod, with the expiry the alert asks for", async () => {
    const q = await planWithRules({
      ...input("quarantine_pod"),
      labels: { ...input("quarantine_pod").labels, prophet_quarantine_ttl: "4h" },
    });
    expect(q.action).toMatchObject({
      name: "quarantine_pod",
      target: { kind: "Pod", namespace: "shop", name: "cart-5f7c9d8b4-bbbbb" },
      params: { ttl: "4h" },
    });
  });
});
