// PredictiveScale (aiops.prophet.io/v1alpha1): what forecast-scaling reads. The seeds' fields
// (forecastQuery, nodePoolRef, horizon, thresholdPercent, action) plus what a real user needs to
// say: the demand's unit, the pod shape it is served by, history and step, the bound to provision
// for, buffer limits, schedule, cooldown and strategy. Parsing never throws: a bad object comes
// back with field paths and reasons, which the function writes to its status (phase Invalid).
import { z } from "zod";
import type { KubeObject } from "../diagnosis/objects.js";
import { describeIssues, issuesFromZod } from "../errors.js";
import { parseQuantity } from "../kube/quantity.js";
import { parseDuration } from "../duration.js";

const duration = (what: string) =>
  z.string().refine((s) => parseDuration(s) !== undefined, {
    message: `${what}: a Prometheus duration such as 30s, 5m or 1h`,
  });

const quantity = z
  .union([z.string(), z.number()])
  .refine((q) => parseQuantity(q) > 0, { message: "a positive Kubernetes quantity such as 500m or 512Mi" });

export const provisionBounds = ["mean", "upper80", "upper95"] as const;
export type ProvisionBound = (typeof provisionBounds)[number];
export const strategies = ["auto", "capacityBuffer", "balloon", "static"] as const;
export type Strategy = (typeof strategies)[number];

export const predictiveScaleSpecSchema = z
  .strictObject({
    /** PromQL for the demand; several series are summed. */
    forecastQuery: z.string().trim().min(1, "forecastQuery: PromQL is required"),
    /** replicas: the query counts pods of the target's shape; demand: divide by perReplica. */
    unit: z.enum(["replicas", "demand"]).default("replicas"),
    /** With unit demand: how much of it one replica serves (e.g. requests/s at the HPA target). */
    perReplica: z.number().positive().optional(),
    /** The workload whose pods the capacity is for: requests, nodeSelector, tolerations, affinity. */
    targetRef: z
      .strictObject({ kind: z.enum(["Deployment", "StatefulSet"]), name: z.string().min(1) })
      .optional(),
    /** The pod shape when there is no targetRef (or to override its requests). */
    podTemplate: z.strictObject({ cpu: quantity.optional(), memory: quantity.optional() }).optional(),
    nodePoolRef: z.strictObject({ name: z.string().min(1) }),
    horizon: duration("horizon").default("30m"),
    step: duration("step").default("1m"),
    /** History read for each forecast; two days or more lets the daily cycle be learned. */
    history: duration("history").default("3d"),
    provisionFor: z.enum(provisionBounds).default("upper95"),
    /** Added on top of the forecast's bound. */
    headroomPercent: z.number().min(0).max(500).default(0),
    /** Hysteresis: the buffer shrinks only when the target is more than this share below it. */
    thresholdPercent: z.number().min(0).max(100).default(10),
    buffer: z
      .strictObject({
        minReplicas: z.int().min(0).default(0),
        maxReplicas: z.int().min(0).default(100),
      })
      .prefault({}),
    /** How often to evaluate (the function runs every minute and skips until this has passed). */
    schedule: duration("schedule").default("1m"),
    /** A smaller buffer waits this long after the last increase. */
    cooldown: duration("cooldown").default("10m"),
    /** Node lead time; measured from the pool's NodeClaims (launch to Ready) when absent. */
    leadTime: duration("leadTime").optional(),
    strategy: z.enum(strategies).default("auto"),
    action: z.enum(["provision", "recommend"]).default("recommend"),
  })
  .superRefine((s, ctx) => {
    if (s.unit === "demand" && s.perReplica === undefined)
      ctx.addIssue({ code: "custom", path: ["perReplica"], message: "required when unit is demand" });
    if (!s.targetRef && !s.podTemplate?.cpu && !s.podTemplate?.memory)
      ctx.addIssue({
        code: "custom",
        path: ["targetRef"],
        message: "give targetRef (the workload) or podTemplate.cpu/memory: the pod shape to provision for",
      });
    const step = parseDuration(s.step) ?? 0;
    const horizon = parseDuration(s.horizon) ?? 0;
    const history = parseDuration(s.history) ?? 0;
    if (step && horizon && horizon < step)
      ctx.addIssue({
        code: "custom",
        path: ["horizon"],
        message: `horizon ${s.horizon} is shorter than the step ${s.step}: nothing to forecast`,
      });
    if (step && history && history < 10 * step)
      ctx.addIssue({
        code: "custom",
        path: ["history"],
        message: `history ${s.history} holds fewer than 10 steps of ${s.step}`,
      });
    if (step && history && history / step > 11_000)
      ctx.addIssue({
        code: "custom",
        path: ["history"],
        message: `history ${s.history} at step ${s.step} is ${Math.round(history / step)} points; Prometheus answers at most 11,000 per query`,
      });
    if (s.buffer.maxReplicas < s.buffer.minReplicas)
      ctx.addIssue({ code: "custom", path: ["buffer", "maxReplicas"], message: "below buffer.minReplicas" });
  });

export type PredictiveScaleSpec = z.output<typeof predictiveScaleSpecSchema>;

/** A parsed PredictiveScale with its durations in seconds. */
export interface PredictiveScale {
  namespace: string;
  name: string;
  /** `<namespace>/<name>`: the key of its state. */
  key: string;
  generation?: number;
  spec: PredictiveScaleSpec;
  stepSeconds: number;
  horizonSeconds: number;
  historySeconds: number;
  scheduleSeconds: number;
  cooldownSeconds: number;
  leadTimeSeconds?: number;
}

export type ParsedScale = { ok: true; scale: PredictiveScale } | { ok: false; key: string; reason: string };

export function parsePredictiveScale(obj: KubeObject): ParsedScale {
  const namespace = obj.metadata?.namespace ?? "default";
  const name = obj.metadata?.name ?? "";
  const key = `${namespace}/${name}`;
  const parsed = predictiveScaleSpecSchema.safeParse(obj.spec ?? {});
  if (!parsed.success)
    return { ok: false, key, reason: describeIssues(issuesFromZod(parsed.error.issues, "spec")) };
  const spec = parsed.data;
  const secs = (d: string) => parseDuration(d) ?? 0;
  return {
    ok: true,
    scale: {
      namespace,
      name,
      key,
      ...(obj.metadata?.generation !== undefined ? { generation: obj.metadata.generation } : {}),
      spec,
      stepSeconds: secs(spec.step),
      horizonSeconds: secs(spec.horizon),
      historySeconds: secs(spec.history),
      scheduleSeconds: secs(spec.schedule),
      cooldownSeconds: secs(spec.cooldown),
      ...(spec.leadTime ? { leadTimeSeconds: secs(spec.leadTime) } : {}),
    },
  };
}
