// Sloth's `version: "prometheus/v1"` spec files (slok/sloth pkg/prometheus/api/v1): a service, its
// labels and a list of SLOs. The Kubernetes form (sloth-crd.ts) has the same content in camelCase
// and is turned into the same shape, so both share slothSlos below.
import { z } from "zod";
import {
  DEFAULT_MIN_EVENTS,
  DEFAULT_PERIOD_SECONDS,
  type Sli,
  type SloLoadResult,
  type SloSource,
  type SloSpecError,
} from "../model.js";
import {
  defaultAlertName,
  joinPath,
  labelErrors,
  labelMap,
  targetFromPercent,
  windowProblem,
  zodErrors,
} from "./common.js";

const text = z.string();

const alertSchema = z.strictObject({
  disable: z.boolean().default(false),
  labels: labelMap.default({}),
  annotations: labelMap.default({}),
});

// Strict objects: an unknown field is a typo or a Sloth feature Prophet does not implement, and
// either way the generated rules would not be what the author meant.
export const slothFileSchema = z.strictObject({
  version: z.literal("prometheus/v1"),
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
          events: z.strictObject({ error_query: text, total_query: text }).optional(),
          raw: z.strictObject({ error_ratio_query: text }).optional(),
          plugin: z.unknown().optional(),
        }),
        alerting: z
          .strictObject({
            name: text.optional(),
            disable: z.boolean().default(false),
            labels: labelMap.default({}),
            annotations: labelMap.default({}),
            page_alert: alertSchema.prefault({}),
            ticket_alert: alertSchema.prefault({}),
          })
          .prefault({}),
      }),
    )
    .min(1, "at least one SLO is needed"),
});

/** Sloth's content, whichever spelling it came in; `keys` gives the spelling for error paths. */
export interface SlothContent {
  service: string;
  labels: Record<string, string>;
  slos: {
    name: string;
    objective: number;
    description: string;
    labels: Record<string, string>;
    sli: { events?: { error: string; total: string }; raw?: { ratio: string }; plugin?: unknown };
    alerting: {
      name?: string;
      disable: boolean;
      labels: Record<string, string>;
      annotations: Record<string, string>;
      page: { disable: boolean; labels: Record<string, string>; annotations: Record<string, string> };
      ticket: { disable: boolean; labels: Record<string, string>; annotations: Record<string, string> };
    };
  }[];
}

export interface SlothKeys {
  errorQuery: string;
  totalQuery: string;
  errorRatioQuery: string;
  pageAlert: string;
  ticketAlert: string;
}

const fileKeys: SlothKeys = {
  errorQuery: "error_query",
  totalQuery: "total_query",
  errorRatioQuery: "error_ratio_query",
  pageAlert: "page_alert",
  ticketAlert: "ticket_alert",
};

/** A parsed `prometheus/v1` document as SloSpecs, or the reasons it is not one. Never throws. */
export function parseSlothFile(doc: unknown, origin: string): SloLoadResult {
  const parsed = slothFileSchema.safeParse(doc, { reportInput: true });
  if (!parsed.success) return { slos: [], errors: zodErrors(parsed.error, origin, "") };
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
        events: s.sli.events && { error: s.sli.events.error_query, total: s.sli.events.total_query },
        raw: s.sli.raw && { ratio: s.sli.raw.error_ratio_query },
        plugin: s.sli.plugin,
      },
      alerting: {
        name: s.alerting.name,
        disable: s.alerting.disable,
        labels: s.alerting.labels,
        annotations: s.alerting.annotations,
        page: s.alerting.page_alert,
        ticket: s.alerting.ticket_alert,
      },
    })),
  };
  return slothSlos(content, { format: "sloth", origin }, "", fileKeys);
}

/** Sloth content as SloSpecs: Sloth's id (`<service>-<name>`), its 30-day period, its checks. */
export function slothSlos(c: SlothContent, source: SloSource, base: string, keys: SlothKeys): SloLoadResult {
  const { origin } = source;
  const out: SloLoadResult = { slos: [], errors: [] };
  out.errors.push(...labelErrors(c.labels, origin, joinPath(base, "labels")));
  const names = new Map<string, number>();
  c.slos.forEach((s, i) => {
    const at = joinPath(base, "slos", i);
    const errors: SloSpecError[] = [];
    const fail = (path: string, reason: string) => errors.push({ origin, path, reason });
    const first = names.get(s.name);
    if (first !== undefined)
      fail(joinPath(at, "name"), `duplicate id ${c.service}-${s.name}: already defined by slos[${first}]`);
    else names.set(s.name, i);
    const target = targetFromPercent(s.objective);
    if (typeof target === "string") fail(joinPath(at, "objective"), target);
    errors.push(...labelErrors(s.labels, origin, joinPath(at, "labels")));
    errors.push(...labelErrors(s.alerting.labels, origin, joinPath(at, "alerting", "labels")));
    errors.push(
      ...labelErrors(s.alerting.page.labels, origin, joinPath(at, "alerting", keys.pageAlert, "labels")),
    );
    errors.push(
      ...labelErrors(s.alerting.ticket.labels, origin, joinPath(at, "alerting", keys.ticketAlert, "labels")),
    );
    const sli = slothSli(s.sli, joinPath(at, "sli"), keys, fail);
    if (errors.length > 0 || !sli || typeof target === "string") {
      out.errors.push(...errors);
      return;
    }
    const alertsOff = s.alerting.disable;
    out.slos.push({
      id: `${c.service}-${s.name}`,
      service: c.service,
      name: s.name,
      description: s.description,
      target,
      periodSeconds: DEFAULT_PERIOD_SECONDS,
      sli,
      budgeting: { method: "Occurrences" },
      labels: { ...c.labels, ...s.labels },
      alerting: {
        name: s.alerting.name || defaultAlertName(c.service, s.name),
        disabled: alertsOff,
        labels: s.alerting.labels,
        annotations: s.alerting.annotations,
        page: { disabled: alertsOff || s.alerting.page.disable, ...pick(s.alerting.page) },
        ticket: { disabled: alertsOff || s.alerting.ticket.disable, ...pick(s.alerting.ticket) },
      },
      minEvents: DEFAULT_MIN_EVENTS,
      source,
    });
  });
  return out;
}

function pick(a: { labels: Record<string, string>; annotations: Record<string, string> }) {
  return { labels: a.labels, annotations: a.annotations };
}

function slothSli(
  sli: SlothContent["slos"][number]["sli"],
  at: string,
  keys: SlothKeys,
  fail: (path: string, reason: string) => void,
): Sli | undefined {
  if (sli.plugin !== undefined) {
    fail(joinPath(at, "plugin"), "plugins are not supported: write the SLI as events or raw queries");
    return undefined;
  }
  if (sli.events && sli.raw) {
    fail(at, "give either events or raw, not both");
    return undefined;
  }
  if (sli.events) {
    const e = windowProblem(sli.events.error);
    const t = windowProblem(sli.events.total);
    if (e) fail(joinPath(at, "events", keys.errorQuery), e);
    if (t) fail(joinPath(at, "events", keys.totalQuery), t);
    return e || t
      ? undefined
      : { type: "events", errorQuery: sli.events.error, totalQuery: sli.events.total };
  }
  if (sli.raw) {
    const r = windowProblem(sli.raw.ratio);
    if (r) fail(joinPath(at, "raw", keys.errorRatioQuery), r);
    return r ? undefined : { type: "raw", errorRatioQuery: sli.raw.ratio };
  }
  fail(at, "an SLI needs events (error and total queries) or raw (an error ratio query)");
  return undefined;
}
