// The event catalog: every CloudEvent type Prophet emits or accepts, with the zod schema of its
// `data`. A type not listed here is rejected at the edge. Each entry has a sample under events/.
import type { z } from "zod";
import { ProphetError, describeIssues, issuesFromZod } from "../errors.js";
import { alertEventDataSchema } from "./schemas/alert.js";
import { anomalyDetectedDataSchema } from "./schemas/anomaly.js";
import { auditVerificationDataSchema } from "./schemas/audit.js";
import {
  apiServerRefDataSchema,
  apiServerResourceDataSchema,
  resourceChangedDataSchema,
} from "./schemas/cluster.js";
import { diagnosisCompletedDataSchema } from "./schemas/diagnosis.js";
import { incidentEventDataSchema } from "./schemas/incident.js";
import { remediationEventDataSchema, remediationReviewedDataSchema } from "./schemas/remediation.js";
import { knativePingDataSchema, scheduleTickDataSchema } from "./schemas/schedule.js";
import { capacityChangedDataSchema, forecastComputedDataSchema } from "./schemas/forecast.js";
import { sloEvaluatedDataSchema, sloViolatedDataSchema } from "./schemas/slo.js";
import {
  flowAnomalyDataSchema,
  quarantineDataSchema,
  quarantineReleaseRequestSchema,
} from "./schemas/flows.js";
import { FLOW_BATCH_EVENT, flowBatchDataSchema } from "../flows/batch.js";
import type { ProphetEvent } from "./envelope.js";

export interface EventDefinition<S extends z.ZodType = z.ZodType> {
  type: string;
  version: string;
  description: string;
  /** emitted: Prophet produces it; inbound: a foreign source does, and the edge translates it. */
  direction: "emitted" | "inbound";
  schema: S;
}

function define<S extends z.ZodType>(def: EventDefinition<S>): EventDefinition<S> {
  return def;
}

export const AlertFiring = define({
  type: "io.prophet.alert.firing",
  version: "1",
  description: "One Alertmanager alert that is firing (fanned out of a webhook; id = fingerprint-startsAt).",
  direction: "emitted",
  schema: alertEventDataSchema,
});
export const AlertResolved = define({
  type: "io.prophet.alert.resolved",
  version: "1",
  description: "One Alertmanager alert that resolved (id = fingerprint-startsAt-resolved).",
  direction: "emitted",
  schema: alertEventDataSchema,
});
export const IncidentOpened = define({
  type: "io.prophet.incident.opened",
  version: "1",
  description: "A new incident was recorded for a firing alert.",
  direction: "emitted",
  schema: incidentEventDataSchema,
});
export const IncidentResolved = define({
  type: "io.prophet.incident.resolved",
  version: "1",
  description: "An incident's alert resolved.",
  direction: "emitted",
  schema: incidentEventDataSchema,
});
export const DiagnosisCompleted = define({
  type: "io.prophet.diagnosis.completed",
  version: "1",
  description: "An incident's target was analysed: root cause, findings with evidence, and an explanation.",
  direction: "emitted",
  schema: diagnosisCompletedDataSchema,
});
export const ScheduleTick = define({
  type: "io.prophet.schedule.tick",
  version: "1",
  description: "A timer fired (PingSource, EventBridge schedule, Cloud Scheduler, Azure timer, local cron).",
  direction: "emitted",
  schema: scheduleTickDataSchema,
});
export const ResourceChanged = define({
  type: "io.prophet.cluster.resource.changed",
  version: "1",
  description: "A Kubernetes object was added, updated or deleted (from ApiServerSource or a watch).",
  direction: "emitted",
  schema: resourceChangedDataSchema,
});
export const AuditVerified = define({
  type: "io.prophet.audit.verified",
  version: "1",
  description: "The audit log's hash chain was verified intact.",
  direction: "emitted",
  schema: auditVerificationDataSchema,
});
export const AuditTampered = define({
  type: "io.prophet.audit.tampered",
  version: "1",
  description: "The audit log's hash chain is broken: a row was changed, removed or inserted.",
  direction: "emitted",
  schema: auditVerificationDataSchema,
});
const remediation = (verb: string, description: string) =>
  define({
    type: `io.prophet.remediation.${verb}`,
    version: "1",
    description,
    direction: "emitted",
    schema: remediationEventDataSchema,
  });
export const RemediationProposed = remediation(
  "proposed",
  "A remediation waits for a human (approval link inside), or was recorded only (dry-run).",
);
export const RemediationApproved = remediation("approved", "A human approved a proposed remediation.");
export const RemediationRejected = remediation(
  "rejected",
  "A proposed remediation was rejected by a human, or expired unanswered.",
);
export const RemediationExecuted = remediation(
  "executed",
  "An action ran on the cluster and its change was verified.",
);
export const RemediationFailed = remediation(
  "failed",
  "An action failed to run, or its change could not be verified.",
);
export const RemediationBlocked = remediation(
  "blocked",
  "The policy gate refused a decision (reason: the first check that failed).",
);
export const RemediationAssessed = remediation(
  "assessed",
  "After the stabilization window: the action's effectiveness (health, alert, metrics) and drift.",
);
export const RemediationReviewed = define({
  type: "io.prophet.remediation.reviewed",
  version: "1",
  description: "A human approved or rejected a proposal (POST /approvals/<id>, the CLI, a Slack link).",
  direction: "emitted",
  schema: remediationReviewedDataSchema,
});
export const remediationEvents = [
  RemediationProposed,
  RemediationApproved,
  RemediationRejected,
  RemediationExecuted,
  RemediationFailed,
  RemediationBlocked,
  RemediationAssessed,
];

