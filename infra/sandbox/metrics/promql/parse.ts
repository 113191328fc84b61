// Turns PromQL text into the evaluator's syntax tree using lezer-promql, checking types the way Prometheus'
// own parser does. Prometheus 2.x's `holt_winters` is accepted (lezer's grammar only knows its 3.x name).

import type { SyntaxNode } from "@lezer/common";
import { parser } from "@prometheus-io/lezer-promql";
import { InvalidRegexError, matchesEmpty, newMatcher, type Matcher, type MatchType } from "../matchers.js";
import { METRIC_NAME } from "../labels.js";
import {
  describeType,
  valueTypeOf,
  type AggregateOp,
  type AtModifier,
  type BinaryOp,
  type Expr,
  type ValueType,
  type VectorMatching,
  type VectorSelector,
} from "./ast.js";
import { parseDurationMs, parseNumberLiteral } from "./duration.js";
import { parseError, unsupported } from "./errors.js";
import { FUNCTION_SIGNATURES } from "./signatures.js";

const BINARY_OPS: Record<string, BinaryOp> = {
  Add: "+",
  Sub: "-",
  Mul: "*",
  Div: "/",
  Mod: "%",
  Pow: "^",
  Atan2: "atan2",
  Eql: "==",
  Neq: "!=",
  Gtr: ">",
  Lss: "<",
  Gte: ">=",
  Lte: "<=",
  And: "and",
  Or: "or",
  Unless: "unless",
};

const COMPARISON = new Set<BinaryOp>(["==", "!=", ">", "<", ">=", "<="]);
const SET_OPS = new Set<BinaryOp>(["and", "or", "unless"]);

const AGGREGATE_OPS = new Set<string>([
  "sum",
  "avg",
  "min",
  "max",
  "count",
  "group",
  "stddev",
  "stdvar",
  "topk",
  "bottomk",
  "quantile",
  "count_values",
]);

const HOLT_WINTERS_3X = "double_exponential_smoothing";

