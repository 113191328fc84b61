// Label sets as Prometheus sees them: sorted by name, compared pairwise, keyed by a separator-joined string.

export type Label = readonly [name: string, value: string];
/** A label set sorted by name, with no empty values (an empty value means "absent" in Prometheus). */
export type Labels = readonly Label[];
export type LabelsInput = Readonly<Record<string, string>> | Labels;

export const METRIC_NAME = "__name__";
const SEP = "\xff";

export function toLabels(input: LabelsInput): Labels {
  const pairs: Label[] = Array.isArray(input)
    ? (input as Labels).filter(([, v]) => v !== "")
    : Object.entries(input as Record<string, string>).filter(([, v]) => v !== "");
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (let i = 1; i < pairs.length; i++) {
    if (pairs[i]![0] === pairs[i - 1]![0]) throw new Error(`duplicate label name "${pairs[i]![0]}"`);
  }
  return pairs;
}

const keyCache = new WeakMap<Labels, string>();

/** A string identifying the label set; memoised per label-set object (label sets are immutable). */
export function labelsKey(ls: Labels): string {
  let s = keyCache.get(ls);
  if (s !== undefined) return s;
  s = "";
  for (const [n, v] of ls) s += n + SEP + v + SEP;
  keyCache.set(ls, s);
  return s;
}

export function getLabel(ls: Labels, name: string): string {
  for (const [n, v] of ls) if (n === name) return v;
  return "";
}

export function labelsToObject(ls: Labels): Record<string, string> {
  const o: Record<string, string> = {};
  for (const [n, v] of ls) o[n] = v;
  return o;
}

/** Prometheus' labels.Compare: pairwise by name then value, then by length. */
export function compareLabels(a: Labels, b: Labels): number {
  const l = Math.min(a.length, b.length);
  for (let i = 0; i < l; i++) {
    const [an, av] = a[i]!;
    const [bn, bv] = b[i]!;
    if (an !== bn) return an < bn ? -1 : 1;
    if (av !== bv) return av < bv ? -1 : 1;
  }
  return a.length - b.length;
}

const withoutNameCache = new WeakMap<Labels, Labels>();

/** The label set without __name__; memoised so repeated steps share one object (and its key). */
export function dropMetricName(ls: Labels): Labels {
  if (!hasName(ls)) return ls;
  let out = withoutNameCache.get(ls);
  if (!out) {
    out = ls.filter(([n]) => n !== METRIC_NAME);
    withoutNameCache.set(ls, out);
  }
  return out;
}

function hasName(ls: Labels): boolean {
  for (const [n] of ls) if (n === METRIC_NAME) return true;
  return false;
}

/** Keeps only the named labels. */
export function keepLabels(ls: Labels, names: readonly string[]): Labels {
  return ls.filter(([n]) => names.includes(n));
}

/** Removes the named labels. */
export function withoutLabels(ls: Labels, names: readonly string[]): Labels {
  return ls.filter(([n]) => !names.includes(n));
}

/** Returns a new sorted label set with `name` set to `value` (removed when value is empty). */
export function setLabel(ls: Labels, name: string, value: string): Labels {
  const out = ls.filter(([n]) => n !== name);
  if (value === "") return out;
  let i = 0;
  while (i < out.length && out[i]![0] < name) i++;
  out.splice(i, 0, [name, value]);
  return out;
}

/** Signature of the labels used for vector matching: `on` keeps the named labels, `ignoring` drops them and the name. */
export function matchSignature(ls: Labels, on: boolean, names: readonly string[]): string {
  let s = "";
  for (const [n, v] of ls) {
    const listed = names.includes(n);
    if (on ? listed : !listed && n !== METRIC_NAME) s += n + SEP + v + SEP;
  }
  return s;
}

export function formatLabels(ls: Labels): string {
  return "{" + ls.map(([n, v]) => `${n}=${JSON.stringify(v)}`).join(", ") + "}";
}
