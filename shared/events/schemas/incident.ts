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
});
export type IncidentEventData = z.infer<typeof incidentEventDataSchema>;
