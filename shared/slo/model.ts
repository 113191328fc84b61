// One SLO model for every spec format Prophet reads (Sloth prometheus/v1 files, Sloth
// PrometheusServiceLevel resources, OpenSLO v1 SLO/SLI, the SLOViolation CRD). Parsers in
// spec/ turn each format into SloSpec; evaluation (evaluate.ts), rule generation (rules.ts),
// time to exhaustion (exhaustion.ts) and enforcement only ever see SloSpec.

/** Query templates use Sloth's `{{.window}}` placeholder for the range, e.g. `rate(x[{{.window}}])`. */
export const WINDOW_PLACEHOLDER = "{{.window}}";

export type Sli =
  /** Bad and total events per second over the window (Sloth `events`, OpenSLO ratioMetric). */
  | { type: "events"; errorQuery: string; totalQuery: string }
  /** The error ratio itself (Sloth `raw.error_ratio_query`): no event counts, no low-traffic guard. */
  | { type: "raw"; errorRatioQuery: string }
  /**
   * OpenSLO thresholdMetric: an instant value per data point; a point is bad when the objective's
   * comparison (`op value`) does not hold. Error ratio = bad points / points in the window, points
   * taken every `stepSeconds`.
   */
  | { type: "threshold"; query: string; op: "lt" | "lte" | "gt" | "gte"; value: number; stepSeconds: number };

export type Budgeting =
  | { method: "Occurrences" }
  /** A slice is good when its own good ratio ≥ sliceTarget; the SLO counts good slices. */
  | { method: "Timeslices"; sliceSeconds: number; sliceTarget: number };

export interface SloAlerting {
  /** Alert name (Sloth `alerting.name`); Prophet's default is `<Service><Slo>ErrorBudgetBurn`-ish. */
  name: string;
  disabled: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  page: { disabled: boolean; labels: Record<string, string>; annotations: Record<string, string> };
  ticket: { disabled: boolean; labels: Record<string, string>; annotations: Record<string, string> };
}

/** What slo-check does when the budget burns (SLOViolation only; other formats only alert). */
export interface SloEnforcement {
  /** The workload serving the SLO: rollbacks are proposed for it, its namespace is frozen. */
  targetRef?: { kind: "Deployment" | "StatefulSet"; namespace: string; name: string };
  /** Act when the remaining budget (percent of the period's budget) falls to this or below. */
  errorBudgetThreshold: number;
  /** The seeds' actions (`scale`, `alert`) and Prophet's (`rollback`, `freeze`). */
  actions: ("scale" | "alert" | "rollback" | "freeze")[];
  /** `scale`: raise this HPA's min/max (by `step` replicas, up to `maxReplicas`). */
  hpaRef?: { namespace: string; name: string; step: number; maxReplicas?: number };
  /** `freeze`: the namespaces (default: the target's) and Argo CD Applications to annotate. */
  freeze: { namespaces: string[]; argoApplications: { namespace: string; name: string }[] };
  /** Fire a chaos experiment while the budget is healthy (above 2 × the threshold). */
  enableChaos: boolean;
}

export interface SloSource {
  format: "sloth" | "PrometheusServiceLevel" | "openslo" | "SLOViolation";
  /** The file path or `<namespace>/<name>` of the object. */
  origin: string;
  /** For cluster objects: where status is written back. */
  object?: { apiVersion: string; kind: string; namespace: string; name: string };
}

export interface SloSpec {
  /** Sloth's id: `<service>-<name>`; unique across loaded specs. */
  id: string;
  service: string;
  name: string;
  description: string;
  /** Target ratio of good events, 0 < target < 1 (Sloth's objective 99.9 → 0.999). */
  target: number;
  /** The SLO period (compliance window), seconds; default 30 days. */
  periodSeconds: number;
  sli: Sli;
  budgeting: Budgeting;
  /** Extra labels on every generated rule (Sloth `labels`, per-SLO labels merged over service labels). */
  labels: Record<string, string>;
  alerting: SloAlerting;
  /** Low-traffic guard: a window with fewer events than this does not count for alerting. */
  minEvents: number;
  enforcement?: SloEnforcement;
  source: SloSource;
}

/** A spec that could not be read: where and why (field path + reason). */
export interface SloSpecError {
  origin: string;
  /** JSONPath-like, e.g. `slos[0].objective`. */
  path: string;
  reason: string;
}

export interface SloLoadResult {
  slos: SloSpec[];
  errors: SloSpecError[];
}

export const DAY = 86_400;
export const DEFAULT_PERIOD_SECONDS = 30 * DAY;
export const DEFAULT_MIN_EVENTS = 10;

/** The multiwindow, multi-burn-rate alert tiers (Google SRE workbook, as Sloth generates them). */
export interface BurnTier {
  name: "page-fast" | "page-slow" | "ticket-fast" | "ticket-slow";
  severity: "page" | "ticket";
  longSeconds: number;
  shortSeconds: number;
  /** Share of the period's budget this tier spends over its long window (2 %, 5 %, 10 %, 10 %). */
  budgetShare: number;
}

export const burnTiers: readonly BurnTier[] = [
  { name: "page-fast", severity: "page", longSeconds: 3600, shortSeconds: 300, budgetShare: 0.02 },
  { name: "page-slow", severity: "page", longSeconds: 6 * 3600, shortSeconds: 1800, budgetShare: 0.05 },
  { name: "ticket-fast", severity: "ticket", longSeconds: DAY, shortSeconds: 7200, budgetShare: 0.1 },
  { name: "ticket-slow", severity: "ticket", longSeconds: 3 * DAY, shortSeconds: 6 * 3600, budgetShare: 0.1 },
];

/** The burn-rate factor of a tier for a period: 14.4, 6, 3, 1 for 30 days; 13.44, 5.6, 2.8, 0.933… for 28. */
export function burnFactor(tier: BurnTier, periodSeconds: number): number {
  return (tier.budgetShare * periodSeconds) / tier.longSeconds;
}

/** The windows Sloth records (5m … 3d) plus the period. */
export const sliWindowsSeconds = [300, 1800, 3600, 7200, 6 * 3600, DAY, 3 * DAY] as const;

/** Prometheus duration text of a whole number of seconds: 300 → "5m", 86400 → "1d", 2592000 → "30d". */
export function durationText(seconds: number): string {
  const units: [string, number][] = [
    ["w", 7 * DAY],
    ["d", DAY],
    ["h", 3600],
    ["m", 60],
    ["s", 1],
  ];
  // Sloth writes 30d, not 4w2d: days are the largest unit used unless the value is whole weeks only
  // when it is not a whole number of days.
  if (seconds % DAY === 0) return `${seconds / DAY}d`;
  let left = seconds;
  let out = "";
  for (const [u, s] of units.slice(1)) {
    const n = Math.floor(left / s);
    if (n > 0) out += `${n}${u}`;
    left -= n * s;
  }
  return out || "0s";
}

/** Substitute the window into a query template. */
export function withWindow(template: string, seconds: number): string {
  return template.split(WINDOW_PLACEHOLDER).join(durationText(seconds));
}

/** Error budget as a ratio: 1 − target (Sloth's `slo:error_budget:ratio`). */
export function errorBudget(slo: Pick<SloSpec, "target">): number {
  return 1 - slo.target;
}
