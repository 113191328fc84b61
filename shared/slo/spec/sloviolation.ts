// Prophet's own `aiops.prophet.io/v1alpha1` `kind: SLOViolation` (manifests/crds/sloviolation.yaml):
// an SLO plus what to do when its budget burns. The zod schema applies the same defaults as the
// CRD (a test checks they agree) and is strict, like the other Prophet CRDs: in a cluster the API
// server has already pruned undeclared fields, so an unknown field here is a typo in a file.
//
// Identity: `id = <service>-<sloName>`, Sloth's convention, so the generated series carry the same
// sloth_id as Sloth would give them. `service` defaults to the object's namespace and `sloName` to
// its name, so the id is stable across edits of everything else; two objects with the same id
// would write the same series and the second is reported as a duplicate.
import { z } from "zod";
import { DEFAULT_MIN_EVENTS, type Sli, type SloLoadResult, type SloSpecError } from "../model.js";
import {
  defaultAlertName,
  joinPath,
  labelErrors,
  labelMap,
  periodSeconds,
  targetFromPercent,
  windowProblem,
  zodErrors,
} from "./common.js";
import { objectRef } from "./object.js";

export const sloViolationApiVersion = "aiops.prophet.io/v1alpha1";

const name = z.string().min(1).max(253);
const whole = () => z.int("expected a whole number");
export const sloActions = ["scale", "alert", "rollback", "freeze"] as const;

export const sloViolationSpecSchema = z.strictObject({
  sloName: name.optional(),
  service: name.optional(),
  description: z.string().default(""),
  sloTarget: z.number(),
  window: z.string().default("30d"),
  sli: z.strictObject({
    errorQuery: z.string().optional(),
    totalQuery: z.string().optional(),
    errorRatioQuery: z.string().optional(),
  }),
  minEvents: whole().min(0).default(DEFAULT_MIN_EVENTS),
  labels: labelMap.default({}),
  alerting: z
    .strictObject({
      name: z.string().min(1).optional(),
      disable: z.boolean().default(false),
      labels: labelMap.default({}),
      annotations: labelMap.default({}),
      pageLabels: labelMap.default({}),
      ticketLabels: labelMap.default({}),
    })
    .prefault({}),
  errorBudgetThreshold: z.number().min(0).max(100).default(20),
  actions: z.array(z.enum(sloActions)).default(["alert"]),
  targetRef: z.strictObject({ kind: z.enum(["Deployment", "StatefulSet"]), name }).optional(),
  hpaRef: z
    .strictObject({
      name,
      namespace: name.optional(),
      step: whole().min(1).default(1),
      maxReplicas: whole().min(1).optional(),
    })
    .optional(),
  freeze: z
    .strictObject({
      namespaces: z.array(name).optional(),
      argoApplications: z.array(z.strictObject({ namespace: name, name })).default([]),
    })
    .prefault({}),
  enableChaos: z.boolean().default(false),
});
export type SloViolationSpec = z.infer<typeof sloViolationSpecSchema>;

/**
 * An SLOViolation object (from the cluster or a file) as one SloSpec, or why not. Never throws.
 * Errors name `origin` (the file) when given, else `namespace/name`; the spec's source.origin is
 * always `namespace/name`, where its status is written.
 */
