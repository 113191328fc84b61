import { z } from "zod";
import { actionTargetSchema } from "../../remediation/decision.js";

/** A remediation's status (shared/remediation/store.ts's lifecycle). */
export const remediationStatusSchema = z.enum([
  "proposed",
  "approved",
  "rejected",
  "expired",
  "executing",
  "executed",
  "failed",
  "blocked",
  "dry_run",
  "no_action",
]);

/** data of io.prophet.remediation.{proposed,approved,rejected,executed,failed,blocked,assessed} */
export const remediationEventDataSchema = z.object({
  remediationId: z.string().min(1),
  incidentId: z.string().min(1),
  /** null: the decider chose no action (blocked with reason no_action is never emitted). */
  action: z.string().nullable(),
  target: actionTargetSchema.nullable(),
  params: z.record(z.string(), z.unknown()).nullable(),
  /** "rules" or "llm:<model>". */
  decider: z.string(),
  confidence: z.number().min(0).max(1),
  mode: z.enum(["autonomous", "human-in-loop", "dry-run"]),
  status: remediationStatusSchema,
  /** Gate reason code (blocked), failure code (failed), "expired", or null. */
  reason: z.string().nullable(),
  /** One human sentence: what happened and why. */
  detail: z.string(),
  rootCause: z.string(),
  rationale: z.string().nullable(),
  policy: z.string(),
  /** proposed: the link and why a human must decide. */
  approval: z
    .object({
      url: z.string().optional(),
      expiresAt: z.iso.datetime({ offset: true }),
      reasons: z.array(z.string()),
    })
    .optional(),
  /** Who approved or rejected (user:alice, cli, …). */
  actor: z.string().optional(),
  changes: z.array(z.string()).optional(),
  verify: z.object({ ok: z.boolean(), detail: z.string() }).optional(),
  assessment: z
    .object({
      score: z.number().min(0).max(1).nullable(),
      health: z.number().min(0).max(1).nullable(),
      alertResolved: z.number().min(0).max(1).nullable(),
      metricImprovement: z.number().min(0).max(1).nullable(),
      drift: z.enum(["none", "changed", "reverted", "unknown"]),
      notes: z.array(z.string()),
    })
    .optional(),
});
export type RemediationEventData = z.infer<typeof remediationEventDataSchema>;

/** data of io.prophet.remediation.reviewed: a human's verdict on a proposal. */
export const remediationReviewedDataSchema = z.object({
  remediationId: z.string().min(1).max(200),
  verdict: z.enum(["approve", "reject"]),
  /** The HMAC token from the approval link (single use, expiring). */
  token: z.string().min(16).max(200),
  /** Who: "user:alice", "slack:U123", "cli:alice". */
  actor: z.string().min(1).max(200),
  comment: z.string().max(1000).optional(),
});
export type RemediationReviewedData = z.infer<typeof remediationReviewedDataSchema>;
