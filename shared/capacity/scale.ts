// One forecast-scaling invocation. For each PredictiveScale that is due:
//   read its history (query_range through the metrics port) → forecast (shared/forecast) →
//   the demand to cover until capacity asked for now is Ready (node lead time measured from the
//   pool's NodeClaims) → pods of the workload's shape held in reserve, within the NodePool's
//   limits and with hysteresis → a CapacityBuffer, balloon Deployment or static NodePool size
//   (action provision) or only a report (action recommend) → status, audit, events.
// Bad objects (schema, unknown NodePool or workload, PromQL the server refuses) get a condition
// with the reason and nothing is done for them.
import { CapacityChanged, ForecastComputed } from "../events/catalog.js";
import { makeEvent } from "../events/emit.js";
import type { ProphetEvent } from "../events/envelope.js";
import type { CapacityChangedData, ForecastComputedData } from "../events/schemas/forecast.js";
import type { KubeObject } from "../diagnosis/objects.js";
import type { Deps } from "../function.js";
import { nextCondition } from "../kube/conditions.js";
import { formatBytes, formatMilliCpu } from "../kube/quantity.js";
import type { ClusterPort } from "../ports/cluster.js";
import { MetricsError } from "../ports/metrics.js";
import { serverNow } from "../slo/evaluate.js";
import { appendAudit } from "../store/audit.js";
import {
  demandGrid,
  demandTarget,
  forecastDemand,
  nextBuffer,
  replicasFor,
  type DemandGrid,
} from "./plan.js";
import { launchToReady, podShape, poolView, SCALE_LABEL, type PodShape, type PoolView } from "./pool.js";
import { applyBuffer, objectName, resolveStrategy, type ResolvedStrategy } from "./provision.js";
import { parsePredictiveScale, type PredictiveScale } from "./spec.js";
import {
  accuracyOf,
  deleteForecastState,
  listForecastStates,
  loadForecastState,
  saveForecastState,
  scorePending,
  type ForecastState,
} from "./state.js";

export const DEFAULT_LEAD_TIME_SECONDS = 60;
/** Points of the forecast carried in the event (the rest is in the status summary). */
const EVENT_POINTS = 120;

export interface ScalingContext {
  deps: Deps;
  source: string;
  actor: string;
  /** Plan only (`prophet capacity plan`): no writes to the cluster, the store or the audit log. */
  dryRun?: boolean;
}

export interface ScaleOutcome {
  key: string;
  phase: Phase;
  /** Why it was not evaluated: a condition reason (InvalidSpec, QueryFailed, …) and its message. */
  reason?: string;
  message?: string;
  bufferReplicas?: number;
  desiredReplicas?: number;
  /** The evaluation's summary (what the status says). */
  detail?: Record<string, unknown>;
}

export interface ScalingReport {
  events: ProphetEvent[];
  outcomes: ScaleOutcome[];
  skipped: number;
}

type Phase = "Invalid" | "Error" | "Pending" | "Provisioning" | "Recommending" | "Idle";

interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** Cluster objects read once per invocation and shared by every PredictiveScale. */
class ClusterReads {
  private readonly cache = new Map<string, Promise<KubeObject[]>>();
  constructor(private readonly kube: ClusterPort) {}
  list(kind: string): Promise<KubeObject[]> {
    let p = this.cache.get(kind);
    if (!p) {
      p = this.kube.list(kind).catch(() => []);
      this.cache.set(kind, p);
    }
    return p;
  }
}

