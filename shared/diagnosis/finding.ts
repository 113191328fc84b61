// A finding: one problem with one object, with a machine-readable reason, a message that names the
// concrete entity (taint key, missing Secret, storage class, container, image tag) and evidence.
import { z } from "zod";

/**
 * One metric reading about a finding's object, read through the metrics port around the alert
 * (shared/diagnosis/metrics-evidence.ts). Its numbers also go into `evidence.metrics`.
 */
export const metricReadingSchema = z.object({
  /** What was read, a stable code: memory_vs_limit, restarts, error_ratio, cpu_throttling. */
  signal: z.string().min(1),
  /** For people, numbers and times only (no names, which the finding already gives): "working set
   * peaked at 380Mi of the 384Mi memory limit (99 %) at 08:13 UTC, rising 64Mi/min". */
  summary: z.string().min(1),
  /** The PromQL, so a person can run it again. */
  query: z.string().min(1),
  /** The end of the window read. */
  at: z.iso.datetime({ offset: true }),
});
export type MetricReading = z.infer<typeof metricReadingSchema>;

export const findingEvidenceSchema = z.object({
  /** Events about the object, newest last: "Reason: message (xN)". */
  events: z.array(z.string()),
  /** Bounded tail of container logs (previous container when it crashed). */
  logs: z.array(z.string()).optional(),
  /** Metric values read around the problem (e.g. memory limit, restarts). */
  metrics: z.record(z.string(), z.number()).optional(),
  /** What the metrics port showed around the alert (absent without a metrics port). */
  readings: z.array(metricReadingSchema).optional(),
});
export type FindingEvidence = z.infer<typeof findingEvidenceSchema>;

export const findingSchema = z.object({
  kind: z.string().min(1),
  /** "" for cluster-scoped objects (Node, StorageClass, IngressClass). */
  namespace: z.string(),
  name: z.string().min(1),
  reason: z.string().min(1),
  message: z.string().min(1),
  evidence: findingEvidenceSchema,
  /** The owning workload at the top of the owner chain, e.g. "Deployment/shop/cart". */
  parent: z.string().optional(),
});
export type Finding = z.infer<typeof findingSchema>;

/** The `prophet diagnose --output json` contract (see shared/diagnosis/README.md). */
export const diagnosisReportSchema = z.object({
  status: z.enum(["OK", "ProblemDetected"]),
  problems: z.number().int().nonnegative(),
  results: z.array(
    z.object({
      kind: z.string(),
      namespace: z.string(),
      name: z.string(),
      reason: z.string(),
      message: z.string(),
      parent: z.string().optional(),
      evidence: findingEvidenceSchema.optional(),
    }),
  ),
});
export type DiagnosisReport = z.infer<typeof diagnosisReportSchema>;

export function toReport(findings: readonly Finding[]): DiagnosisReport {
  return {
    status: findings.length === 0 ? "OK" : "ProblemDetected",
    problems: findings.length,
    results: findings.map((f) => ({
      kind: f.kind,
      namespace: f.namespace,
      name: f.name,
      reason: f.reason,
      message: f.message,
      ...(f.parent ? { parent: f.parent } : {}),
      evidence: f.evidence,
    })),
  };
}
