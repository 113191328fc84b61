// An AnomalyAction's `threshold`, as the seeds wrote it: a comparison with a number or a Kubernetes
// quantity ("> 1Gi", ">= 0.9", "< 10"), a share of the container's memory limit ("> 80% of
// limit"), or the word "anomaly" for the learned detector. A bare number (the older form) is a
// comparison in the direction of `operator`.

export type Comparison = ">" | ">=" | "<" | "<=";

export type Threshold =
  | { kind: "anomaly" }
  | { kind: "value"; op: Comparison; value: number; text: string }
  | { kind: "limit"; op: Comparison; fraction: number; text: string };

const binary: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const decimal: Record<string, number> = { m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

const comparison = /^(>=|<=|>|<)\s*(.+)$/;
const number =
  /^([-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$/;
const ofLimit = /^([0-9]+(?:\.[0-9]+)?)\s*%\s+of\s+limit$/i;

/** A number with an optional Kubernetes suffix ("1Gi", "500m", "0.9", "1e6"); undefined otherwise. */
export function parseQuantityValue(text: string): number | undefined {
  const m = number.exec(text.trim());
  if (!m) return undefined;
  const unit = m[2] ?? "";
  return Number(m[1]) * (binary[unit] ?? decimal[unit] ?? 1);
}

/** The threshold, or why it is not one (a message naming what is accepted). */
export function parseThreshold(
  raw: number | string,
  operator: "gt" | "lt" = "gt",
): Threshold | { error: string } {
  if (typeof raw === "number")
    return Number.isFinite(raw)
      ? {
          kind: "value",
          op: operator === "gt" ? ">" : "<",
          value: raw,
          text: `${operator === "gt" ? ">" : "<"} ${raw}`,
        }
      : { error: "the threshold must be a finite number" };
  const text = raw.trim();
  if (text.toLowerCase() === "anomaly") return { kind: "anomaly" };
  const m = comparison.exec(text);
  const rest = m?.[2]?.trim() ?? "";
  const op = m?.[1] as Comparison | undefined;
  const limit = ofLimit.exec(rest);
  if (op && limit) {
    const fraction = Number(limit[1]) / 100;
    if (fraction > 0) return { kind: "limit", op, fraction, text: `${op} ${limit[1]}% of limit` };
  }
  const value = op ? parseQuantityValue(rest) : undefined;
  if (op && value !== undefined && Number.isFinite(value))
    return { kind: "value", op, value, text: `${op} ${rest}` };
  return {
    error: `${JSON.stringify(raw)} is not a number, a comparison such as "> 1Gi", ">= 0.9" or "> 80% of limit", or "anomaly"`,
  };
}

export function compare(op: Comparison, value: number, bound: number): boolean {
  switch (op) {
    case ">":
      return value > bound;
    case ">=":
      return value >= bound;
    case "<":
      return value < bound;
    case "<=":
      return value <= bound;
  }
}
