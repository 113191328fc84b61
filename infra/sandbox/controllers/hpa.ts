// HorizontalPodAutoscaler (autoscaling/v2, CPU utilisation targets) driven by the simulated
// utilisation model: every 15 s it computes ceil(ready × utilisation / target) within a 10 %
// tolerance, stabilises scale-down over 5 minutes, clamps to min/max and writes the target's scale.
import type { KubeObject } from "../apiserver/types.js";
import { kubeTime } from "../apiserver/types.js";
import { arr, rec, setCondition, type Obj, type SimContext } from "./context.js";
import { milliCpu } from "./quantity.js";

const SYNC_MS = 15_000;
const DOWNSCALE_WINDOW_MS = 300_000;
const TOLERANCE = 0.1;
const SOURCE = { component: "horizontal-pod-autoscaler" };

export class Autoscaler {
  private readonly lastSync = new Map<string, number>();
  private readonly history = new Map<string, { at: number; replicas: number }[]>();

  constructor(private readonly ctx: SimContext) {}

  step(): void {
    const ctx = this.ctx;
    for (const hpa of ctx.store.list(ctx.rt.hpas)) {
      const key = hpa.metadata.uid ?? "";
      if (ctx.nowMs - (this.lastSync.get(key) ?? -Infinity) < SYNC_MS) continue;
      this.lastSync.set(key, ctx.nowMs);
      this.sync(hpa);
    }
  }

  private sync(hpa: KubeObject): void {
    const ctx = this.ctx;
    const ns = hpa.metadata.namespace ?? "";
    const spec = rec(hpa.spec);
    const ref = rec(spec.scaleTargetRef);
    const rt = ref.kind === "StatefulSet" ? ctx.rt.statefulsets : ctx.rt.deployments;
    const target = ctx.store.get(rt, ns, String(ref.name));
    const min = typeof spec.minReplicas === "number" ? spec.minReplicas : 1;
    const max = Number(spec.maxReplicas ?? min);
    const cpuMetric = arr(spec.metrics).find((m) => m.type === "Resource" && rec(m.resource).name === "cpu");
    const targetUtil = Number(rec(rec(cpuMetric?.resource).target).averageUtilization ?? 80);
    let conditions = arr(rec(hpa.status).conditions);
    const cond = (type: string, ok: boolean, reason: string, message: string) =>
      (conditions = setCondition(
        conditions,
        { type, status: ok ? "True" : "False", reason, message },
        ctx.stamp,
      ));
    if (!target) {
      cond(
        "AbleToScale",
        false,
        "FailedGetScale",
        `the HPA controller was unable to get the target's current scale: ${String(ref.kind).toLowerCase()}s.apps "${String(ref.name)}" not found`,
      );
      ctx.event(
        hpa,
        "Warning",
        "FailedGetScale",
        `${String(ref.kind).toLowerCase()}s.apps "${String(ref.name)}" not found`,
        SOURCE,
      );
      ctx.store.update(
        ctx.rt.hpas,
        { ...hpa, status: { ...rec(hpa.status), conditions } },
        { subresource: "status" },
      );
      return;
    }
    const current = Number(rec(target.spec).replicas ?? 1);
    const ready = Number(rec(target.status).readyReplicas ?? 0);
    const workload = `${ns}/${String(ref.kind)}/${String(ref.name)}`;
    const util = Math.round(this.ctx.utilization(workload, ctx.now, ready));
    const basis = Math.max(1, ready);
    let desired =
      Math.abs(util / targetUtil - 1) <= TOLERANCE ? current : Math.ceil((basis * util) / targetUtil);
    if (ready === 0) desired = current;
    // Scale up at most max(double, +4) per sync; scale down to the highest recommendation of the window.
    desired = Math.min(desired, Math.max(current * 2, current + 4));
    const key = hpa.metadata.uid ?? "";
    const hist = (this.history.get(key) ?? []).filter((h) => ctx.nowMs - h.at < DOWNSCALE_WINDOW_MS);
    hist.push({ at: ctx.nowMs, replicas: desired });
    this.history.set(key, hist);
    if (desired < current) desired = Math.min(current, Math.max(...hist.map((h) => h.replicas)));
    let limited: [boolean, string, string] = [
      false,
      "DesiredWithinRange",
      "the desired count is within the acceptable range",
    ];
    if (desired > max) {
      limited = [true, "TooManyReplicas", "the desired replica count is more than the maximum replica count"];
      desired = max;
    } else if (desired < min) {
      limited = [true, "TooFewReplicas", "the desired replica count is less than the minimum replica count"];
      desired = min;
    }
    const status: Obj = { ...rec(hpa.status) };
    if (desired !== current) {
      ctx.store.update(rt, { ...target, spec: { ...rec(target.spec), replicas: desired } });
      const why =
        desired > current
          ? "cpu resource utilization (percentage of request) above target"
          : "All metrics below target";
      ctx.event(hpa, "Normal", "SuccessfulRescale", `New size: ${desired}; reason: ${why}`, SOURCE);
      cond(
        "AbleToScale",
        true,
        "SucceededRescale",
        `the HPA controller was able to update the target scale to ${desired}`,
      );
      status.lastScaleTime = kubeTime(ctx.now);
    } else cond("AbleToScale", true, "ReadyForNewScale", "recommended size matches current size");
    cond(
      "ScalingActive",
      true,
      "ValidMetricFound",
      "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)",
    );
    cond("ScalingLimited", ...limited);
    const cpuRequest = arr(rec(rec(rec(target.spec).template).spec).containers).reduce(
      (n, c) => n + milliCpu(rec(rec(c.resources).requests).cpu),
      0,
    );
    Object.assign(status, {
      currentReplicas: current,
      desiredReplicas: desired,
      currentMetrics: [
        {
          type: "Resource",
          resource: {
            name: "cpu",
            current: { averageUtilization: util, averageValue: `${Math.round((cpuRequest * util) / 100)}m` },
          },
        },
      ],
      conditions,
    });
    ctx.store.update(ctx.rt.hpas, { ...hpa, status }, { subresource: "status" });
  }
}
