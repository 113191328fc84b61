// Label and field selectors with the API server's syntax and semantics.
import { apiErrors } from "./errors.js";
import type { ResourceType } from "./resources.js";
import type { KubeObject } from "./types.js";

export type Labels = Record<string, string> | undefined;

type LabelRequirement =
  | { op: "=" | "!="; key: string; value: string }
  | { op: "in" | "notin"; key: string; values: string[] }
  | { op: "exists" | "!exists"; key: string };

export type LabelMatcher = (labels: Labels) => boolean;

/** Splits on commas that are not inside a `( … )` value set. */
function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i];
    if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (ch === "," && depth === 0) {
      parts.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(selector.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

const setPattern = /^([^\s!=()]+)\s+(in|notin)\s*\(([^)]*)\)$/;
const opPattern = /^([^\s!=()]+)\s*(==|=|!=)\s*([^\s!=()]*)$/;
const keyPattern = /^(!?)\s*([^\s!=()]+)$/;

function parseRequirement(part: string, whole: string): LabelRequirement {
  let m = setPattern.exec(part);
  if (m) {
    const values = (m[3] ?? "")
      .split(",")
      .map((v) => v.trim())
      .filter((v) => v.length > 0);
    return { op: m[2] as "in" | "notin", key: m[1] as string, values };
  }
  m = opPattern.exec(part);
  if (m) return { op: m[2] === "!=" ? "!=" : "=", key: m[1] as string, value: m[3] ?? "" };
  m = keyPattern.exec(part);
  if (m) return { op: m[1] ? "!exists" : "exists", key: m[2] as string };
  throw apiErrors.badRequest(`unable to parse requirement: found '${part}' in label selector "${whole}"`);
}

function matchesRequirement(req: LabelRequirement, labels: Labels): boolean {
  const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = has ? labels[req.key] : undefined;
  switch (req.op) {
    case "=":
      return has && value === req.value;
    case "!=":
      return !has || value !== req.value;
    case "in":
      return has && req.values.includes(value as string);
    case "notin":
      return !has || !req.values.includes(value as string);
    case "exists":
      return has;
    case "!exists":
      return !has;
  }
}

export function parseLabelSelector(selector: string | undefined | null): LabelMatcher | undefined {
  if (!selector || !selector.trim()) return undefined;
  const reqs = splitTopLevel(selector).map((p) => parseRequirement(p, selector));
  return (labels) => reqs.every((r) => matchesRequirement(r, labels));
}

export interface LabelSelectorSpec {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** A `metav1.LabelSelector` as a matcher; an empty selector matches everything, a missing one nothing. */
export function matcherFromSpec(spec: LabelSelectorSpec | undefined): LabelMatcher {
  if (!spec) return () => false;
  const reqs: LabelRequirement[] = Object.entries(spec.matchLabels ?? {}).map(([key, value]) => ({
    op: "=" as const,
    key,
    value,
  }));
  for (const e of spec.matchExpressions ?? []) {
    const op = e.operator.toLowerCase();
    if (op === "in" || op === "notin") reqs.push({ op, key: e.key, values: e.values ?? [] });
    else if (op === "exists") reqs.push({ op: "exists", key: e.key });
    else if (op === "doesnotexist") reqs.push({ op: "!exists", key: e.key });
  }
  return (labels) => reqs.every((r) => matchesRequirement(r, labels));
}

/** The string form (`app=web,tier in (a,b)`) that Scale.status.selector carries. */
export function selectorString(spec: LabelSelectorSpec | undefined): string {
  if (!spec) return "";
  const parts = Object.entries(spec.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of spec.matchExpressions ?? []) {
    const op = e.operator.toLowerCase();
    if (op === "in" || op === "notin") parts.push(`${e.key} ${op} (${(e.values ?? []).join(",")})`);
    else if (op === "exists") parts.push(e.key);
    else if (op === "doesnotexist") parts.push(`!${e.key}`);
  }
  return parts.join(",");
}

export function readPath(obj: unknown, dotted: string | string[]): unknown {
  let cur: unknown = obj;
  for (const key of typeof dotted === "string" ? dotted.split(".") : dotted) {
    if (key === "") continue;
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

// Boolean fields compare as "false" when unset, as the API server formats them from Go zero values.
const booleanPaths = new Set(["spec.unschedulable", "spec.hostNetwork"]);

export type ObjectMatcher = (obj: KubeObject) => boolean;

export function parseFieldSelector(
  selector: string | undefined | null,
  rt: ResourceType,
): ObjectMatcher | undefined {
  if (!selector || !selector.trim()) return undefined;
  const reqs = selector
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((part) => {
      const m = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(part);
      if (!m) throw apiErrors.badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
      const field = m[1] as string;
      const path =
        field === "metadata.name" || field === "metadata.namespace" ? field : rt.fieldLabels[field];
      if (!path) throw apiErrors.badRequest(`field label not supported: ${field}`);
      return { path, segments: path.split("."), negate: m[2] === "!=", value: m[3] ?? "" };
    });
  return (obj) =>
    reqs.every((r) => {
      const raw = readPath(obj, r.segments);
      const unset = raw === undefined || raw === null;
      const actual = unset ? (booleanPaths.has(r.path) ? "false" : "") : String(raw);
      return (actual === r.value) !== r.negate;
    });
}
