import { z } from "zod";

const labelSet = z.record(z.string(), z.string());

/** One alert as Alertmanager's webhook v4 sends it. */
export const alertmanagerAlertSchema = z.object({
  status: z.enum(["firing", "resolved"]),
  labels: labelSet.refine((l) => typeof l.alertname === "string" && l.alertname.length > 0, {
    message: "must contain an alertname label",
  }),
  annotations: labelSet.default({}),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.string().default("0001-01-01T00:00:00Z"),
  generatorURL: z.string().default(""),
  fingerprint: z.string().regex(/^[0-9a-f]{1,64}$/i, "must be Alertmanager's hex fingerprint"),
});

/** Alertmanager webhook payload, version 4. */
export const alertmanagerWebhookSchema = z.object({
  version: z.literal("4", { error: 'must be "4" (Alertmanager webhook version 4)' }),
  receiver: z.string(),
  status: z.enum(["firing", "resolved"]),
  alerts: z.array(alertmanagerAlertSchema).min(1, "must contain at least one alert"),
  groupLabels: labelSet.default({}),
  commonLabels: labelSet.default({}),
  commonAnnotations: labelSet.default({}),
  externalURL: z.string().default(""),
  groupKey: z.string().default(""),
  truncatedAlerts: z.number().int().nonnegative().default(0),
});
export type AlertmanagerWebhook = z.infer<typeof alertmanagerWebhookSchema>;
export type AlertmanagerAlert = z.infer<typeof alertmanagerAlertSchema>;

/** The Kubernetes object an alert is about, read from the labels kube-prometheus rules attach. */
export const alertTargetSchema = z.object({
  namespace: z.string().optional(),
  kind: z.string().optional(),
  name: z.string().optional(),
  node: z.string().optional(),
  instance: z.string().optional(),
});

/** data of io.prophet.alert.firing and io.prophet.alert.resolved */
export const alertEventDataSchema = z.object({
  fingerprint: z.string().min(1),
  status: z.enum(["firing", "resolved"]),
  alertname: z.string().min(1),
  severity: z.string().default("none"),
  labels: labelSet,
  annotations: labelSet,
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.string().nullable(),
  generatorURL: z.string(),
  target: alertTargetSchema,
  receiver: z.string(),
  groupKey: z.string(),
  externalURL: z.string(),
});
export type AlertEventData = z.infer<typeof alertEventDataSchema>;
