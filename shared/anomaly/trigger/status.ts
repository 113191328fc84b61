// The status anomaly-trigger writes back to each AnomalyAction: phase (Active, Detected, Invalid),
// lastDetected, detectionCount, the series evaluated and firing, and two conditions with reasons a
// person can act on — Ready (the metric was evaluated, or the metrics API's own error) and
// AnomalyDetected. A condition keeps its lastTransitionTime while its status does not change.
import type { KubeObject } from "../../diagnosis/objects.js";
import {
  writePolicyStatus,
  type PolicyCondition,
  type PolicyPhase,
  type PolicyStatus,
} from "../../remediation/policy-source.js";
import { nextCondition } from "../../kube/conditions.js";
import type { TriggerContext } from "./trigger.js";

export interface ActionOutcome {
  at: Date;
  series: number;
  /** Pods (or series keys) whose anomaly is firing. */
  anomalous: string[];
  /** When each detection of this invocation happened. */
  detections: Date[];
  /** Why the metric was not evaluated; bad = the query itself is wrong (phase Invalid). */
  error: { reason: string; message: string; bad: boolean } | null;
}

interface PriorStatus {
  conditions?: PolicyCondition[];
  detectionCount?: number;
  lastDetected?: string;
}

function condition(
  prior: PolicyCondition[] | undefined,
  next: Omit<PolicyCondition, "lastTransitionTime">,
  at: Date,
): PolicyCondition {
  return nextCondition(prior, next, at);
}

function idOf(o: KubeObject): string {
  return `${o.metadata.namespace || "default"}/${o.metadata.name}`;
}

export async function writeActionStatus(
  ctx: TriggerContext,
  object: KubeObject,
  outcome: ActionOutcome,
): Promise<void> {
  const kube = ctx.deps.kube;
  if (!kube) return;
  const prior = (object.status ?? {}) as PriorStatus;
  const generation = object.metadata.generation;
  const e = outcome.error;
  const latest = outcome.detections
    .map((d) => d.toISOString())
    .sort()
    .at(-1);
  const lastDetected = latest ?? prior.lastDetected;
  const firing = [...new Set(outcome.anomalous)].sort();
  const phase: PolicyPhase = e?.bad ? "Invalid" : firing.length > 0 ? "Detected" : "Active";
  const ready = condition(
    prior.conditions,
    e
      ? { type: "Ready", status: e.bad ? "False" : "Unknown", reason: e.reason, message: e.message }
      : {
          type: "Ready",
          status: "True",
          reason: "Evaluated",
          message: `${outcome.series} series evaluated`,
        },
    outcome.at,
  );
  const detected = condition(
    prior.conditions,
    firing.length > 0
      ? {
          type: "AnomalyDetected",
          status: "True",
          reason: "Anomalous",
          message: `${firing.length} of ${outcome.series} series anomalous: ${firing.slice(0, 10).join(", ")}`,
        }
      : { type: "AnomalyDetected", status: "False", reason: "Normal", message: "no series is anomalous" },
    outcome.at,
  );
  if (generation !== undefined) {
    ready.observedGeneration = generation;
    detected.observedGeneration = generation;
  }
  const status: PolicyStatus = {
    phase,
    detectionCount: (prior.detectionCount ?? 0) + outcome.detections.length,
    activeSeries: outcome.series,
    anomalousSeries: firing.length,
    message: e ? `metric not evaluated: ${e.message}` : detected.message!,
    conditions: [ready, detected],
    ...(lastDetected ? { lastDetected } : {}),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  await writePolicyStatus(kube, idOf(object), status, { kind: "AnomalyAction", log: ctx.deps.log });
}

/** Phase Invalid, with the reason the spec was refused. */
export async function writeInvalidStatus(
  ctx: TriggerContext,
  object: KubeObject,
  reason: string,
): Promise<void> {
  const kube = ctx.deps.kube;
  if (!kube) return;
  const prior = (object.status ?? {}) as PriorStatus;
  const at = ctx.deps.clock.now();
  const generation = object.metadata.generation;
  const ready = condition(
    prior.conditions,
    { type: "Ready", status: "False", reason: "InvalidSpec", message: reason.slice(0, 1000) },
    at,
  );
  if (generation !== undefined) ready.observedGeneration = generation;
  await writePolicyStatus(
    kube,
    idOf(object),
    {
      phase: "Invalid",
      message: reason.slice(0, 1000),
      conditions: [ready],
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    },
    { kind: "AnomalyAction", log: ctx.deps.log },
  );
}
