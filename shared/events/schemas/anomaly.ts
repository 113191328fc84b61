import { z } from "zod";

const component = z.enum(["surprise", "trend", "projected-limit", "threshold"]);

/** data of io.prophet.anomaly.detected: one series of one AnomalyAction became anomalous. */
export const anomalyDetectedDataSchema = z.object({
  /** The AnomalyAction that asked for it. */
  action: z.object({
    /** "<namespace>/<name>". */
    id: z.string().min(1),
    origin: z.enum(["cluster", "file"]),
    metric: z.string().min(1),
    /** "anomaly" (the learned detector) or the comparison ("> 1Gi", "> 80% of limit"). */
    threshold: z.string().min(1),
    requireApproval: z.boolean(),
    cooldownSeconds: z.number().int().nonnegative(),
  }),
  /** The series: its labels as the metrics API returned them; key = sorted labels. */
  series: z.object({ key: z.string().min(1), labels: z.record(z.string(), z.string()) }),
  /** The sample that was anomalous (RFC 3339) and its value. */
  at: z.iso.datetime({ offset: true }),
  value: z.number(),
  /** [0, 1]; 0.5 is the alarm line. */
  score: z.number().min(0).max(1),
  detector: z.object({
    mode: z.enum(["anomaly", "threshold"]),
    /** Which view fired: the detector's surprise, a steady trend, the projected time to the
     * container's memory limit, or the threshold held for `for`. */
    component,
    scores: z.object({
      surprise: z.number().nullable(),
      trend: z.number().nullable(),
      projection: z.number().nullable(),
    }),
    /** Threshold mode: the bound compared with (the value, or the share of the limit). */
    bound: z.number().nullable(),
  }),
  /** What the series is about, from its labels and the cluster. */
  target: z.object({
    namespace: z.string().nullable(),
    pod: z.string().nullable(),
    container: z.string().nullable(),
    workload: z.object({ kind: z.string(), name: z.string() }).nullable(),
  }),
  /** Replicas of the same workload compared over the recent points (three or more series). */
  peers: z
    .object({
      group: z.string(),
      members: z.number().int().positive(),
      /** The one pod unlike its replicas, if any. */
      outlier: z.string().nullable(),
      deviation: z.number().nullable(),
      /** Whether this series is that pod. */
      isOutlier: z.boolean(),
    })
    .nullable(),
  /** When the container's memory limit is reached at the current slope (linear fit). */
  projection: z
    .object({
      bound: z.number(),
      boundKind: z.literal("memory-limit"),
      secondsToBound: z.number().nonnegative(),
      at: z.iso.datetime({ offset: true }),
      slopePerSecond: z.number(),
      points: z.number().int().positive(),
      method: z.literal("linear-fit"),
    })
    .nullable(),
  /** The action the remediation planner is asked to prefer (from spec.remediation or spec.action). */
  remediation: z.object({ action: z.string(), requireApproval: z.boolean() }).nullable(),
  /** The io.prophet.alert.firing raised with it (the remediation pipeline's entry). */
  alert: z.object({ alertname: z.string(), fingerprint: z.string() }),
  /** Anomalies raised for this series so far, this one included. */
  detections: z.number().int().positive(),
});
export type AnomalyDetectedData = z.infer<typeof anomalyDetectedDataSchema>;
