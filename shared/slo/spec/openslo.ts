// OpenSLO v1 (`apiVersion: openslo/v1`): `kind: SLO` with its indicator inline or as
// `indicatorRef` to a `kind: SLI` document loaded with it. Only Prometheus metric sources can be
// evaluated, so any other `metricSource.type` is refused with a reason.
//
// Queries are templates with Sloth's `{{.window}}` range, like every other format. A query without
// it (`sum(rate(x[5m]))`) is refused rather than wrapped: wrapping is only correct for a bare
// counter selector, and silently measuring a 5-minute rate where the 3-day alert window or the
// 30-day period is meant would give a plausible but wrong budget.
//
// Not read: `alertPolicies` (the multiwindow burn-rate alerts are always generated), metadata
// labels, calendar windows (`isRolling: false`), and SLOs with more than one objective.
import { z } from "zod";
import {
  DEFAULT_MIN_EVENTS,
  WINDOW_PLACEHOLDER,
  type Budgeting,
  type Sli,
  type SloLoadResult,
  type SloSpecError,
} from "../model.js";
import {
  defaultAlerting,
  isRecord,
  joinPath,
  parseDuration,
  periodSeconds,
  targetFromPercent,
  targetFromRatio,
  windowProblem,
  zodErrors,
} from "./common.js";

export const opensloApiVersion = "openslo/v1";

const metricSource = z.strictObject({
  metricSourceRef: z.string().optional(),
  type: z.string().optional(),
  spec: z.record(z.string(), z.unknown()).default({}),
});
const metric = z.strictObject({ metricSource });

export const opensloSliSpecSchema = z.strictObject({
  description: z.string().optional(),
  thresholdMetric: metric.optional(),
  ratioMetric: z
    .strictObject({
      counter: z.boolean().optional(),
      good: metric.optional(),
      bad: metric.optional(),
      total: metric.optional(),
      rawType: z.enum(["success", "failure"]).optional(),
      raw: metric.optional(),
    })
    .optional(),
});
type SliSpec = z.infer<typeof opensloSliSpecSchema>;

const metadata = z.looseObject({ name: z.string().min(1), displayName: z.string().optional() });

export const opensloSliSchema = z.looseObject({
  apiVersion: z.literal(opensloApiVersion),
  kind: z.literal("SLI"),
  metadata,
  spec: opensloSliSpecSchema,
});

export const opensloSloSchema = z.looseObject({
  apiVersion: z.literal(opensloApiVersion),
  kind: z.literal("SLO"),
  metadata,
  spec: z.strictObject({
    description: z.string().optional(),
    service: z.string().min(1),
    indicator: z.strictObject({ metadata: z.unknown().optional(), spec: opensloSliSpecSchema }).optional(),
    indicatorRef: z.string().min(1).optional(),
    timeWindow: z
      .array(
        z.strictObject({
          duration: z.string(),
          isRolling: z.boolean().default(true),
          calendar: z.unknown().optional(),
        }),
      )
      .min(1, "one time window is needed"),
    budgetingMethod: z.enum(["Occurrences", "Timeslices", "RatioTimeslices"]),
    objectives: z
      .array(
        z.strictObject({
          displayName: z.string().optional(),
          op: z.enum(["lt", "lte", "gt", "gte"]).optional(),
          value: z.number().optional(),
          target: z.number().optional(),
          targetPercent: z.number().optional(),
          timeSliceTarget: z.number().optional(),
          timeSliceWindow: z.union([z.string(), z.number()]).optional(),
          compositeWeight: z.number().optional(),
        }),
      )
      .min(1, "one objective is needed"),
    alertPolicies: z.array(z.unknown()).nullish(),
  }),
});

export interface Sourced {
  obj: unknown;
  origin: string;
}

export function isOpenSlo(obj: unknown): boolean {
  return isRecord(obj) && obj.apiVersion === opensloApiVersion;
}

/**
 * Every `kind: SLO` among the documents as SloSpecs; `kind: SLI` documents are the targets of
 * `indicatorRef`; other OpenSLO kinds (Service, AlertPolicy, …) are skipped. Never throws.
 */
