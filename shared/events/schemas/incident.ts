import { z } from "zod";
import { alertTargetSchema } from "./alert.js";

/** data of io.prophet.incident.opened / io.prophet.incident.resolved */
export const incidentEventDataSchema = z.object({
  incidentId: z.string().min(1),
  fingerprint: z.string().min(1),
  alertname: z.string().min(1),
  severity: z.string(),
  status: z.enum(["firing", "resolved"]),
  summary: z.string(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  target: alertTargetSchema,
  startsAt: z.iso.datetime({ offset: true }),
  resolvedAt: z.iso.datetime({ offset: true }).nullable(),
  /** How many alerts the incident groups (the first one included); absent from older senders. */
  alerts: z.number().int().positive().optional(),
  /** Their distinct alertnames, sorted. */
  alertnames: z.array(z.string().min(1)).optional(),
});
export type IncidentEventData = z.infer<typeof incidentEventDataSchema>;
