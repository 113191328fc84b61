// The evaluator's syntax tree: what lezer-promql's concrete tree means, type-checked as Prometheus does.

import type { Matcher } from "../matchers.js";

export type ValueType = "scalar" | "vector" | "matrix" | "string";

export type AtModifier = { kind: "time"; ms: number } | { kind: "start" } | { kind: "end" };

export interface VectorSelector {
  type: "vectorSelector";
  name: string | undefined;
  matchers: Matcher[];
  offsetMs: number;
  at: AtModifier | undefined;
}

export interface MatrixSelector {
  type: "matrixSelector";
  selector: VectorSelector;
  rangeMs: number;
}

export interface NumberLiteral {
  type: "number";
  value: number;
}

export interface StringLiteral {
  type: "string";
  value: string;
}

export interface Call {
  type: "call";
  func: string;
  args: Expr[];
}

export type AggregateOp =
  | "sum"
  | "avg"
  | "min"
  | "max"
  | "count"
  | "group"
  | "stddev"
  | "stdvar"
  | "topk"
  | "bottomk"
  | "quantile"
  | "count_values";

export interface Aggregate {
  type: "aggregate";
  op: AggregateOp;
  param: Expr | undefined;
  expr: Expr;
  grouping: string[];
  without: boolean;
}

export type ArithmeticOp = "+" | "-" | "*" | "/" | "%" | "^" | "atan2";
export type ComparisonOp = "==" | "!=" | ">" | "<" | ">=" | "<=";
export type SetOp = "and" | "or" | "unless";
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp;

export interface VectorMatching {
  card: "one-to-one" | "many-to-one" | "one-to-many" | "many-to-many";
  on: boolean;
  labels: string[];
  /** Labels copied from the "one" side with group_left/group_right. */
  include: string[];
}

export interface Binary {
  type: "binary";
  op: BinaryOp;
  lhs: Expr;
  rhs: Expr;
  returnBool: boolean;
  /** Present when both sides are instant vectors. */
  matching: VectorMatching | undefined;
}

export interface Unary {
  type: "unary";
  op: "-" | "+";
  expr: Expr;
}

export type Expr =
  VectorSelector | MatrixSelector | NumberLiteral | StringLiteral | Call | Aggregate | Binary | Unary;

export function valueTypeOf(e: Expr): ValueType {
  switch (e.type) {
    case "vectorSelector":
      return "vector";
    case "matrixSelector":
      return "matrix";
    case "number":
      return "scalar";
    case "string":
      return "string";
    case "aggregate":
      return "vector";
    case "unary":
      return valueTypeOf(e.expr);
    case "binary":
      return valueTypeOf(e.lhs) === "scalar" && valueTypeOf(e.rhs) === "scalar" ? "scalar" : "vector";
    case "call":
      return e.func === "time" || e.func === "scalar" || e.func === "pi" ? "scalar" : "vector";
  }
}

export function describeType(t: ValueType): string {
  return t === "vector" ? "instant vector" : t === "matrix" ? "range vector" : t;
}