export function parseOpenSloDocuments(docs: Sourced[]): SloLoadResult {
  const out: SloLoadResult = { slos: [], errors: [] };
  const slis = new Map<string, { spec: SliSpec; origin: string }>();
  for (const { obj, origin } of docs) {
    if (!isOpenSlo(obj) || (obj as { kind?: unknown }).kind !== "SLI") continue;
    const parsed = opensloSliSchema.safeParse(obj, { reportInput: true });
    if (!parsed.success) {
      out.errors.push(...zodErrors(parsed.error, origin, ""));
      continue;
    }
    const name = parsed.data.metadata.name;
    if (slis.has(name))
      out.errors.push({
        origin,
        path: "metadata.name",
        reason: `a second SLI named ${name}; the first is used`,
      });
    else slis.set(name, { spec: parsed.data.spec, origin });
  }
  for (const { obj, origin } of docs) {
    if (!isOpenSlo(obj) || (obj as { kind?: unknown }).kind !== "SLO") continue;
    const r = parseOpenSloSlo(obj, origin, slis);
    out.slos.push(...r.slos);
    out.errors.push(...r.errors);
  }
  return out;
}

function parseOpenSloSlo(
  obj: unknown,
  origin: string,
  slis: Map<string, { spec: SliSpec; origin: string }>,
): SloLoadResult {
  const parsed = opensloSloSchema.safeParse(obj, { reportInput: true });
  if (!parsed.success) return { slos: [], errors: zodErrors(parsed.error, origin, "") };
  const { metadata: meta, spec } = parsed.data;
  const errors: SloSpecError[] = [];
  const fail = (path: string, reason: string, at = origin) => errors.push({ origin: at, path, reason });

  const window = spec.timeWindow[0]!;
  if (spec.timeWindow.length > 1) fail("spec.timeWindow", "only one time window is supported");
  if (!window.isRolling || window.calendar !== undefined)
    fail("spec.timeWindow[0].isRolling", "only rolling time windows are supported");
  const period = periodSeconds(window.duration);
  if (typeof period === "string") fail("spec.timeWindow[0].duration", period);

  if (spec.objectives.length > 1)
    fail("spec.objectives", "one objective per SLO is supported: split the objectives into several SLOs");
  const objective = spec.objectives[0]!;
  const target = objectiveTarget(objective, fail);

  let sli: Sli | undefined;
  if (spec.indicator && spec.indicatorRef) fail("spec", "give indicator or indicatorRef, not both");
  else if (spec.indicator)
    sli = indicatorSli(spec.indicator.spec, "spec.indicator.spec", origin, objective, fail);
  else if (spec.indicatorRef) {
    const ref = slis.get(spec.indicatorRef);
    if (!ref) fail("spec.indicatorRef", `no SLI named ${spec.indicatorRef} was loaded with this SLO`);
    else sli = indicatorSli(ref.spec, "spec", ref.origin, objective, fail);
  } else fail("spec.indicator", "an SLO needs an indicator or an indicatorRef");

  let budgeting: Budgeting = { method: "Occurrences" };
  if (spec.budgetingMethod === "RatioTimeslices")
    fail("spec.budgetingMethod", "RatioTimeslices is not supported: use Occurrences or Timeslices");
  else if (spec.budgetingMethod === "Timeslices") {
    const b = timeslices(objective, fail);
    if (b) budgeting = b;
  }

  if (errors.length > 0 || !sli || typeof target === "string" || typeof period === "string")
    return { slos: [], errors };
  return {
    slos: [
      {
        id: `${spec.service}-${meta.name}`,
        service: spec.service,
        name: meta.name,
        description: spec.description ?? meta.displayName ?? "",
        target,
        periodSeconds: period,
        sli,
        budgeting,
        labels: {},
        alerting: defaultAlerting(spec.service, meta.name),
        minEvents: DEFAULT_MIN_EVENTS,
        source: { format: "openslo", origin },
      },
    ],
    errors: [],
  };
}

type Objective = z.infer<typeof opensloSloSchema>["spec"]["objectives"][number];
type Fail = (path: string, reason: string, origin?: string) => void;

function objectiveTarget(o: Objective, fail: Fail): number | string {
  const at = "spec.objectives[0]";
  let t: number | string;
  if (o.target !== undefined && o.targetPercent !== undefined) t = "give target or targetPercent, not both";
  else if (o.target !== undefined) t = targetFromRatio(o.target);
  else if (o.targetPercent !== undefined) t = targetFromPercent(o.targetPercent);
  else t = "required (target, 0..1, or targetPercent)";
  if (typeof t === "string")
    fail(
      joinPath(at, o.targetPercent !== undefined && o.target === undefined ? "targetPercent" : "target"),
      t,
    );
  return t;
}

