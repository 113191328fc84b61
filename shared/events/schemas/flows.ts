// Events of hubble-quarantine: a detection on the flows (io.prophet.flow.anomaly) and the
// quarantine of a pod applied or released (io.prophet.quarantine.applied|released). The inbound
// batch of flows (io.prophet.flows.batch) is defined with its reader in shared/flows/batch.ts.
import { z } from "zod";
import { DETECTOR_NAMES } from "../../flows/detectors/detector.js";

const detectorName = z.enum(DETECTOR_NAMES);

/** One flow of the evidence, flattened for people and for storage. */
export const evidenceFlowSchema = z.object({
  time: z.iso.datetime({ offset: true }),
  verdict: z.string(),
  dropReason: z.string().optional(),
  protocol: z.string(),
  source: z.string(),
  destination: z.string(),
  port: z.number().int().nonnegative().optional(),
  dnsQuery: z.string().optional(),
  node: z.string().optional(),
});
export type EvidenceFlow = z.infer<typeof evidenceFlowSchema>;

/** data of io.prophet.flow.anomaly: a detector found traffic its baseline cannot explain. */
export const flowAnomalyDataSchema = z.object({
  detector: detectorName,
  /** Machine-readable: new_external_destination, port_scan, … */
  reason: z.string().min(1),
  message: z.string().min(1),
  /** [0, 1]; the quarantine threshold decides whether a quarantine is proposed. */
  score: z.number().min(0).max(1),
  /** The workload identity acting (namespace/app), and its pod when one pod is named. */
  identity: z.string().min(1),
  namespace: z.string().nullable(),
  pod: z.string().nullable(),
  /** Same key, same finding: repeats are counted, not re-announced within the suppression window. */
  key: z.string().min(1),
  count: z.number().int().positive(),
  firstSeen: z.iso.datetime({ offset: true }),
  lastSeen: z.iso.datetime({ offset: true }),
  evidence: z.array(evidenceFlowSchema).max(50),
  /** Whether a quarantine of the pod was asked for (an alert routed to remediation). */
  quarantineProposed: z.boolean(),
});
export type FlowAnomalyData = z.infer<typeof flowAnomalyDataSchema>;

/** data of io.prophet.quarantine.applied|released. */
export const quarantineDataSchema = z.object({
  namespace: z.string().min(1),
  pod: z.string().min(1),
  /** The remediation that quarantined (or released) it. */
  remediationId: z.string().min(1),
  incidentId: z.string().min(1).nullable(),
  /** What the action changed, as it reported it. */
  changes: z.array(z.string()),
  reason: z.string().nullable(),
});
export type QuarantineData = z.infer<typeof quarantineDataSchema>;

/**
 * data of io.prophet.quarantine.release.requested: a person asks to release a quarantined pod
 * before its time is up. Signed (the local host's operator API and `prophet quarantine release`
 * sign it with the approval key): the token covers every field, so none can be changed.
 */
export const quarantineReleaseRequestSchema = z.object({
  namespace: z.string().min(1).max(253),
  pod: z.string().min(1).max(253),
  actor: z.string().min(1).max(200),
  reason: z.string().min(1, "say why the quarantine can end").max(2000),
  /** The token is worthless after this. */
  expiresAt: z.iso.datetime({ offset: true }),
  token: z.string().min(1).max(200),
});
export type QuarantineReleaseRequestData = z.infer<typeof quarantineReleaseRequestSchema>;
