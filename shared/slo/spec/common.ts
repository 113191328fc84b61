// What every SLO spec parser shares: durations, targets rounded the same way everywhere, zod
// issues turned into SloSpecErrors (field path + reason), label and query checks.
import { z } from "zod";
import { parseDuration } from "../../duration.js";
import { DAY, WINDOW_PLACEHOLDER, type SloAlerting, type SloSpecError } from "../model.js";

export { parseDuration };

/** `a` + `b` → `a.b`; `a` + 0 → `a[0]`; `` + `b` → `b`. */
export function joinPath(base: string, ...parts: (string | number)[]): string {
  let out = base;
  for (const p of parts) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out ? `.${p}` : p;
  }
  return out;
}

/** A zod failure as one SloSpecError per issue; unknown keys get one error each, at their path. */
export function zodErrors(err: z.ZodError, origin: string, base: string): SloSpecError[] {
  const out: SloSpecError[] = [];
  for (const issue of err.issues) {
    const at = joinPath(base, ...issue.path.map((p) => (typeof p === "number" ? p : String(p))));
    if (issue.code === "unrecognized_keys")
      for (const key of issue.keys) out.push({ origin, path: joinPath(at, key), reason: "unknown field" });
    else out.push({ origin, path: at, reason: readable(issue) });
  }
  return out;
}

function readable(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type" && issue.input === undefined) return "required";
  if (issue.code === "invalid_type") return `expected ${issue.expected}, got ${describe(issue.input)}`;
  return issue.message;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

/** Label values: YAML may give `tier: 2`; Prometheus labels are strings either way. */
export const labelMap = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v)),
);

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Label names Prometheus accepts; reserved `__` names and Sloth's own `sloth_*` are refused. */
export function labelErrors(labels: Record<string, string>, origin: string, path: string): SloSpecError[] {
  const out: SloSpecError[] = [];
  for (const key of Object.keys(labels)) {
    if (!LABEL_NAME.test(key) || key.startsWith("__"))
      out.push({ origin, path: joinPath(path, key), reason: "not a valid Prometheus label name" });
  }
  return out;
}

/**
 * The period (compliance window) in seconds, or why it cannot be one. The shortest alert tier
 * looks back 3 days, so a period below one day makes no sense; calendar units are refused
 * because the rules compute rolling windows.
 */
export function periodSeconds(text: string): number | string {
  if (/^\d+[MQY]$/.test(text.trim()))
    return `calendar unit in "${text}" is not supported: use days or weeks, e.g. 30d or 4w`;
  const s = parseDuration(text);
  if (s === undefined) return `"${text}" is not a duration such as 30d, 4w or 720h`;
  if (s < DAY) return `${text} is shorter than one day: the period must be at least 1d`;
  return s;
}

/**
 * A ratio with 15 significant digits: 99.9 / 100 is 0.9990000000000001 in binary floating point,
 * and this gives 0.999 — the number the author meant, printed the same by JS and Go, so the
 * generated rules and the evaluating function compare against exactly the same value.
 */
export function roundRatio(x: number): number {
  return Number(x.toPrecision(15));
}

/** The target ratio from a percent objective (Sloth, SLOViolation), or why it is not one. */
export function targetFromPercent(percent: number): number | string {
  if (!Number.isFinite(percent) || percent <= 0 || percent >= 100)
    return `${percent} is not a percentage strictly between 0 and 100 (e.g. 99.9)`;
  return roundRatio(percent / 100);
}

/** The target ratio from an OpenSLO `target` (0..1), or why it is not one. */
export function targetFromRatio(ratio: number): number | string {
  if (!Number.isFinite(ratio) || ratio <= 0 || ratio >= 1)
    return `${ratio} is not a ratio strictly between 0 and 1 (e.g. 0.999)`;
  return roundRatio(ratio);
}

/** Why a rate query template cannot be evaluated over every window, or undefined when it can. */
export function windowProblem(query: string): string | undefined {
  if (!query.trim()) return "empty query";
  if (!query.includes(WINDOW_PLACEHOLDER))
    return `the query must use ${WINDOW_PLACEHOLDER} as its range (e.g. rate(x[${WINDOW_PLACEHOLDER}])) so every alert window can be evaluated`;
  return undefined;
}

/** A default alert name from the service and SLO: `cart` + `availability` → `CartAvailabilityErrorBudgetBurn`. */
export function defaultAlertName(service: string, name: string): string {
  const pascal = (s: string) =>
    s
      .split(/[^a-zA-Z0-9]+/)
      .filter(Boolean)
      .map((w) => w[0]!.toUpperCase() + w.slice(1))
      .join("");
  return `${pascal(service)}${pascal(name)}ErrorBudgetBurn`;
}

/** Alerting with nothing configured: both tiers enabled, no extra labels or annotations. */
export function defaultAlerting(service: string, name: string): SloAlerting {
  return {
    name: defaultAlertName(service, name),
    disabled: false,
    labels: {},
    annotations: {},
    page: { disabled: false, labels: {}, annotations: {} },
    ticket: { disabled: false, labels: {}, annotations: {} },
  };
}

/** Plain object (not array, not null). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