/** Renames `holt_winters(` to the grammar's name outside string literals; remembers positions for messages. */
function rewriteHoltWinters(q: string): string {
  let out = "";
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < q.length && q[j] !== c) j += q[j] === "\\" && c !== "`" ? 2 : 1;
      out += q.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === "#") {
      const nl = q.indexOf("\n", i);
      const end = nl < 0 ? q.length : nl;
      out += q.slice(i, end);
      i = end;
      continue;
    }
    const m = /^holt_winters(?=\s*\()/.exec(q.slice(i, i + 13 + 20));
    if (m && (i === 0 || !/[A-Za-z0-9_:]/.test(q[i - 1]!))) {
      out += HOLT_WINTERS_3X;
      i += m[0].length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

export function parsePromQL(query: string): Expr {
  if (query.trim() === "") throw parseError("parse error: no expression found in input");
  const text = rewriteHoltWinters(query);
  const tree = parser.parse(text);
  const ctx = new Ctx(text);
  const root = tree.topNode;
  ctx.checkErrors(root);
  const first = root.firstChild;
  if (!first) throw parseError("parse error: no expression found in input");
  if (first.nextSibling && first.nextSibling.name !== "LineComment") {
    throw parseError(
      `parse error at char ${first.nextSibling.from + 1}: unexpected ${ctx.quote(first.nextSibling)}`,
    );
  }
  return ctx.expr(first);
}

class Ctx {
  constructor(private readonly text: string) {}

  src(n: SyntaxNode): string {
    return this.text.slice(n.from, n.to);
  }

  quote(n: SyntaxNode): string {
    const s = this.src(n).replace(HOLT_WINTERS_3X, "holt_winters");
    return s === "" ? "end of input" : JSON.stringify(s.length > 40 ? s.slice(0, 40) + "…" : s);
  }

  checkErrors(root: SyntaxNode): void {
    const cursor = root.cursor();
    do {
      if (!cursor.type.isError) continue;
      const node = cursor.node;
      // An identifier directly followed by "(" that lezer could not read as a call: an unknown function.
      const prev = node.prevSibling;
      if (this.src(node).startsWith("(") && prev?.name === "Identifier") {
        throw parseError(`unknown function with name ${JSON.stringify(this.src(prev))}`);
      }
      const parent = node.parent;
      if (parent?.name === "VectorSelector" && this.src(node).startsWith("(")) {
        const id = parent.getChild("Identifier");
        if (id) throw parseError(`unknown function with name ${JSON.stringify(this.src(id))}`);
      }
      const at = node.from;
      const tail = this.text.slice(at, at + 20);
      throw parseError(
        `parse error at char ${at + 1}: unexpected ${tail === "" ? "end of input" : JSON.stringify(tail)}`,
      );
    } while (cursor.next());
  }

  children(n: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = n.firstChild; c; c = c.nextSibling) if (c.name !== "LineComment") out.push(c);
    return out;
  }

  expr(n: SyntaxNode): Expr {
    switch (n.name) {
      case "ParenExpr": {
        const inner = this.children(n)[0];
        if (!inner) throw parseError(`parse error at char ${n.from + 1}: empty parentheses`);
        return this.expr(inner);
      }
      case "NumberDurationLiteral": {
        const v = parseNumberLiteral(this.src(n));
        if (v === undefined)
          throw parseError(`parse error: unexpected duration ${this.quote(n)} where a number was expected`);
        return { type: "number", value: v };
      }
      case "StringLiteral":
        return { type: "string", value: this.unquote(n) };
      case "VectorSelector":
        return this.vectorSelector(n);
      case "MatrixSelector":
        return this.matrixSelector(n);
      case "OffsetExpr":
        return this.offset(n);
      case "StepInvariantExpr":
        return this.at(n);
      case "UnaryExpr":
        return this.unary(n);
      case "BinaryExpr":
        return this.binary(n);
      case "FunctionCall":
        return this.call(n);
      case "AggregateExpr":
        return this.aggregate(n);
      case "SubqueryExpr":
        throw unsupported(`subquery ${this.quote(n)}`);
      case "AnchoredExpr":
      case "SmoothedExpr":
        throw unsupported(
          `${n.name === "AnchoredExpr" ? "anchored" : "smoothed"} modifier in ${this.quote(n)}`,
        );
      default:
        throw unsupported(`${n.name} ${this.quote(n)}`);
    }
  }

  unquote(n: SyntaxNode): string {
    return unquoteString(this.src(n));
  }

  vectorSelector(n: SyntaxNode): VectorSelector {
    const matchers: Matcher[] = [];
    let name: string | undefined;
    const id = n.getChild("Identifier");
    if (id) {
      name = this.src(id);
      matchers.push(newMatcher(METRIC_NAME, "=", name));
    }
    const lm = n.getChild("LabelMatchers");
    if (lm) {
      for (const m of this.children(lm)) {
        let label: string;
        if (m.name === "UnquotedLabelMatcher") {
          label = this.src(m.getChild("LabelName")!);
        } else if (m.name === "QuotedLabelMatcher") {
          const q = m.getChild("QuotedLabelName")!.getChild("StringLiteral")!;
          label = unquoteString(this.src(q));
        } else if (m.name === "QuotedLabelName") {
          // {"metric_name"}: the 3.x way of naming a metric.
          const v = unquoteString(this.src(m.getChild("StringLiteral")!));
          if (name !== undefined) throw parseError(`metric name must not be set twice: "${name}" or "${v}"`);
          name = v;
          matchers.push(newMatcher(METRIC_NAME, "=", v));
          continue;
        } else {
          throw unsupported(`label matcher ${this.quote(m)}`);
        }
        const op = this.src(m.getChild("MatchOp")!) as MatchType;
        const value = unquoteString(this.src(m.getChild("StringLiteral")!));
        if (label === METRIC_NAME && op === "=" && name !== undefined) {
          throw parseError(`metric name must not be set twice: "${name}" or "${value}"`);
        }
        try {
          matchers.push(newMatcher(label, op, value));
        } catch (err) {
          if (err instanceof InvalidRegexError)
            throw parseError(`invalid regular expression: ${err.message}`);
          throw err;
        }
      }
    }
    if (!matchers.some((m) => !matchesEmpty(m))) {
      throw parseError("vector selector must contain at least one non-empty matcher");
    }
    return { type: "vectorSelector", name, matchers, offsetMs: 0, at: undefined };
  }

  duration(n: SyntaxNode): number {
    if (n.name === "DurationExpr" || n.name === "OffsetDurationExpr") {
      const kids = this.children(n);
      if (kids.length === 1) return this.duration(kids[0]!);
      if (kids.length === 2 && kids[0]!.name === "UnaryOp" && n.name === "OffsetDurationExpr") {
        const sign = this.src(kids[0]!) === "-" ? -1 : 1;
        return sign * this.duration(kids[1]!);
      }
      throw unsupported(`duration expression ${this.quote(n)}`);
    }
    if (n.name === "NumberDurationLiteralInDurationContext" || n.name === "NumberDurationLiteral") {
      const text = this.src(n);
      const d = parseDurationMs(text);
      if (d !== undefined) return d;
      const secs = parseNumberLiteral(text);
      if (secs !== undefined && Number.isFinite(secs)) return Math.round(secs * 1000);
      throw parseError(`not a valid duration string: ${this.quote(n)}`);
    }
    throw unsupported(`duration ${this.quote(n)}`);
  }

  matrixSelector(n: SyntaxNode): Expr {
    const kids = this.children(n);
    const inner = this.expr(kids[0]!);
    if (inner.type !== "vectorSelector" || inner.offsetMs !== 0 || inner.at) {
      throw parseError("ranges only allowed for vector selectors");
    }
    const rangeMs = this.duration(kids[1]!);
    if (rangeMs <= 0) throw parseError(`range must be greater than 0, got ${this.quote(kids[1]!)}`);
    return { type: "matrixSelector", selector: inner, rangeMs };
  }

  selectorOf(e: Expr): VectorSelector | undefined {
    return e.type === "vectorSelector" ? e : e.type === "matrixSelector" ? e.selector : undefined;
  }

  offset(n: SyntaxNode): Expr {
    const kids = this.children(n);
    const inner = this.expr(kids[0]!);
    const sel = this.selectorOf(inner);
    if (!sel) {
      throw parseError(
        "offset modifier must be preceded by an instant vector selector or range vector selector",
      );
    }
    if (sel.offsetMs !== 0) throw parseError("offset may not be set multiple times");
    sel.offsetMs = this.duration(kids[kids.length - 1]!);
    return inner;
  }

  at(n: SyntaxNode): Expr {
    const kids = this.children(n);
    const inner = this.expr(kids[0]!);
    const sel = this.selectorOf(inner);
    if (!sel)
      throw parseError("@ modifier must be preceded by an instant vector selector or range vector selector");
    if (sel.at) throw parseError("@ <timestamp> may not be set multiple times");
    const last = kids[kids.length - 1]!;
    let at: AtModifier;
    if (last.name === "AtModifierPreprocessors") {
      at = { kind: this.src(last).startsWith("start") ? "start" : "end" };
    } else {
      const expr = this.expr(last);
      const v =
        expr.type === "number"
          ? expr.value
          : expr.type === "unary" && expr.expr.type === "number"
            ? -expr.expr.value
            : NaN;
      if (!Number.isFinite(v))
        throw parseError(`timestamp out of bounds for @ modifier: ${this.quote(last)}`);
      at = { kind: "time", ms: Math.round(v * 1000) };
    }
    sel.at = at;
    return inner;
  }

  unary(n: SyntaxNode): Expr {
    const kids = this.children(n);
    const op = this.src(kids[0]!) as "-" | "+";
    const inner = this.expr(kids[1]!);
    const t = valueTypeOf(inner);
    if (t !== "scalar" && t !== "vector") {
      throw parseError("unary expression only allowed on expressions of type scalar or instant vector");
    }
    if (inner.type === "number") return { type: "number", value: op === "-" ? -inner.value : inner.value };
    return { type: "unary", op, expr: inner };
  }

  grouping(n: SyntaxNode | null): string[] {
    if (!n) return [];
    return this.children(n).map((c) => (c.name === "LabelName" ? this.src(c) : unquoteString(this.src(c))));
  }

  binary(n: SyntaxNode): Expr {
    const kids = this.children(n);
    const first = kids[0]!;
    const signed = first.name === "NumberDurationLiteral" ? /^[-+]/.exec(this.src(first))?.[0] : undefined;
    if (signed && kids[1]?.name === "Pow") {
      // lezer reads "-2 ^ 2" as (-2)^2; in PromQL unary minus binds looser than ^, so it is -(2^2).
      const lhs: Expr = { type: "number", value: parseNumberLiteral(this.src(first).slice(1))! };
      const pow = this.binaryOf(n, kids, lhs);
      return signed === "-" ? { type: "unary", op: "-", expr: pow } : pow;
    }
    return this.binaryOf(n, kids, this.expr(first));
  }

  binaryOf(n: SyntaxNode, kids: SyntaxNode[], lhs: Expr): Expr {
    const rhs = this.expr(kids[kids.length - 1]!);
    const opNode = kids[1]!;
    const op = BINARY_OPS[opNode.name];
    if (!op) throw unsupported(`binary operator ${this.quote(opNode)}`);
    let returnBool = false;
    let clause: SyntaxNode | undefined;
    for (const k of kids.slice(2, -1)) {
      if (k.name === "BoolModifier") returnBool = true;
      else if (k.name === "MatchingModifierClause") clause = k;
      else throw unsupported(`${k.name} ${this.quote(k)}`);
    }
    const lt = valueTypeOf(lhs);
    const rt = valueTypeOf(rhs);
    for (const t of [lt, rt]) {
      if (t !== "scalar" && t !== "vector") {
        throw parseError("binary expression must contain only scalar and instant vector types");
      }
    }
    if (returnBool && !COMPARISON.has(op))
      throw parseError("bool modifier can only be used on comparison operators");
    if (COMPARISON.has(op) && lt === "scalar" && rt === "scalar" && !returnBool) {
      throw parseError("comparisons between scalars must use BOOL modifier");
    }
    if (SET_OPS.has(op) && (lt === "scalar" || rt === "scalar")) {
      throw parseError(`set operator "${op}" not allowed in binary scalar expression`);
    }
    let matching: VectorMatching | undefined;
    if (lt === "vector" && rt === "vector") {
      matching = {
        card: SET_OPS.has(op) ? "many-to-many" : "one-to-one",
        on: false,
        labels: [],
        include: [],
      };
      if (clause) {
        const ck = this.children(clause);
        matching.on = ck[0]!.name === "On";
        matching.labels = this.grouping(ck[1] ?? null);
        const group = ck[2];
        if (group) {
          if (SET_OPS.has(op)) throw parseError(`no grouping allowed for "${op}" operation`);
          matching.card = group.name === "GroupLeft" ? "many-to-one" : "one-to-many";
          matching.include = this.grouping(ck[3] ?? null);
          for (const l of matching.include) {
            if (matching.on && matching.labels.includes(l)) {
              throw parseError(`label "${l}" must not occur in ON and GROUP clause at once`);
            }
          }
        }
      }
    } else if (clause) {
      throw parseError("vector matching only allowed between instant vectors");
    }
    return { type: "binary", op, lhs, rhs, returnBool, matching };
  }

  args(body: SyntaxNode | null): Expr[] {
    return body ? this.children(body).map((c) => this.expr(c)) : [];
  }

  call(n: SyntaxNode): Expr {
    const idNode = n.getChild("FunctionIdentifier")!;
    let func = this.src(idNode);
    if (func === HOLT_WINTERS_3X) func = "holt_winters";
    const sig = FUNCTION_SIGNATURES[func];
    if (!sig) throw unsupported(`function "${func}"`);
    const args = this.args(n.getChild("FunctionCallBody"));
    const min = sig.args.length - (sig.optional ?? 0);
    if (args.length < min || (!sig.variadic && args.length > sig.args.length)) {
      const exact = !sig.optional && !sig.variadic;
      const expected = exact
        ? `${sig.args.length}`
        : args.length < min
          ? `at least ${min}`
          : `at most ${sig.args.length}`;
      throw parseError(`expected ${expected} argument(s) in call to "${func}", got ${args.length}`);
    }
    args.forEach((a, i) => {
      const want: ValueType = sig.args[Math.min(i, sig.args.length - 1)]!;
      const got = valueTypeOf(a);
      if (got !== want) {
        throw parseError(
          `expected type ${describeType(want)} in call to function "${func}", got ${describeType(got)}`,
        );
      }
    });
    return { type: "call", func, args };
  }

  aggregate(n: SyntaxNode): Expr {
    const opText = this.src(n.getChild("AggregateOp")!);
    if (!AGGREGATE_OPS.has(opText)) throw unsupported(`aggregation "${opText}"`);
    const op = opText as AggregateOp;
    const mod = n.getChild("AggregateModifier");
    const without = mod?.getChild("Without") != null;
    const grouping = this.grouping(mod?.getChild("GroupingLabels") ?? null);
    const args = this.args(n.getChild("FunctionCallBody"));
    const needsParam = op === "topk" || op === "bottomk" || op === "quantile" || op === "count_values";
    const want = needsParam ? 2 : 1;
    if (args.length !== want) {
      throw parseError(
        `wrong number of arguments for aggregate expression provided, expected ${want}, got ${args.length}`,
      );
    }
    const expr = args[want - 1]!;
    if (valueTypeOf(expr) !== "vector") {
      throw parseError(
        `expected type instant vector in aggregation expression, got ${describeType(valueTypeOf(expr))}`,
      );
    }
    const param = needsParam ? args[0] : undefined;
    if (param) {
      const pt = valueTypeOf(param);
      const pw: ValueType = op === "count_values" ? "string" : "scalar";
      if (pt !== pw)
        throw parseError(`expected type ${pw} in aggregation parameter, got ${describeType(pt)}`);
    }
    return { type: "aggregate", op, param, expr, grouping, without };
  }
}

/** Go's strconv.Unquote for PromQL strings: "…" and '…' with escapes, `…` raw. */
export function unquoteString(s: string): string {
  const q = s[0];
  const body = s.slice(1, -1);
  if (q === "`") return body;
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = body[++i];
    switch (e) {
      case "a":
        out += "\x07";
        break;
      case "b":
        out += "\b";
        break;
      case "f":
        out += "\f";
        break;
      case "n":
        out += "\n";
        break;
      case "r":
        out += "\r";
        break;
      case "t":
        out += "\t";
        break;
      case "v":
        out += "\v";
        break;
      case "\\":
      case '"':
      case "'":
        out += e;
        break;
      case "x":
        out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16));
        i += 2;
        break;
      case "u":
        out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 5), 16));
        i += 4;
        break;
      case "U":
        out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 9), 16));
        i += 8;
        break;
      default:
        if (e !== undefined && /[0-7]/.test(e)) {
          out += String.fromCharCode(parseInt(body.slice(i, i + 3), 8));
          i += 2;
        } else {
          throw parseError(`invalid escape sequence "\\${e ?? ""}" in string ${s}`);
        }
    }
  }
  return out;
}
