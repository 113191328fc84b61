// Alert rule evaluation as Prometheus' rule manager does it, on the simulated clock: each evaluation
// runs every rule's expression at `now`; a new label set becomes pending, turns firing once it has
// matched for the rule's `for`, and is resolved when it stops matching (kept 15 m, like Prometheus,
// so the notifier can send the resolution). A pending alert that stops matching is dropped.
import { labelsToObject, query, type TimeSeriesStore } from "../metrics/index.js";
import { parseDurationMs } from "../metrics/promql/duration.js";
import { fingerprint } from "./fingerprint.js";
import type { AlertRule } from "./rules.js";

export interface AlertState {
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: "pending" | "firing" | "inactive";
  activeAt: number;
  firedAt?: number;
  resolvedAt?: number;
  value: number;
  rule: string;
  expr: string;
}

const RESOLVED_RETENTION_MS = 15 * 60_000;

export class RuleEvaluator {
  private readonly alerts = new Map<string, Map<string, AlertState>>();
  private readonly forMs: Map<string, number>;
  /** Rule name → message of its last evaluation error (an unsupported expression, say). */
  readonly errors = new Map<string, string>();

  constructor(
    private readonly store: TimeSeriesStore,
    private readonly rules: AlertRule[],
    /** Prometheus' external_labels (e.g. {cluster: "eu-1"}): on every alert, under its own labels. */
    private readonly externalLabels: Record<string, string> = {},
  ) {
    this.forMs = new Map(rules.map((r) => [r.alert, parseDurationMs(r.for) ?? 0]));
  }

  evaluate(nowMs: number): void {
    for (const rule of this.rules) {
      let active = this.alerts.get(rule.alert);
      if (!active) this.alerts.set(rule.alert, (active = new Map()));
      let samples;
      try {
        const res = query(this.store, rule.expr, nowMs);
        samples = res.resultType === "vector" ? res.result : [];
        this.errors.delete(rule.alert);
      } catch (err) {
        this.errors.set(rule.alert, (err as Error).message);
        continue;
      }
      const seen = new Set<string>();
      for (const s of samples) {
        const { __name__: _name, ...metric } = labelsToObject(s.metric);
        const labels = { ...this.externalLabels, ...metric, ...rule.labels, alertname: rule.alert };
        const fp = fingerprint(labels);
        seen.add(fp);
        let a = active.get(fp);
        if (!a || a.state === "inactive") {
          a = {
            fingerprint: fp,
            labels,
            annotations: {},
            state: "pending",
            activeAt: nowMs,
            value: s.value,
            rule: rule.alert,
            expr: rule.expr,
          };
          active.set(fp, a);
        }
        a.value = s.value;
        a.annotations = expandAnnotations(rule.annotations, labels, s.value);
        if (a.state === "pending" && nowMs - a.activeAt >= (this.forMs.get(rule.alert) ?? 0)) {
          a.state = "firing";
          a.firedAt = nowMs;
        }
      }
      for (const [fp, a] of active) {
        if (seen.has(fp)) continue;
        if (a.state === "pending") active.delete(fp);
        else if (a.state === "firing") {
          a.state = "inactive";
          a.resolvedAt = nowMs;
        } else if (nowMs - (a.resolvedAt ?? nowMs) > RESOLVED_RETENTION_MS) active.delete(fp);
      }
    }
  }

  /** Every pending, firing and recently resolved alert. */
  list(): AlertState[] {
    return [...this.alerts.values()].flatMap((m) => [...m.values()]);
  }

  firing(): AlertState[] {
    return this.list().filter((a) => a.state === "firing");
  }
}

/** Expands the subset of Prometheus' template language the rules use. */
export function expandAnnotations(
  annotations: Record<string, string | undefined>,
  labels: Record<string, string>,
  value: number,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, text] of Object.entries(annotations)) {
    if (text === undefined) continue;
    out[k] = text.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (whole, inner: string) => {
      const label = /^\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)$/.exec(inner);
      if (label) return labels[label[1] ?? ""] ?? "";
      if (inner === "$value") return String(value);
      if (/^\$value\s*\|\s*humanizePercentage$/.test(inner)) return `${(value * 100).toFixed(2)}%`;
      if (/^\$value\s*\|\s*humanize$/.test(inner)) return value.toPrecision(4);
      return whole;
    });
  }
  return out;
}