function timeslices(o: Objective, fail: Fail): Budgeting | undefined {
  const at = "spec.objectives[0]";
  let ok = true;
  const sliceTarget =
    o.timeSliceTarget === undefined ? "required for Timeslices" : targetFromRatio(o.timeSliceTarget);
  if (typeof sliceTarget === "string") {
    fail(joinPath(at, "timeSliceTarget"), sliceTarget);
    ok = false;
  }
  const w = o.timeSliceWindow;
  const sliceSeconds = typeof w === "number" ? w : w === undefined ? undefined : parseDuration(w);
  if (w === undefined) {
    fail(joinPath(at, "timeSliceWindow"), "required for Timeslices");
    ok = false;
  } else if (sliceSeconds === undefined || !Number.isInteger(sliceSeconds) || sliceSeconds < 60) {
    fail(joinPath(at, "timeSliceWindow"), `${String(w)} is not a duration of at least 1m, e.g. 1m or 5m`);
    ok = false;
  }
  return ok
    ? { method: "Timeslices", sliceSeconds: sliceSeconds!, sliceTarget: sliceTarget as number }
    : undefined;
}

function indicatorSli(
  spec: SliSpec,
  at: string,
  origin: string,
  objective: Objective,
  fail: Fail,
): Sli | undefined {
  const f: Fail = (path, reason) => fail(path, reason, origin);
  if (spec.thresholdMetric && spec.ratioMetric) {
    f(at, "give thresholdMetric or ratioMetric, not both");
    return undefined;
  }
  if (spec.thresholdMetric) {
    const query = prometheusQuery(spec.thresholdMetric.metricSource, joinPath(at, "thresholdMetric"), f);
    let ok = query !== undefined;
    if (query?.includes(WINDOW_PLACEHOLDER)) {
      f(
        joinPath(at, "thresholdMetric", "metricSource", "spec", "query"),
        `a thresholdMetric query is an instant value sampled every step; it cannot use ${WINDOW_PLACEHOLDER}`,
      );
      ok = false;
    }
    if (!objective.op || objective.value === undefined) {
      fail("spec.objectives[0]", "a thresholdMetric objective needs op (lt, lte, gt, gte) and value");
      ok = false;
    }
    return ok
      ? { type: "threshold", query: query!, op: objective.op!, value: objective.value!, stepSeconds: 60 }
      : undefined;
  }
  const r = spec.ratioMetric;
  if (!r) {
    f(at, "an SLI needs a ratioMetric or a thresholdMetric");
    return undefined;
  }
  const ratioAt = joinPath(at, "ratioMetric");
  if (r.raw || r.rawType) {
    if (!r.raw || !r.rawType) {
      f(ratioAt, "rawType and raw go together");
      return undefined;
    }
    const q = windowedQuery(r.raw, joinPath(ratioAt, "raw"), f);
    if (q === undefined) return undefined;
    return { type: "raw", errorRatioQuery: r.rawType === "failure" ? q : `1 - (${q})` };
  }
  if (!r.total) {
    f(joinPath(ratioAt, "total"), "required");
    return undefined;
  }
  if ((r.good && r.bad) || (!r.good && !r.bad)) {
    f(ratioAt, "give good or bad (with total)");
    return undefined;
  }
  const total = windowedQuery(r.total, joinPath(ratioAt, "total"), f);
  const good = r.good && windowedQuery(r.good, joinPath(ratioAt, "good"), f);
  const bad = r.bad && windowedQuery(r.bad, joinPath(ratioAt, "bad"), f);
  if (total === undefined || (good === undefined && bad === undefined)) return undefined;
  return { type: "events", errorQuery: bad ?? `(${total}) - (${good!})`, totalQuery: total };
}

function windowedQuery(m: z.infer<typeof metric>, at: string, fail: Fail): string | undefined {
  const q = prometheusQuery(m.metricSource, at, fail);
  if (q === undefined) return undefined;
  const problem = windowProblem(q);
  if (problem) {
    fail(joinPath(at, "metricSource", "spec", "query"), problem);
    return undefined;
  }
  return q;
}

function prometheusQuery(src: z.infer<typeof metricSource>, at: string, fail: Fail): string | undefined {
  const srcAt = joinPath(at, "metricSource");
  if (src.type === undefined) {
    fail(
      joinPath(srcAt, "type"),
      src.metricSourceRef
        ? `metricSourceRef (${src.metricSourceRef}) is not resolved: give type: Prometheus and spec.query inline`
        : "required (Prometheus)",
    );
    return undefined;
  }
  if (src.type.toLowerCase() !== "prometheus") {
    fail(joinPath(srcAt, "type"), `${src.type}: only Prometheus metric sources are supported`);
    return undefined;
  }
  const query = src.spec.query;
  if (typeof query !== "string" || !query.trim()) {
    fail(joinPath(srcAt, "spec", "query"), "required (a PromQL query)");
    return undefined;
  }
  return query.trim();
}
