// The morning-ramp scenario and the capacity statistics a forecast-scaling benchmark reads: the
// ramp demand curve, web pods Pending for about the node launch delay while the HPA outruns the
// nodes, and a negative-priority balloon Deployment that absorbs the ramp through preemption.
import { afterEach, describe, expect, it } from "vitest";
import type { KubeObject } from "../../infra/sandbox/apiserver/index.js";
import { demandAt, type DemandProfile } from "../../infra/sandbox/demand.js";
import { capacityStats, type CapacityStatsSnapshot } from "../../infra/sandbox/index.js";
import { loadScenario } from "../../infra/sandbox/scenario.js";
import { rec, startSim, type SimHarness } from "./sim-harness.js";

const SCENARIO = new URL("../../infra/sandbox/scenarios/morning-ramp.yaml", import.meta.url).pathname;

let h: SimHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const at = (hhmm: string) => new Date(`2026-01-05T${hhmm}:00Z`);

/** The scenario from 06:40 instead of midnight: the night is flat, the ramp is what matters. */
async function startRamp(): Promise<SimHarness> {
  const scenario = loadScenario(SCENARIO);
  return startSim({ ...scenario, start: "2026-01-05T06:40:00Z" }, { flowLog: false });
}

function balloon(replicas: number): KubeObject[] {
  return [
    {
      apiVersion: "scheduling.k8s.io/v1",
      kind: "PriorityClass",
      metadata: { name: "balloon" },
      value: -1000,
      preemptionPolicy: "Never",
      description: "Placeholder capacity that real workloads preempt.",
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "balloon", namespace: "shop" },
      spec: {
        replicas,
        selector: { matchLabels: { app: "balloon" } },
        template: {
          metadata: { labels: { app: "balloon" } },
          spec: {
            priorityClassName: "balloon",
            terminationGracePeriodSeconds: 0,
            containers: [
              {
                name: "pause",
                image: "registry.k8s.io/pause:3.9",
                resources: { requests: { cpu: "500m", memory: "512Mi" } },
              },
            ],
          },
        },
      },
    },
  ];
}

/** Runs 06:55 → 08:00 with fresh statistics; returns them and how long each web pod waited. */
function runRamp(sim: SimHarness): { stats: CapacityStatsSnapshot; waits: number[] } {
  sim.advance(10 * 60);
  sim.sb.simulation.capacity.reset();
  const rampStart = Date.parse("2026-01-05T07:00:00Z");
  sim.advance(65 * 60);
  const waits = sim
    .podsOf("shop", "web")
    .filter((p) => Date.parse(p.metadata.creationTimestamp ?? "") >= rampStart)
    .map((p) => {
      const scheduled = sim.condition(p, "PodScheduled");
      expect(scheduled?.status).toBe("True");
      return (
        (Date.parse(String(scheduled?.lastTransitionTime)) - Date.parse(p.metadata.creationTimestamp ?? "")) /
        1000
      );
    });
  return { stats: capacityStats(sim.sb), waits };
}

describe("ramp demand", () => {
  const ramp: DemandProfile = { shape: "ramp", baseRps: 20, peakRps: 500, perPodRps: 20 };

  it("stays at baseRps overnight, climbs over rampMinutes from 07:00, holds, and decays from 18:00", () => {
    const near = (t: string, rps: number) =>
      expect(Math.abs(demandAt(ramp, at(t)) / rps - 1)).toBeLessThan(0.04);
    near("03:00", 20);
    near("06:59", 20);
    near("07:15", 260);
    near("07:30", 500);
    near("12:00", 500);
    near("19:30", 260);
    near("22:00", 20);
    // Monotone through the rise (noise aside): each 5 minutes higher than the last.
    const rise = ["07:00", "07:05", "07:10", "07:15", "07:20", "07:25", "07:30"].map((t) =>
      demandAt(ramp, at(t)),
    );
    for (let i = 1; i < rise.length; i++) expect(rise[i]).toBeGreaterThan(rise[i - 1] ?? 0);
    const late = { ...ramp, rampStartHourUtc: 8.5, rampMinutes: 10 };
    expect(Math.abs(demandAt(late, at("08:29")) / 20 - 1)).toBeLessThan(0.04);
    expect(demandAt(late, at("08:40")) / 500).toBeGreaterThan(0.96);
  });

  it("leaves the cosine profile as it was when no shape is given", () => {
    const cosine: DemandProfile = { baseRps: 60, peakRps: 240, perPodRps: 40 };
    const explicit: DemandProfile = { ...cosine, shape: "cosine" };
    for (const t of ["03:00", "09:17", "15:00"])
      expect(demandAt(explicit, at(t))).toBe(demandAt(cosine, at(t)));
    expect(demandAt(cosine, at("15:00")) / 240).toBeGreaterThan(0.96);
    expect(demandAt(cosine, at("03:00")) / 60).toBeLessThan(1.04);
  });
});

