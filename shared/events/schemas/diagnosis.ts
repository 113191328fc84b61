import { z } from "zod";
import { findingSchema } from "../../diagnosis/finding.js";
import { alertTargetSchema } from "./alert.js";

/** data of io.prophet.diagnosis.completed */
export const diagnosisCompletedDataSchema = z.object({
  incidentId: z.string().min(1),
  alertname: z.string().min(1),
  target: alertTargetSchema,
  /** OK: nothing wrong found; ProblemDetected: findings; Unavailable: no cluster to read. */
  status: z.enum(["OK", "ProblemDetected", "Unavailable"]),
  /** The finding most likely to cause the others; null when there are none. */
  rootCause: findingSchema.nullable(),
  findings: z.array(findingSchema),
  explanation: z.object({
    summary: z.string().min(1),
    nextSteps: z.array(z.string()),
    /** Who wrote the text: "rule-based" or "llm:<model>" (absent in older diagnoses). */
    explainer: z.string().optional(),
    /** Why the rule-based text is used although an LLM is configured (timeout, bad answer, …). */
    fallback: z.string().optional(),
    /** LLM only: the finding (index into `findings`) it names as the root cause, and why. */
    likelyCause: z.object({ finding: z.number().int().nonnegative(), reasoning: z.string() }).optional(),
    /** LLM only: for each next step, the findings (indexes) it follows from. */
    citations: z.array(z.array(z.number().int().nonnegative())).optional(),
  }),
  /** How the objects to analyse were chosen, and how many there were. */
  scope: z.object({
    basis: z.enum(["object", "node", "namespace", "none"]),
    objects: z.number().int().nonnegative(),
    missing: z.string().optional(),
  }),
  durationMs: z.number().nonnegative(),
  /** With a metrics port: how the findings' metric readings were read, and why some are missing. */
  metricEvidence: z
    .object({
      /** The metrics endpoint, without credentials. */
      source: z.string(),
      queries: z.number().int().nonnegative(),
      /** Readings added to findings. */
      readings: z.number().int().nonnegative(),
      durationMs: z.number().nonnegative(),
      /** Set when queries failed or timed out: the findings then lack (some) metric evidence. */
      note: z.string().optional(),
    })
    .optional(),
});
export type DiagnosisCompletedData = z.infer<typeof diagnosisCompletedDataSchema>;