export const SloEvaluated = define({
  type: "io.prophet.slo.evaluated",
  version: "1",
  description:
    "slo-check evaluated one SLO: error ratios and burn rates per window, budget left, time to exhaustion.",
  direction: "emitted",
  schema: sloEvaluatedDataSchema,
});
export const SloViolated = define({
  type: "io.prophet.slo.violated",
  version: "1",
  description: "A multiwindow burn-rate tier of an SLO started firing (page or ticket severity).",
  direction: "emitted",
  schema: sloViolatedDataSchema,
});

export const ForecastComputed = define({
  type: "io.prophet.forecast.computed",
  version: "1",
  description:
    "forecast-scaling forecast one PredictiveScale's demand: bands over the horizon, the target over the node lead time, accuracy so far.",
  direction: "emitted",
  schema: forecastComputedDataSchema,
});
export const CapacityChanged = define({
  type: "io.prophet.capacity.changed",
  version: "1",
  description:
    "forecast-scaling changed (or, for action recommend, would change) the capacity held ahead of demand for one PredictiveScale.",
  direction: "emitted",
  schema: capacityChangedDataSchema,
});

export const AnomalyDetected = define({
  type: "io.prophet.anomaly.detected",
  version: "1",
  description:
    "anomaly-trigger found one series of an AnomalyAction anomalous (learned detector, trend, projected OOM or threshold).",
  direction: "emitted",
  schema: anomalyDetectedDataSchema,
});

export const FlowsBatch = define({
  type: FLOW_BATCH_EVENT,
  version: "1",
  description:
    "A batch of Hubble flows (exporter JSONL lines or parsed GetFlowsResponse objects) from a sidecar tailing the exporter file or a Relay client.",
  direction: "inbound",
  schema: flowBatchDataSchema,
});
export const FlowAnomaly = define({
  type: "io.prophet.flow.anomaly",
  version: "1",
  description:
    "hubble-quarantine found traffic the learned service map cannot explain (new egress, scan, lateral movement, drop storm, DNS exfiltration, traffic from a quarantined pod).",
  direction: "emitted",
  schema: flowAnomalyDataSchema,
});
export const QuarantineApplied = define({
  type: "io.prophet.quarantine.applied",
  version: "1",
  description:
    "A pod was quarantined (quarantine_pod ran and verified): out of its Services, its traffic denied.",
  direction: "emitted",
  schema: quarantineDataSchema,
});
export const QuarantineReleaseRequested = define({
  type: "io.prophet.quarantine.release.requested",
  version: "1",
  description:
    "A person asks to release a quarantined pod now (POST /api/quarantines/<ns>/<pod>/release, `prophet quarantine release`); signed with the approval key.",
  direction: "inbound",
  schema: quarantineReleaseRequestSchema,
});
export const QuarantineReleased = define({
  type: "io.prophet.quarantine.released",
  version: "1",
  description: "A quarantined pod was released (its quarantine undone, or it expired).",
  direction: "emitted",
  schema: quarantineDataSchema,
});

export const KnativePing = define({
  type: "dev.knative.sources.ping",
  version: "1",
  description: "Knative PingSource tick; translated at the edge into io.prophet.schedule.tick.",
  direction: "inbound",
  schema: knativePingDataSchema,
});

const apiServerTypes = (["add", "update", "delete"] as const).flatMap((change) => [
  define({
    type: `dev.knative.apiserver.resource.${change}`,
    version: "1",
    description: `Knative ApiServerSource (Resource mode) ${change}; translated into io.prophet.cluster.resource.changed.`,
    direction: "inbound" as const,
    schema: apiServerResourceDataSchema,
  }),
  define({
    type: `dev.knative.apiserver.ref.${change}`,
    version: "1",
    description: `Knative ApiServerSource (Reference mode) ${change}; translated into io.prophet.cluster.resource.changed.`,
    direction: "inbound" as const,
    schema: apiServerRefDataSchema,
  }),
]);

export const catalog: readonly EventDefinition[] = [
  AlertFiring,
  AlertResolved,
  IncidentOpened,
  IncidentResolved,
  DiagnosisCompleted,
  ScheduleTick,
  ResourceChanged,
  AuditVerified,
  AuditTampered,
  ...remediationEvents,
  RemediationReviewed,
  SloEvaluated,
  SloViolated,
  ForecastComputed,
  CapacityChanged,
  AnomalyDetected,
  FlowsBatch,
  FlowAnomaly,
  QuarantineApplied,
  QuarantineReleaseRequested,
  QuarantineReleased,
  KnativePing,
  ...apiServerTypes,
];

const byType = new Map(catalog.map((d) => [d.type, d]));

export function findEventDefinition(type: string): EventDefinition | undefined {
  return byType.get(type);
}

/** Validates `data` against the catalog; returns the event with defaults applied by the schema. */
export function validateEvent(event: ProphetEvent): ProphetEvent {
  const def = byType.get(event.type);
  if (!def) {
    throw new ProphetError("unknown_type", `unknown event type "${event.type}"`, [
      { path: "type", message: `not in the event catalog (see \`prophet events list\`)` },
    ]);
  }
  const res = def.schema.safeParse(event.data);
  if (!res.success) {
    const issues = issuesFromZod(res.error.issues, "data");
    throw new ProphetError(
      "invalid_data",
      `data of ${event.type} does not match its schema: ${describeIssues(issues)}`,
      issues,
    );
  }
  return { ...event, data: res.data };
}

/** Narrows an already validated event to the data type of a definition. */
export function isEvent<S extends z.ZodType>(
  event: ProphetEvent,
  def: EventDefinition<S>,
): event is ProphetEvent<z.infer<S>> {
  return event.type === def.type;
}
