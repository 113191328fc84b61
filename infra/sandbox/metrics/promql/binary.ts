// Binary operators between scalars and instant vectors, with Prometheus 2.42's vector matching rules.

import {
  METRIC_NAME,
  dropMetricName,
  formatLabels,
  getLabel,
  labelsKey,
  matchSignature,
  setLabel,
  type Labels,
} from "../labels.js";
import type { BinaryOp, VectorMatching } from "./ast.js";
import { executionError } from "./errors.js";
import type { Sample } from "./values.js";

const ARITHMETIC = new Set<BinaryOp>(["+", "-", "*", "/", "%", "^", "atan2"]);

/** Match signatures per `on|ignoring(labels)` clause, memoised per label-set object across steps and queries. */
const signatureCaches = new Map<string, WeakMap<Labels, string>>();

function signatureFn(m: VectorMatching): (ls: Labels) => string {
  const spec = `${m.on ? "on" : "ignoring"}(${m.labels.join(",")})`;
  let cache = signatureCaches.get(spec);
  if (!cache) signatureCaches.set(spec, (cache = new WeakMap()));
  const c = cache;
  return (ls) => {
    let sig = c.get(ls);
    if (sig === undefined) {
      sig = matchSignature(ls, m.on, m.labels);
      c.set(ls, sig);
    }
    return sig;
  };
}

export function isComparison(op: BinaryOp): boolean {
  return op === "==" || op === "!=" || op === ">" || op === "<" || op === ">=" || op === "<=";
}

/** Go's math.Pow special cases that differ from JavaScript's `**`. */
function goPow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (x === -1 && !Number.isFinite(y) && !Number.isNaN(y)) return 1;
  return x ** y;
}

/** The value of `lhs op rhs` and whether the element is kept (comparisons filter). */
export function elemBinop(op: BinaryOp, lhs: number, rhs: number): [number, boolean] {
  switch (op) {
    case "+":
      return [lhs + rhs, true];
    case "-":
      return [lhs - rhs, true];
    case "*":
      return [lhs * rhs, true];
    case "/":
      return [lhs / rhs, true];
    case "^":
      return [goPow(lhs, rhs), true];
    case "%":
      return [lhs % rhs, true];
    case "atan2":
      return [Math.atan2(lhs, rhs), true];
    case "==":
      return [lhs, lhs === rhs];
    case "!=":
      return [lhs, lhs !== rhs];
    case ">":
      return [lhs, lhs > rhs];
    case "<":
      return [lhs, lhs < rhs];
    case ">=":
      return [lhs, lhs >= rhs];
    case "<=":
      return [lhs, lhs <= rhs];
    default:
      throw executionError(`operator "${op}" not allowed for scalar operations`);
  }
}

export function scalarBinop(op: BinaryOp, lhs: number, rhs: number, returnBool: boolean): number {
  const [v, keep] = elemBinop(op, lhs, rhs);
  if (isComparison(op)) return returnBool ? (keep ? 1 : 0) : v;
  return v;
}

export function vectorScalarBinop(
  op: BinaryOp,
  vec: readonly Sample[],
  scalar: number,
  swap: boolean,
  returnBool: boolean,
): Sample[] {
  const out: Sample[] = [];
  const dropName = ARITHMETIC.has(op) || returnBool;
  for (const s of vec) {
    const l = swap ? scalar : s.value;
    const r = swap ? s.value : scalar;
    let [value, keep] = elemBinop(op, l, r);
    // A comparison keeps the vector element's value even when the scalar is on the left.
    if (isComparison(op) && swap) value = r;
    if (returnBool) {
      value = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    out.push({ metric: dropName ? dropMetricName(s.metric) : s.metric, value });
  }
  return out;
}

function resultMetric(lhs: Labels, rhs: Labels, op: BinaryOp, m: VectorMatching): Labels {
  let out: Labels = lhs;
  if (ARITHMETIC.has(op)) out = dropMetricName(out);
  if (m.card === "one-to-one") {
    out = m.on ? out.filter(([n]) => m.labels.includes(n)) : out.filter(([n]) => !m.labels.includes(n));
  }
  for (const ln of m.include) out = setLabel(out, ln, getLabel(rhs, ln));
  return out;
}

export function vectorBinop(
  op: BinaryOp,
  lhsIn: readonly Sample[],
  rhsIn: readonly Sample[],
  m: VectorMatching,
  returnBool: boolean,
): Sample[] {
  const oneToMany = m.card === "one-to-many";
  const lhs = oneToMany ? rhsIn : lhsIn;
  const rhs = oneToMany ? lhsIn : rhsIn;
  const sigOf = signatureFn(m);
  const rightSigs = new Map<string, Sample>();
  for (const rs of rhs) {
    const sig = sigOf(rs.metric);
    const dupl = rightSigs.get(sig);
    if (dupl) {
      const matched = m.on
        ? rs.metric.filter(([n]) => m.labels.includes(n))
        : rs.metric.filter(([n]) => !m.labels.includes(n) && n !== METRIC_NAME);
      throw executionError(
        `found duplicate series for the match group ${formatLabels(matched)} on the ${oneToMany ? "left" : "right"} ` +
          `hand-side of the operation: [${formatLabels(rs.metric)}, ${formatLabels(dupl.metric)}];` +
          "many-to-many matching not allowed: matching labels must be unique on one side",
      );
    }
    rightSigs.set(sig, rs);
  }
  const matchedSigs = new Map<string, Set<string> | null>();
  const out: Sample[] = [];
  for (const ls of lhs) {
    const sig = sigOf(ls.metric);
    const rs = rightSigs.get(sig);
    if (!rs) continue;
    const vl = oneToMany ? rs.value : ls.value;
    const vr = oneToMany ? ls.value : rs.value;
    let [value, keep] = elemBinop(op, vl, vr);
    if (returnBool) {
      value = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    let metric = resultMetric(ls.metric, rs.metric, op, m);
    if (returnBool) metric = dropMetricName(metric);
    const inserted = matchedSigs.get(sig);
    if (m.card === "one-to-one") {
      if (inserted !== undefined) {
        throw executionError(
          "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)",
        );
      }
      matchedSigs.set(sig, null);
    } else {
      const insertSig = labelsKey(metric);
      if (inserted === undefined || inserted === null) {
        matchedSigs.set(sig, new Set([insertSig]));
      } else if (inserted.has(insertSig)) {
        throw executionError("multiple matches for labels: grouping labels must ensure unique matches");
      } else {
        inserted.add(insertSig);
      }
    }
    out.push({ metric, value });
  }
  return out;
}

export function vectorSetOp(
  op: "and" | "or" | "unless",
  lhs: readonly Sample[],
  rhs: readonly Sample[],
  m: VectorMatching,
): Sample[] {
  const sigOf = signatureFn(m);
  const sig = (s: Sample) => sigOf(s.metric);
  switch (op) {
    case "and": {
      if (lhs.length === 0 || rhs.length === 0) return [];
      const right = new Set(rhs.map(sig));
      return lhs.filter((s) => right.has(sig(s)));
    }
    case "or": {
      const left = new Set(lhs.map(sig));
      return [...lhs, ...rhs.filter((s) => !left.has(sig(s)))];
    }
    case "unless": {
      if (lhs.length === 0 || rhs.length === 0) return [...lhs];
      const right = new Set(rhs.map(sig));
      return lhs.filter((s) => !right.has(sig(s)));
    }
  }
}