export function parseSloViolation(obj: unknown, origin?: string): SloLoadResult {
  const ref = objectRef(obj, origin ?? "");
  if ("error" in ref) return { slos: [], errors: [ref.error] };
  const { namespace, name: objName } = ref.object;
  const at = origin ?? `${namespace}/${objName}`;
  const parsed = sloViolationSpecSchema.safeParse(ref.spec, { reportInput: true });
  if (!parsed.success) return { slos: [], errors: zodErrors(parsed.error, at, "spec") };
  const s = parsed.data;
  const errors: SloSpecError[] = [];
  const fail = (path: string, reason: string) => errors.push({ origin: at, path, reason });

  const target = targetFromPercent(s.sloTarget);
  if (typeof target === "string") fail("spec.sloTarget", target);
  const period = periodSeconds(s.window);
  if (typeof period === "string") fail("spec.window", period);
  const sli = sloViolationSli(s.sli, fail);
  errors.push(...labelErrors(s.labels, at, "spec.labels"));
  for (const k of ["labels", "pageLabels", "ticketLabels"] as const)
    errors.push(...labelErrors(s.alerting[k], at, joinPath("spec.alerting", k)));
  if (s.actions.includes("scale") && !s.hpaRef) fail("spec.hpaRef", "action scale needs an hpaRef");
  if (s.actions.includes("rollback") && !s.targetRef)
    fail("spec.targetRef", "action rollback needs a targetRef");
  if (new Set(s.actions).size !== s.actions.length) fail("spec.actions", "an action is listed twice");

  if (errors.length > 0 || !sli || typeof target === "string" || typeof period === "string")
    return { slos: [], errors };
  const service = s.service ?? namespace;
  const sloName = s.sloName ?? objName;
  return {
    slos: [
      {
        id: `${service}-${sloName}`,
        service,
        name: sloName,
        description: s.description,
        target,
        periodSeconds: period,
        sli,
        budgeting: { method: "Occurrences" },
        labels: s.labels,
        alerting: {
          name: s.alerting.name ?? defaultAlertName(service, sloName),
          // The Prometheus burn-rate alerts are independent of the `alert` action (slo-check's own
          // notification): they are generated unless alerting.disable says otherwise.
          disabled: s.alerting.disable,
          labels: s.alerting.labels,
          annotations: s.alerting.annotations,
          page: { disabled: s.alerting.disable, labels: s.alerting.pageLabels, annotations: {} },
          ticket: { disabled: s.alerting.disable, labels: s.alerting.ticketLabels, annotations: {} },
        },
        minEvents: s.minEvents,
        enforcement: {
          ...(s.targetRef && { targetRef: { kind: s.targetRef.kind, namespace, name: s.targetRef.name } }),
          errorBudgetThreshold: s.errorBudgetThreshold,
          actions: s.actions,
          ...(s.hpaRef && {
            hpaRef: {
              namespace: s.hpaRef.namespace ?? namespace,
              name: s.hpaRef.name,
              step: s.hpaRef.step,
              ...(s.hpaRef.maxReplicas !== undefined && { maxReplicas: s.hpaRef.maxReplicas }),
            },
          }),
          freeze: {
            namespaces: s.freeze.namespaces ?? [namespace],
            argoApplications: s.freeze.argoApplications,
          },
          enableChaos: s.enableChaos,
        },
        source: { format: "SLOViolation", origin: `${namespace}/${objName}`, object: ref.object },
      },
    ],
    errors: [],
  };
}

function sloViolationSli(
  sli: SloViolationSpec["sli"],
  fail: (path: string, reason: string) => void,
): Sli | undefined {
  const { errorQuery, totalQuery, errorRatioQuery } = sli;
  if (errorRatioQuery !== undefined) {
    if (errorQuery !== undefined || totalQuery !== undefined) {
      fail("spec.sli", "give errorQuery and totalQuery, or errorRatioQuery, not both");
      return undefined;
    }
    const p = windowProblem(errorRatioQuery);
    if (p) fail("spec.sli.errorRatioQuery", p);
    return p ? undefined : { type: "raw", errorRatioQuery };
  }
  if (errorQuery === undefined || totalQuery === undefined) {
    fail("spec.sli", "give errorQuery and totalQuery, or errorRatioQuery");
    return undefined;
  }
  const e = windowProblem(errorQuery);
  const t = windowProblem(totalQuery);
  if (e) fail("spec.sli.errorQuery", e);
  if (t) fail("spec.sli.totalQuery", t);
  return e || t ? undefined : { type: "events", errorQuery, totalQuery };
}
