// The pure half of forecast-scaling: the PredictiveScale schema, demand grids, the target over the
// lead-time window, hysteresis, what a NodePool can hold, and forecast scoring.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  demandGrid,
  demandTarget,
  forecastDemand,
  nextBuffer,
  replicasFor,
} from "../../shared/capacity/plan.js";
import { launchToReady, podShape, poolView, SCALE_LABEL } from "../../shared/capacity/pool.js";
import { parsePredictiveScale, predictiveScaleSpecSchema } from "../../shared/capacity/spec.js";
import { accuracyOf, initialForecastState, scorePending } from "../../shared/capacity/state.js";
import type { KubeObject } from "../../shared/diagnosis/objects.js";

const obj = (spec: unknown): KubeObject => ({
  apiVersion: "aiops.prophet.io/v1alpha1",
  kind: "PredictiveScale",
  metadata: { name: "web", namespace: "shop", generation: 3 },
  spec,
});
const base = {
  forecastQuery: "sum(up)",
  nodePoolRef: { name: "general" },
  targetRef: { kind: "Deployment", name: "web" },
};

describe("PredictiveScale spec", () => {
  it("applies the defaults the CRD declares", () => {
    const crd = parse(
      readFileSync(new URL("../../manifests/crds/predictivescale.yaml", import.meta.url), "utf8"),
    );
    const props = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties;
    const parsed = predictiveScaleSpecSchema.parse(base);
    for (const [k, p] of Object.entries(props as Record<string, { default?: unknown }>))
      if (p.default !== undefined && k !== "buffer")
        expect(parsed[k as keyof typeof parsed], k).toEqual(p.default);
    expect(parsed.buffer).toEqual({ minReplicas: 0, maxReplicas: 100 });
    const r = parsePredictiveScale(obj(base));
    expect(r.ok && r.scale).toMatchObject({
      key: "shop/web",
      stepSeconds: 60,
      horizonSeconds: 1800,
      historySeconds: 259200,
      generation: 3,
    });
  });

  it.each([
    [
      { horizon: "30s", step: "1m" },
      "spec.horizon: horizon 30s is shorter than the step 1m: nothing to forecast",
    ],
    [{ unit: "demand" }, "spec.perReplica: required when unit is demand"],
    [{ targetRef: undefined }, "spec.targetRef: give targetRef (the workload) or podTemplate.cpu/memory"],
    [{ horizon: "soon" }, "spec.horizon: horizon: a Prometheus duration"],
    [{ replicas: 3 }, 'spec: Unrecognized key: "replicas"'],
    [{ history: "5m" }, "spec.history: history 5m holds fewer than 10 steps of 1m"],
    [{ history: "30d", step: "1m" }, "Prometheus answers at most 11,000 per query"],
    [{ podTemplate: { cpu: "lots" } }, "spec.podTemplate.cpu: a positive Kubernetes quantity"],
    [{ buffer: { minReplicas: 5, maxReplicas: 2 } }, "spec.buffer.maxReplicas: below buffer.minReplicas"],
  ])("refuses %j with a readable reason", (over, reason) => {
    const r = parsePredictiveScale(obj({ ...base, ...over }));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain(reason);
  });
});