class Refusal extends Error {
  constructor(
    readonly phase: Phase,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export async function runForecastScaling(ctx: ScalingContext, tick: ProphetEvent): Promise<ScalingReport> {
  const { deps } = ctx;
  const report: ScalingReport = { events: [], outcomes: [], skipped: 0 };
  const kube = deps.kube;
  if (!kube) {
    deps.log.warn({}, "no cluster configured: forecast-scaling has nothing to read");
    return report;
  }
  const cluster = tick.cluster ?? deps.cluster;
  let objects: KubeObject[];
  try {
    objects = await kube.list("PredictiveScale");
  } catch (err) {
    deps.log.warn({ err: (err as Error).message }, "PredictiveScales not listed");
    return report;
  }
  const now = deps.metrics ? await serverNow(deps.metrics, deps.clock.now()) : deps.clock.now();
  const reads = new ClusterReads(kube);
  const seen = new Set<string>();
  for (const obj of objects) {
    const parsed = parsePredictiveScale(obj);
    const key = parsed.ok ? parsed.scale.key : parsed.key;
    seen.add(key);
    if (!parsed.ok) {
      if (!ctx.dryRun)
        await writeStatus(kube, obj, {
          phase: "Invalid",
          message: parsed.reason,
          conditions: [condition(obj, "Ready", "False", "InvalidSpec", parsed.reason, now)],
        });
      report.outcomes.push({ key, phase: "Invalid", reason: "InvalidSpec", message: parsed.reason });
      continue;
    }
    const scale = parsed.scale;
    const state = await loadForecastState(deps.store, cluster, key);
    const nowSec = now.getTime() / 1000;
    if (
      !ctx.dryRun &&
      state.lastEvaluated !== null &&
      nowSec - state.lastEvaluated < scale.scheduleSeconds - 1
    ) {
      report.skipped++;
      continue;
    }
    try {
      const out = await evaluateOne(ctx, cluster, scale, obj, state, reads, now, tick);
      report.events.push(...out.events);
      report.outcomes.push(out.outcome);
    } catch (err) {
      const refusal =
        err instanceof Refusal ? err : new Refusal("Error", "EvaluationFailed", (err as Error).message);
      deps.log.warn(
        { scale: key, reason: refusal.reason, err: refusal.message },
        "PredictiveScale not evaluated",
      );
      if (!ctx.dryRun) {
        state.lastEvaluated = nowSec;
        await saveForecastState(deps.store, cluster, key, state, now);
        await writeStatus(kube, obj, {
          phase: refusal.phase,
          lastEvaluated: now.toISOString(),
          message: refusal.message,
          conditions: [condition(obj, "Ready", "False", refusal.reason, refusal.message, now)],
        });
      }
      report.outcomes.push({ key, phase: refusal.phase, reason: refusal.reason, message: refusal.message });
    }
  }
  if (!ctx.dryRun) await releaseGone(ctx, cluster, kube, seen, now);
  return report;
}

async function evaluateOne(
  ctx: ScalingContext,
  cluster: string,
  scale: PredictiveScale,
  obj: KubeObject,
  state: ForecastState,
  reads: ClusterReads,
  now: Date,
  tick: ProphetEvent,
): Promise<{ events: ProphetEvent[]; outcome: ScaleOutcome }> {
  const { deps } = ctx;
  const kube = deps.kube!;
  const spec = scale.spec;
  const nowSec = now.getTime() / 1000;
  const metrics = deps.metrics;
  if (!metrics) throw new Refusal("Error", "NoMetricsApi", "no metrics API is configured (PROMETHEUS_URL)");
  const pool = (await reads.list("NodePool")).find((p) => p.metadata.name === spec.nodePoolRef.name);
  if (!pool)
    throw new Refusal(
      "Error",
      "NodePoolNotFound",
      `NodePool ${spec.nodePoolRef.name} does not exist in ${kube.name}`,
    );
  let target: KubeObject | undefined;
  if (spec.targetRef) {
    target = await kube.get(spec.targetRef.kind, scale.namespace, spec.targetRef.name);
    if (!target)
      throw new Refusal(
        "Error",
        "TargetNotFound",
        `${spec.targetRef.kind} ${scale.namespace}/${spec.targetRef.name} does not exist`,
      );
  }
  const shape = podShape(spec.podTemplate, target);
  if (shape.cpu <= 0 && shape.memory <= 0)
    throw new Refusal(
      "Error",
      "NoPodShape",
      "the workload's containers request no cpu or memory: set podTemplate.cpu/memory so capacity can be sized",
    );

  // History up to the server's now, on the step grid (aligned, so every evaluation sees the same points).
  const end = Math.floor(nowSec / scale.stepSeconds) * scale.stepSeconds;
  const start = end - scale.historySeconds;
  let grid: DemandGrid;
  try {
    const series = await metrics.range(
      spec.forecastQuery,
      new Date(start * 1000),
      new Date(end * 1000),
      scale.stepSeconds,
    );
    grid = demandGrid(series, start, end, scale.stepSeconds);
  } catch (err) {
    if (err instanceof MetricsError && err.code === "bad_query")
      throw new Refusal("Error", "QueryFailed", `forecastQuery refused by ${metrics.name}: ${err.message}`);
    throw new Refusal("Error", "MetricsUnavailable", `${metrics.name}: ${(err as Error).message}`);
  }
  const observed = grid.values.filter(Number.isFinite).length;
  if (observed < 10)
    throw new Refusal(
      "Pending",
      "InsufficientHistory",
      observed === 0
        ? `forecastQuery returned no data over the last ${spec.history}`
        : `${observed} points of history; at least 10 steps of ${spec.step} are needed`,
    );

  // Node lead time: measured launch-to-Ready of the pool's NodeClaims, remembered across consolidations.
  for (const s of launchToReady(await reads.list("NodeClaim"), spec.nodePoolRef.name))
    if (!state.leadSamples.some((x) => x.claim === s.claim)) state.leadSamples.push(s);
  state.leadSamples = state.leadSamples.slice(-20);
  const leadTime = scale.leadTimeSeconds ?? leadOf(state.leadSamples) ?? DEFAULT_LEAD_TIME_SECONDS;
  const windowSeconds = leadTime + scale.scheduleSeconds + scale.stepSeconds;
  const windowPoints = Math.max(1, Math.ceil(windowSeconds / scale.stepSeconds));
  const horizonPoints = Math.max(windowPoints, Math.ceil(scale.horizonSeconds / scale.stepSeconds));
  const fc = forecastDemand(grid, horizonPoints);
  if (!fc) throw new Refusal("Pending", "InsufficientHistory", "too little history to forecast");
  const tgt = demandTarget(grid, fc, {
    windowPoints,
    provisionFor: spec.provisionFor,
    headroomPercent: spec.headroomPercent,
  });
  const perReplica = spec.unit === "replicas" ? 1 : (spec.perReplica ?? 1);
  const targetReplicas = replicasFor(tgt.target, perReplica);
  const currentReplicas = replicasFor(tgt.current, perReplica);

  // What was forecast, one window ago, for this moment: "forecast vs actual" on the dashboard.
  const forNow = [...state.pending].reverse().find((p) => p.at <= nowSec);
  // Score earlier forecasts against what happened, then remember this one.
  const lastSample = grid.start + (grid.values.length - 1) * grid.step;
  scorePending(
    state,
    (t) => {
      const v = grid.values[Math.round((t - grid.start) / grid.step)];
      return v !== undefined && Number.isFinite(v) ? v : undefined;
    },
    lastSample,
  );
  state.pending.push({
    at: fc.from + windowPoints * fc.step,
    mean: fc.forecast.mean[windowPoints - 1] ?? tgt.current,
    lower95: fc.forecast.lower95[windowPoints - 1] ?? tgt.current,
    upper95: fc.forecast.upper95[windowPoints - 1] ?? tgt.current,
    provisioned: tgt.target,
  });
  const accuracy = accuracyOf(state.scored);

  // Pods to hold in reserve, within the pool's limits, with hysteresis.
  const view = poolView(pool, await reads.list("Node"), await reads.list("Pod"), shape);
  let desired = Math.max(
    spec.buffer.minReplicas,
    Math.min(spec.buffer.maxReplicas, targetReplicas - currentReplicas),
  );
  let limitedBy: string | null = null;
  if (desired > view.maxBufferPods) {
    desired = Math.max(0, view.maxBufferPods);
    limitedBy = `NodePool ${view.name} limits allow ${view.newNodesAllowed} more node(s)`;
  }
  if (desired === spec.buffer.maxReplicas && targetReplicas - currentReplicas > desired && !limitedBy)
    limitedBy = `buffer.maxReplicas ${spec.buffer.maxReplicas}`;
  const prev = state.buffer.replicas;
  const decision = nextBuffer(state.buffer, desired, nowSec, {
    thresholdPercent: spec.thresholdPercent,
    cooldownSeconds: scale.cooldownSeconds,
  });
  const strategy = await resolveStrategy(kube, spec.strategy, pool);
  const newNodes =
    view.podsPerNode > 0
      ? Math.max(0, Math.ceil((decision.replicas - view.freeSlots) / view.podsPerNode))
      : 0;
  let staticNodes: number | null = null;
  if (strategy === "static") {
    if (view.podsPerNode === 0)
      throw new Refusal(
        "Error",
        "UnknownNodeShape",
        `NodePool ${view.name} has no node yet to size a static pool from`,
      );
    const spare = Math.floor((view.freeSlots - decision.replicas) / view.podsPerNode);
    staticNodes = Math.max(1, view.nodes + (spare < 0 ? newNodes : -spare));
  }

  const events: ProphetEvent[] = [];
  const ref = { namespace: scale.namespace, name: scale.name, nodePool: spec.nodePoolRef.name };
  const changed = decision.replicas !== prev || (staticNodes !== null && staticNodes !== view.staticReplicas);
  let object = `${strategy === "static" ? `NodePool/${view.name}` : `${strategy === "capacityBuffer" ? "CapacityBuffer" : "Deployment"}/${scale.namespace}/${objectName(scale)}`}`;
  let applied = false;
  if (spec.action === "provision" && !ctx.dryRun) {
    const a = await applyBuffer(kube, scale, strategy, shape, decision.replicas, staticNodes ?? 0);
    object = a.object;
    applied = a.changed;
  }
  state.buffer = { replicas: decision.replicas, increasedAt: decision.increasedAt };
  const reason = describeDecision(tgt, leadTime, decision, prev, perReplica, spec.unit);
  if ((changed || applied) && !ctx.dryRun) {
    const data: CapacityChangedData = {
      scale: ref,
      at: now.toISOString(),
      action: spec.action,
      applied: spec.action === "provision",
      strategy,
      object,
      from: prev,
      to: decision.replicas,
      desired: decision.desired,
      staticNodes,
      newNodes,
      podShape: { cpu: formatMilliCpu(shape.cpu), memory: formatBytes(shape.memory) },
      reason,
      limitedBy,
    };
    events.push(
      makeEvent(CapacityChanged, data, {
        cause: tick,
        source: ctx.source,
        subject: scale.key,
        key: scale.key,
        time: now,
      }),
    );
    await appendAudit(deps.store, {
      at: deps.clock.now(),
      cluster,
      actor: ctx.actor,
      action: spec.action === "provision" ? "capacity.provisioned" : "capacity.recommended",
      subject: `PredictiveScale/${scale.key}`,
      details: { object, strategy, from: prev, to: decision.replicas, staticNodes, reason, limitedBy },
      dedupeKey: `forecast-scaling:${cluster}:${scale.key}:${Math.round(nowSec)}`,
    });
  }

  const points = fc.forecast.mean.slice(0, EVENT_POINTS).map((mean, i) => ({
    at: new Date((fc.from + (i + 1) * fc.step) * 1000).toISOString(),
    mean,
    lower95: fc.forecast.lower95[i] ?? mean,
    upper80: fc.forecast.upper80[i] ?? mean,
    upper95: fc.forecast.upper95[i] ?? mean,
  }));
  const computed: ForecastComputedData = {
    scale: ref,
    at: now.toISOString(),
    query: spec.forecastQuery,
    unit: spec.unit,
    stepSeconds: scale.stepSeconds,
    method: fc.forecast.members,
    dailyPeriod: fc.dailyPeriod,
    historyPoints: grid.values.length,
    current: tgt.current,
    predictedPeak: {
      value: tgt.predictedPeak.value,
      at: new Date(tgt.predictedPeak.at * 1000).toISOString(),
    },
    target: tgt.target,
    decidedBy: tgt.decidedBy,
    provisionFor: spec.provisionFor,
    leadTimeSeconds: leadTime,
    targetReplicas,
    currentReplicas,
    points,
    accuracy,
  };
  events.unshift(
    makeEvent(ForecastComputed, computed, {
      cause: tick,
      source: ctx.source,
      subject: scale.key,
      key: scale.key,
      time: now,
    }),
  );

  const phase: Phase =
    spec.action === "recommend"
      ? "Recommending"
      : decision.replicas > 0 || strategy === "static"
        ? "Provisioning"
        : "Idle";
  state.lastEvaluated = nowSec;
  state.last = {
    at: now.toISOString(),
    phase,
    current: tgt.current,
    target: tgt.target,
    decidedBy: tgt.decidedBy,
    predictedPeak: computed.predictedPeak,
    targetReplicas,
    currentReplicas,
    bufferReplicas: decision.replicas,
    desiredReplicas: decision.desired,
    staticNodes,
    newNodes,
    strategy,
    object,
    nodePool: spec.nodePoolRef.name,
    leadTimeSeconds: leadTime,
    limitedBy,
    reason,
    accuracy,
    method: fc.forecast.members,
    ...(forNow ? { forNow } : {}),
  };
  const outcome: ScaleOutcome = {
    key: scale.key,
    phase,
    bufferReplicas: decision.replicas,
    desiredReplicas: decision.desired,
    detail: { ...state.last, previousBuffer: prev },
  };
  if (ctx.dryRun) return { events, outcome };
  await saveForecastState(deps.store, cluster, scale.key, state, now);
  const conditions = [
    condition(obj, "Ready", "True", "Evaluated", reason, now),
    condition(
      obj,
      "CapacityLimited",
      limitedBy ? "True" : "False",
      limitedBy ? "LimitReached" : "WithinLimits",
      limitedBy ?? `the reserve fits NodePool ${view.name}`,
      now,
    ),
  ];
  await writeStatus(kube, obj, {
    phase,
    lastEvaluated: now.toISOString(),
    ...(changed ? { lastProvisioned: now.toISOString() } : {}),
    forecast: {
      current: tgt.current,
      target: tgt.target,
      decidedBy: tgt.decidedBy,
      predictedPeak: computed.predictedPeak.value,
      predictedPeakAt: computed.predictedPeak.at,
      method: fc.forecast.members.join("+"),
    },
    capacity: {
      strategy,
      object,
      bufferReplicas: decision.replicas,
      desiredReplicas: decision.desired,
      ...(staticNodes !== null ? { staticNodes } : {}),
      newNodes,
      leadTimeSeconds: leadTime,
      podShape: { cpu: formatMilliCpu(shape.cpu), memory: formatBytes(shape.memory) },
    },
    accuracy: {
      samples: accuracy.samples,
      ...(accuracy.coverage !== null ? { coverage: round(accuracy.coverage) } : {}),
      ...(accuracy.mape !== null ? { mape: round(accuracy.mape) } : {}),
    },
    message: reason,
    conditions,
  });
  return { events, outcome };
}

function describeDecision(
  tgt: ReturnType<typeof demandTarget>,
  lead: number,
  d: ReturnType<typeof nextBuffer>,
  prev: number,
  perReplica: number,
  unit: string,
): string {
  const u = unit === "replicas" ? "replicas" : `(${fmt(perReplica)} per replica)`;
  const base = `demand ${fmt(tgt.current)} ${u} now, ${fmt(tgt.target)} to cover within ${Math.round(lead)}s lead time (${tgt.decidedBy})`;
  const held =
    d.held === "cooldown"
      ? "; shrink held by cooldown"
      : d.held === "threshold"
        ? "; shrink within threshold"
        : "";
  return d.replicas === prev
    ? `${base}: reserve stays at ${d.replicas} pod(s)${held}`
    : `${base}: reserve ${prev} → ${d.replicas} pod(s)`;
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2).replace(/\.?0+$/, ""));
const round = (x: number) => Math.round(x * 1e4) / 1e4;

/** A high percentile of the measured lead times: capacity late half the time is not capacity. */
function leadOf(samples: { seconds: number }[]): number | undefined {
  if (samples.length === 0) return undefined;
  const s = samples.map((x) => x.seconds).sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(0.9 * s.length))];
}

