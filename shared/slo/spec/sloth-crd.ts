// Sloth's Kubernetes resource: `apiVersion: sloth.slok.dev/v1`, `kind: PrometheusServiceLevel`.
// Its spec is the prometheus/v1 content in camelCase (errorQuery, pageAlert, …); it becomes the
// same SloSpecs, with the object recorded as the source.
import { z } from "zod";
import type { SloLoadResult, SloSource } from "../model.js";
import { labelMap, zodErrors } from "./common.js";
import { slothSlos, type SlothContent } from "./sloth.js";
import { objectRef } from "./object.js";

export const slothApiVersion = "sloth.slok.dev/v1";

const text = z.string();

const alertSchema = z.strictObject({
  disable: z.boolean().default(false),
  labels: labelMap.default({}),
  annotations: labelMap.default({}),
});

export const prometheusServiceLevelSpecSchema = z.strictObject({
  service: text.min(1),
  labels: labelMap.default({}),
  slos: z
    .array(
      z.strictObject({
        name: text.min(1),
        objective: z.number(),
        description: text.default(""),
        labels: labelMap.default({}),
        sli: z.strictObject({
          events: z.strictObject({ errorQuery: text, totalQuery: text }).optional(),
          raw: z.strictObject({ errorRatioQuery: text }).optional(),
          plugin: z.unknown().optional(),
        }),
        alerting: z
          .strictObject({
            name: text.optional(),
            disable: z.boolean().default(false),
            labels: labelMap.default({}),
            annotations: labelMap.default({}),
            pageAlert: alertSchema.prefault({}),
            ticketAlert: alertSchema.prefault({}),
          })
          .prefault({}),
      }),
    )
    .min(1, "at least one SLO is needed"),
});

/** A PrometheusServiceLevel object as SloSpecs, or the reasons it is not one. Never throws. */
export function parsePrometheusServiceLevel(obj: unknown, origin: string): SloLoadResult {
  const ref = objectRef(obj, origin);
  if ("error" in ref) return { slos: [], errors: [ref.error] };
  const parsed = prometheusServiceLevelSpecSchema.safeParse(ref.spec, { reportInput: true });
  if (!parsed.success) return { slos: [], errors: zodErrors(parsed.error, origin, "spec") };
  const d = parsed.data;
  const content: SlothContent = {
    service: d.service,
    labels: d.labels,
    slos: d.slos.map((s) => ({
      name: s.name,
      objective: s.objective,
      description: s.description,
      labels: s.labels,
      sli: {
        events: s.sli.events && { error: s.sli.events.errorQuery, total: s.sli.events.totalQuery },
        raw: s.sli.raw && { ratio: s.sli.raw.errorRatioQuery },
        plugin: s.sli.plugin,
      },
      alerting: {
        name: s.alerting.name,
        disable: s.alerting.disable,
        labels: s.alerting.labels,
        annotations: s.alerting.annotations,
        page: s.alerting.pageAlert,
        ticket: s.alerting.ticketAlert,
      },
    })),
  };
  const source: SloSource = { format: "PrometheusServiceLevel", origin, object: ref.object };
  return slothSlos(content, source, "spec", {
    errorQuery: "errorQuery",
    totalQuery: "totalQuery",
    errorRatioQuery: "errorRatioQuery",
    pageAlert: "pageAlert",
    ticketAlert: "ticketAlert",
  });
}