describe("demand grid and target", () => {
  it("sums series per timestamp, leaves gaps NaN and drops trailing slots without data", () => {
    const g = demandGrid(
      [
        {
          labels: { pod: "a" },
          points: [
            [0, 1],
            [60, 2],
            [180, 4],
          ],
        },
        {
          labels: { pod: "b" },
          points: [
            [0, 10],
            [60, 20],
          ],
        },
      ],
      0,
      300,
      60,
    );
    expect(g.values.slice(0, 2)).toEqual([11, 22]);
    expect(g.values[2]).toBeNaN();
    expect(g.values).toHaveLength(4);
  });

  /** Minutes of a day: 10 overnight, a ramp to 40 from 07:00 over 30 min, 40 until 18:00. */
  const daily = (minute: number) => {
    const m = minute % 1440;
    if (m < 420) return 10;
    if (m < 450) return 10 + (30 * (m - 420)) / 30;
    if (m < 1080) return 40;
    return 10;
  };

  it("covers the morning ramp from yesterday's memory before it starts, with two days of history", () => {
    const now = 2 * 1440 + 418; // day 3, 06:58: the ramp starts in two minutes
    const grid = { start: 0, step: 60, values: Array.from({ length: now + 1 }, (_, i) => daily(i)) };
    const fc = forecastDemand(grid, 30)!;
    expect(fc.dailyPeriod).toBe(1440);
    const t = demandTarget(grid, fc, { windowPoints: 4, provisionFor: "upper95", headroomPercent: 0 });
    expect(t.current).toBe(10);
    // Yesterday at 07:02 + 5 min the ramp had reached 17: the target anticipates it.
    expect(t.decidedBy).toBe("seasonal-peak");
    expect(t.target).toBe(17);
    expect(t.seasonalPeak).toBe(17);
  });

  it("forecasts the ramp itself with three days of history (a seasonal model)", () => {
    const now = 3 * 1440 + 418;
    const grid = { start: 0, step: 60, values: Array.from({ length: now + 1 }, (_, i) => daily(i)) };
    const fc = forecastDemand(grid, 40)!;
    const t = demandTarget(grid, fc, { windowPoints: 4, provisionFor: "upper95", headroomPercent: 0 });
    expect(t.forecastBound).toBeGreaterThan(12);
    // The mean reaches the day's plateau within the horizon, around 07:30.
    expect(t.predictedPeak.value).toBeGreaterThan(35);
    expect(t.predictedPeak.at).toBeGreaterThanOrEqual((3 * 1440 + 448) * 60);
  });

  it("provisions for the demand now when the series is flat, plus headroom", () => {
    const grid = { start: 0, step: 60, values: new Array(200).fill(12) };
    const fc = forecastDemand(grid, 10)!;
    const t = demandTarget(grid, fc, { windowPoints: 3, provisionFor: "upper95", headroomPercent: 25 });
    expect(t.target).toBeCloseTo(15, 9);
    expect(replicasFor(14.0000000001, 1)).toBe(14);
    expect(replicasFor(41, 20)).toBe(3);
  });
});

describe("hysteresis", () => {
  const o = { thresholdPercent: 10, cooldownSeconds: 600 };
  it("grows at once, holds a smaller target through the cooldown and within the threshold, then shrinks", () => {
    const up = nextBuffer({ replicas: 2, increasedAt: null }, 5, 1000, o);
    expect(up).toMatchObject({ replicas: 5, increasedAt: 1000, change: "up" });
    expect(nextBuffer(up, 3, 1300, o)).toMatchObject({ replicas: 5, change: "none", held: "cooldown" });
    expect(nextBuffer({ replicas: 20, increasedAt: 0 }, 19, 5000, o)).toMatchObject({
      replicas: 20,
      held: "threshold",
    });
    expect(nextBuffer(up, 3, 1700, o)).toMatchObject({ replicas: 3, change: "down", increasedAt: 1000 });
    expect(nextBuffer(up, 5, 1700, o).change).toBe("none");
  });
});