function condition(
  obj: KubeObject,
  type: string,
  status: Condition["status"],
  reason: string,
  message: string,
  now: Date,
): Condition {
  const prior = (obj.status as { conditions?: Condition[] } | undefined)?.conditions;
  return nextCondition(
    prior,
    {
      type,
      status,
      reason,
      message: message.slice(0, 1000),
      ...(obj.metadata.generation !== undefined ? { observedGeneration: obj.metadata.generation } : {}),
    },
    now,
  );
}

async function writeStatus(
  kube: ClusterPort,
  obj: KubeObject,
  status: Record<string, unknown>,
): Promise<void> {
  if (!kube.patch) return;
  const full = {
    ...status,
    ...(obj.metadata.generation !== undefined ? { observedGeneration: obj.metadata.generation } : {}),
  };
  await kube
    .patch(
      "PredictiveScale",
      obj.metadata.namespace,
      obj.metadata.name,
      { status: full },
      {
        type: "merge",
        subresource: "status",
      },
    )
    .catch(() => undefined);
}

/** PredictiveScales that were deleted release what they held (balloons, buffers) and their state. */
async function releaseGone(
  ctx: ScalingContext,
  cluster: string,
  kube: ClusterPort,
  seen: Set<string>,
  now: Date,
) {
  const states = await listForecastStates(ctx.deps.store, cluster);
  for (const s of states) {
    if (seen.has(s.key)) continue;
    const [namespace, name] = s.key.split("/") as [string, string];
    const objName = objectName({ name } as PredictiveScale);
    const released: string[] = [];
    for (const kind of ["Deployment", "CapacityBuffer", "PodTemplate"]) {
      const o = await kube.get(kind, namespace, objName).catch(() => undefined);
      if (!o || o.metadata.labels?.[SCALE_LABEL] !== name || !kube.delete) continue;
      await kube.delete(kind, namespace, objName).catch(() => false);
      released.push(`${kind}/${namespace}/${objName}`);
    }
    await appendAudit(ctx.deps.store, {
      at: ctx.deps.clock.now(),
      cluster,
      actor: ctx.actor,
      action: "capacity.released",
      subject: `PredictiveScale/${s.key}`,
      details: { released, reason: "PredictiveScale deleted" },
    });
    await deleteForecastState(ctx.deps.store, cluster, s.key);
    ctx.deps.log.info({ scale: s.key, released, at: now.toISOString() }, "capacity released");
  }
}

export type { PodShape, PoolView, ResolvedStrategy };
