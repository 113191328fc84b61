// forecast-scaling end to end on the sandbox at simulated speed: the morning-ramp scenario (shop/web
// climbs from 2 to ~36 replicas in 30 minutes from 07:00; Karpenter nodes are Ready 60 s after
// launch). Day 1 runs without it: new web pods wait for nodes during the ramp. Day 2 runs with a
// PredictiveScale for web, ticking every simulated minute: balloon pods of web's shape hold nodes
// ahead of the ramp, web's pods preempt them, and pods (almost) never wait; the extra node-hours
// stay within a stated bound. Deleting the PredictiveScale releases the balloons.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CapacityChangedData } from "../../shared/events/schemas/forecast.js";
import { listAudit } from "../../shared/store/audit.js";
import { forecastScaling } from "../../functions/forecast-scaling/index.js";
import { scheduleTick } from "../../infra/local/cron.js";
import { startRamp, type RampRun, type RampWindow } from "./ramp-harness.js";

let run: RampRun;
let off: RampWindow;
let on: RampWindow;

beforeAll(async () => {
  run = await startRamp({ seed: 7 });
}, 60_000);
afterAll(async () => {
  await run?.close();
});

describe("capacity before demand on a morning ramp", () => {
  it("without forecast-scaling, web pods wait for nodes during the ramp", { timeout: 240_000 }, async () => {
    off = await run.day(false);
    expect(off.rampMinutes).toBeGreaterThan(10);
    expect(off.rampMinutesWithWaiting).toBeGreaterThanOrEqual(5);
    expect(off.pendingPodSeconds).toBeGreaterThan(600);
  });

  it(
    "with it, balloons hold nodes ahead of the ramp and pods do not wait",
    { timeout: 300_000 },
    async () => {
      on = await run.day(true);
      expect(on.rampMinutes).toBeGreaterThan(10);
      expect(on.rampMinutesWithWaiting).toBe(0);
      // What is left is the one step each preemption takes; no pod waited for a node.
      expect(on.pendingPodSeconds - on.preemptingPodSeconds).toBeLessThanOrEqual(5);
      expect(on.pendingPodSeconds).toBeLessThan(off.pendingPodSeconds / 10);
      // Over-provisioning bound: at most 25 % more node-hours over the day.
      expect(on.dayNodeHours).toBeLessThan(off.dayNodeHours * 1.25);
      expect(on.placeholderCpuHours).toBeGreaterThan(0);

      const changes = run.events.map((e) => e.data as CapacityChangedData);
      // The reserve grew before the ramp, while demand was still flat: yesterday's ramp, remembered.
      const early = changes.filter((c) => c.to > c.from && /T06:[3-5]\d/.test(c.at));
      expect(early.length).toBeGreaterThan(0);
      expect(early[0]!.reason).toContain("seasonal-peak");
      expect(changes.some((c) => c.to < c.from && /T0[7-9]:/.test(c.at))).toBe(true);
      expect(new Set(changes.map((c) => c.strategy))).toEqual(new Set(["balloon"]));
      // No flapping: the reserve changes a bounded number of times a day.
      expect(changes.length).toBeLessThan(80);

      const kube = run.deps.kube!;
      const balloon = await kube.get("Deployment", "shop", "prophet-buffer-web");
      const podSpec = (balloon?.spec as { template: { spec: Record<string, unknown> } }).template.spec;
      expect(podSpec.priorityClassName).toBe("prophet-capacity-buffer");
      expect(podSpec.nodeSelector).toEqual({ "karpenter.sh/nodepool": "general" });
      expect(await kube.get("PriorityClass", undefined, "prophet-capacity-buffer")).toMatchObject({
        value: -1000,
      });
      const status = (await kube.get("PredictiveScale", "shop", "web"))?.status as {
        accuracy: { samples: number; coverage: number };
        capacity: { leadTimeSeconds: number };
      };
      expect(status.accuracy.samples).toBeGreaterThan(400);
      expect(status.accuracy.coverage).toBeGreaterThan(0.85);
      // Lead time measured from the pool's NodeClaims (launch to Ready = 60 s in the scenario).
      expect(status.capacity.leadTimeSeconds).toBe(60);
      const audit = await listAudit(run.deps.store, { limit: 1000 });
      expect(audit.filter((a) => a.action === "capacity.provisioned").length).toBe(changes.length);
    },
  );

  it("releases the balloons when the PredictiveScale is deleted", { timeout: 60_000 }, async () => {
    const kube = run.deps.kube!;
    await kube.delete!("PredictiveScale", "shop", "web");
    await forecastScaling.handle(scheduleTick("forecast-scaling", run.sb.clock.now(), "sandbox"), run.deps);
    expect(await kube.get("Deployment", "shop", "prophet-buffer-web")).toBeUndefined();
    const audit = await listAudit(run.deps.store, { limit: 10 });
    expect(audit[0]).toMatchObject({ action: "capacity.released", subject: "PredictiveScale/shop/web" });
  });
});