describe("what a NodePool holds", () => {
  const node = (name: string, pool: string, cpu: string, memory: string): KubeObject => ({
    kind: "Node",
    metadata: { name, labels: { "karpenter.sh/nodepool": pool } },
    status: { allocatable: { cpu, memory }, capacity: { cpu, memory } },
  });
  const pod = (
    name: string,
    nodeName: string,
    cpu: string,
    labels: Record<string, string> = {},
  ): KubeObject => ({
    kind: "Pod",
    metadata: { name, namespace: "shop", labels },
    spec: { nodeName, containers: [{ name: "c", resources: { requests: { cpu, memory: "512Mi" } } }] },
    status: { phase: "Running" },
  });
  const pool: KubeObject = {
    kind: "NodePool",
    metadata: { name: "general" },
    spec: { limits: { cpu: "12" } },
    status: { resources: { cpu: "4", memory: "16Gi" } },
  };

  it("counts free room by requests (buffer pods are free room) and the nodes the limits still allow", () => {
    const nodes = [
      node("a", "general", "2", "8Gi"),
      node("b", "general", "2", "8Gi"),
      node("c", "other", "8", "32Gi"),
    ];
    const pods = [
      pod("web-1", "a", "1500m"),
      pod("web-2", "b", "500m"),
      pod("balloon", "b", "500m", { [SCALE_LABEL]: "web" }),
      pod("x", "c", "100m"),
    ];
    const v = poolView(pool, nodes, pods, { cpu: 500, memory: 512 * 2 ** 20 });
    expect(v).toMatchObject({
      nodes: 2,
      podsPerNode: 4,
      freeSlots: 1 + 3,
      newNodesAllowed: 4,
      maxBufferPods: 4 + 16,
    });
    expect(
      poolView({ ...pool, spec: { replicas: 2 } }, nodes, pods, { cpu: 500, memory: 0 }).staticReplicas,
    ).toBe(2);
  });

  it("takes the pod shape from the workload, or the template's override", () => {
    const dep: KubeObject = {
      kind: "Deployment",
      metadata: { name: "web", namespace: "shop" },
      spec: {
        template: {
          spec: {
            nodeSelector: { tier: "web" },
            tolerations: [{ key: "dedicated", operator: "Exists" }],
            containers: [
              { name: "app", resources: { requests: { cpu: "400m", memory: "256Mi" } } },
              { name: "sidecar", resources: { requests: { cpu: "100m", memory: "64Mi" } } },
            ],
          },
        },
      },
    };
    expect(podShape(undefined, dep)).toMatchObject({
      cpu: 500,
      memory: 320 * 2 ** 20,
      nodeSelector: { tier: "web" },
    });
    expect(podShape({ cpu: "1" }, dep)).toMatchObject({ cpu: 1000, memory: 320 * 2 ** 20 });
  });

  it("measures launch-to-Ready from the pool's NodeClaims", () => {
    const claim = (name: string, pool: string, created: string, ready?: string): KubeObject => ({
      kind: "NodeClaim",
      metadata: { name, labels: { "karpenter.sh/nodepool": pool }, creationTimestamp: created },
      status: { conditions: ready ? [{ type: "Ready", status: "True", lastTransitionTime: ready }] : [] },
    });
    expect(
      launchToReady(
        [
          claim("a", "general", "2026-01-05T07:00:00Z", "2026-01-05T07:01:05Z"),
          claim("b", "general", "2026-01-05T07:00:00Z"),
          claim("c", "gpu", "2026-01-05T07:00:00Z", "2026-01-05T07:03:00Z"),
        ],
        "general",
      ),
    ).toEqual([{ claim: "a", seconds: 65 }]);
  });
});

describe("forecast accuracy", () => {
  it("scores forecasts once their time has data: coverage of what came, MAPE of the mean", () => {
    const s = initialForecastState();
    s.pending = [
      { at: 60, mean: 10, provisioned: 12 },
      { at: 120, mean: 10, provisioned: 12 },
      { at: 600, mean: 10, provisioned: 12 },
    ];
    const actual: Record<number, number> = { 60: 11, 120: 15 };
    scorePending(s, (t) => actual[t], 300);
    expect(s.pending.map((p) => p.at)).toEqual([600]);
    const a = accuracyOf(s.scored);
    expect(a.samples).toBe(2);
    expect(a.coverage).toBe(0.5);
    expect(a.mape).toBeCloseTo((1 / 11 + 5 / 15) / 2, 12);
    expect(accuracyOf([])).toEqual({ samples: 0, coverage: null, mape: null });
  });
});
