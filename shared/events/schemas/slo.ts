import { z } from "zod";

const ratio = z.number().nullable();

/** One window's numbers, as slo-check computed them. */
export const sloWindowSchema = z.object({
  window: z.string().min(1),
  errorRatio: ratio,
  burnRate: ratio,
  events: z.number().nullable(),
  lowTraffic: z.boolean(),
});

export const sloTimeToExhaustionSchema = z.object({
  status: z.enum(["exhausted", "projected", "not_within_horizon", "insufficient_data"]),
  /** When the budget runs out at the point estimate (RFC 3339), null when not within the horizon. */
  at: z.string().nullable(),
  seconds: z.number().nullable(),
  /** Bounds from the forecast's prediction intervals, seconds from now. */
  earliestSeconds: z.number().nullable(),
  latestSeconds: z.number().nullable(),
  method: z.string(),
});

const sloRefSchema = z.object({
  sloId: z.string().min(1),
  service: z.string().min(1),
  slo: z.string().min(1),
  /** Where the spec came from: a file path or <namespace>/<name> of the object. */
  origin: z.string(),
  format: z.enum(["sloth", "PrometheusServiceLevel", "openslo", "SLOViolation"]),
  /** The objective as a ratio (0.999). */
  target: z.number().gt(0).lt(1),
  periodSeconds: z.number().int().positive(),
});

/** data of io.prophet.slo.evaluated */
export const sloEvaluatedDataSchema = sloRefSchema.extend({
  at: z.iso.datetime({ offset: true }),
  phase: z.enum(["Monitoring", "Violated", "Remediating", "Resolved"]),
  budgetRemaining: ratio,
  currentBurnRate: ratio,
  periodBurnRate: ratio,
  windows: z.array(sloWindowSchema),
  /** Tiers whose both windows burn faster than their factor. */
  firingTiers: z.array(z.enum(["page-fast", "page-slow", "ticket-fast", "ticket-slow"])),
  firing: z.enum(["page", "ticket"]).nullable(),
  timeToExhaustion: sloTimeToExhaustionSchema.nullable(),
  /** Queries the metrics API refused; a non-empty list means the numbers are incomplete. */
  problems: z.array(z.string()),
});
export type SloEvaluatedData = z.infer<typeof sloEvaluatedDataSchema>;

/** data of io.prophet.slo.violated */
export const sloViolatedDataSchema = sloRefSchema.extend({
  at: z.iso.datetime({ offset: true }),
  severity: z.enum(["page", "ticket"]),
  tiers: z.array(
    z.object({
      name: z.enum(["page-fast", "page-slow", "ticket-fast", "ticket-slow"]),
      factor: z.number(),
      long: sloWindowSchema,
      short: sloWindowSchema,
    }),
  ),
  budgetRemaining: ratio,
  violationCount: z.number().int().positive(),
  /** The alert slo-check raised for it (alertname and fingerprint), when alerting is on. */
  alert: z.object({ alertname: z.string(), fingerprint: z.string() }).nullable(),
  /** The rollout the burn followed, when the serving workload changed within the hour. */
  rollout: z
    .object({ kind: z.string(), namespace: z.string(), name: z.string(), secondsBefore: z.number() })
    .nullable(),
});
export type SloViolatedData = z.infer<typeof sloViolatedDataSchema>;