describe("morning-ramp scenario", () => {
  it("parses: midnight start, a static system pool, an elastic general pool, a ramping web Deployment", () => {
    const s = loadScenario(SCENARIO);
    expect(s.start).toBe("2026-01-05T00:00:00Z");
    expect(s.karpenter.launchDelaySeconds).toBe(60);
    expect(s.nodePools.map((p) => [p.name, p.replicas])).toEqual([
      ["system", 1],
      ["general", undefined],
    ]);
    const [web] = s.workloads;
    expect(web).toMatchObject({ namespace: "shop", name: "web", cpu: "500m", memory: "512Mi" });
    expect(web?.hpa).toMatchObject({ min: 2, targetCPU: 70 });
    expect(web?.demand).toMatchObject({ shape: "ramp", rampStartHourUtc: 7 });
  });

  it("without spare capacity, web pods wait Pending for about the node launch delay during the ramp", async () => {
    h = await startRamp();
    const { stats, waits } = runRamp(h);
    expect(waits.length).toBeGreaterThan(20);
    const longest = Math.max(...waits);
    expect(longest).toBeGreaterThanOrEqual(55);
    expect(longest).toBeLessThanOrEqual(75);
    expect(waits.filter((w) => w >= 55).length).toBeGreaterThan(waits.length / 3);
    expect(stats.pendingPodSeconds).toBeGreaterThan(500);
    expect(stats.preemptingPodSeconds).toBe(0);
    expect(stats.maxPendingPods).toBeGreaterThanOrEqual(2);
    expect(stats.seconds).toBe(65 * 60);
    const general = stats.pools.general;
    expect(general?.readyNodes).toBeGreaterThan(5);
    expect(general?.nodeSeconds).toBeGreaterThan(0);
    expect(general?.requestedCpuSeconds).toBeGreaterThan(0);
    expect(general?.requestedCpuSeconds).toBeLessThan(general?.allocatableCpuSeconds ?? 0);
    expect(general?.placeholderCpuSeconds).toBe(0);
    expect(stats.pools.system?.readyNodes).toBe(1);
    expect(stats.nodeSeconds).toBeCloseTo(
      (general?.nodeSeconds ?? 0) + (stats.pools.system?.nodeSeconds ?? 0),
    );

    // The same numbers over HTTP, for a bench driving a running sandbox.
    const res = await fetch(`${h.sb.url}/sandbox/capacity`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ pendingPodSeconds: stats.pendingPodSeconds, now: stats.now });
  }, 90_000);

  it("a negative-priority balloon sized like the web pods absorbs the ramp: Pending pod-seconds ≈ 0", async () => {
    h = await startRamp();
    const baseline = runRamp(h).stats.pendingPodSeconds;
    await h.close();

    h = await startRamp();
    for (const obj of balloon(8)) h.create(obj);
    const { stats, waits } = runRamp(h);
    // Each preemptor waits one step for its victim to go; nothing waits for a node.
    expect(Math.max(...waits)).toBeLessThanOrEqual(3);
    expect(stats.pendingPodSeconds).toBeLessThan(baseline * 0.05);
    expect(stats.pendingPodSeconds - stats.preemptingPodSeconds).toBe(0);
    expect(stats.preemptingPodSeconds).toBeGreaterThan(0);
    expect(h.events(undefined, "Preempted").length).toBeGreaterThan(10);
    // The evicted placeholders came back on new nodes: the buffer is refilled, and paid for.
    const placeholders = h.podsOf("shop", "balloon");
    expect(placeholders).toHaveLength(8);
    expect(placeholders.every((p) => rec(p.spec).nodeName)).toBe(true);
    expect(stats.placeholderCpuSeconds).toBeGreaterThan(0);
    expect(stats.pools.general?.placeholderCpuSeconds).toBe(stats.placeholderCpuSeconds);
  }, 90_000);
});
