// One series of one AnomalyAction, point by point: what the trigger remembers about it between
// invocations (JSON in anomaly_state.state) and how each new point is judged. Pure: no I/O.
//
// Learned mode ("anomaly") takes the strongest of three views: the streaming detector's surprise
// (detector.ts, a one-shot alarm), a steady trend (trend.ts, a level), and — for a memory series
// whose container has a limit — the projected time until the working set reaches it
// (projection.ts). Threshold mode compares each point with the bound and needs it to hold for
// `for`; the projection applies there too, so a leak is named before the limit, not at it.
import { createDetector, observePoint, type DetectorOptions, type DetectorState } from "../detector.js";
import { projectToBound, type Projection } from "../projection.js";
import { createTrend, observeTrend, type TrendState } from "../trend.js";
import { compare, type Threshold } from "./threshold.js";

export type Component = "surprise" | "trend" | "projected-limit" | "threshold";

/**
 * The detector as the trigger runs it: warm after an hour of one-minute points (the NAB setting
 * waits 150), one day of seasonality, a shorter residual window (smaller state to persist).
 */
export const TRIGGER_DETECTOR: Partial<DetectorOptions> = {
  warmup: 60,
  minResiduals: 30,
  rangeStart: 20,
  seasonDays: 1,
  residualWindow: 600,
};

/** The points kept for the projection and for comparing replicas. */
export const RECENT_POINTS = 32;

/** An alert the trigger raised for the series and has not resolved. */
export interface RaisedAlarm {
  alertname: string;
  fingerprint: string;
  startsAt: string;
  labels: Record<string, string>;
}

export interface SeriesMemory {
  version: 1;
  /** The threshold text the memory was built for: another threshold starts afresh. */
  rule: string;
  detector: DetectorState | null;
  trend: TrendState | null;
  recent: [number, number][];
  /** Threshold mode: since when (epoch s) the condition holds. */
  conditionSince: number | null;
  /** The last point (epoch s) that was anomalous. */
  lastActive: number | null;
  alarm: RaisedAlarm | null;
  /** Learned mode, while an alarm is raised: where the series was before it. An anomaly lasts
   * while the series stays outside (a leak keeps climbing after the detector's one-shot alarm). */
  band: [number, number] | null;
  detections: number;
  /** Detections not raised because of the cooldown. */
  suppressed: number;
}

export interface SeriesRule {
  threshold: Threshold;
  forSeconds: number;
  /** Projection horizon; 0 = off. */
  leadTimeSeconds: number;
}

export interface PointVerdict {
  t: number;
  value: number;
  /** The strongest component's score, in [0, 1]; ≥ 0.5 is anomalous. */
  score: number;
  active: boolean;
  component: Component | null;
  scores: { surprise: number | null; trend: number | null; projection: number | null };
  projection: Projection | null;
  /** The bound the threshold compared with (a value, or a share of the limit). */
  bound: number | null;
}

export function ruleText(t: Threshold): string {
  return t.kind === "anomaly" ? "anomaly" : t.text;
}

export function newMemory(rule: SeriesRule): SeriesMemory {
  const learned = rule.threshold.kind === "anomaly";
  return {
    version: 1,
    rule: ruleText(rule.threshold),
    detector: learned ? createDetector(TRIGGER_DETECTOR) : null,
    trend: learned ? createTrend() : null,
    recent: [],
    conditionSince: null,
    lastActive: null,
    alarm: null,
    band: null,
    detections: 0,
    suppressed: 0,
  };
}

/** Whether a remembered state still fits the rule (else it starts afresh, keeping its alarm). */
export function memoryFits(m: SeriesMemory | null, rule: SeriesRule): m is SeriesMemory {
  return m !== null && m.version === 1 && m.rule === ruleText(rule.threshold);
}

const order: Component[] = ["threshold", "projected-limit", "trend", "surprise"];

/** Feeds one point (epoch seconds); `limit` is the container's memory limit when known. */
export function feedPoint(
  m: SeriesMemory,
  rule: SeriesRule,
  t: number,
  value: number,
  limit: number | undefined,
): PointVerdict {
  m.recent.push([t, value]);
  if (m.recent.length > RECENT_POINTS) m.recent.splice(0, m.recent.length - RECENT_POINTS);
  const th = rule.threshold;
  const scores: Record<Component, number | null> = {
    surprise: m.detector ? observePoint(m.detector, t, value) : null,
    trend: m.trend ? observeTrend(m.trend, t, value).score : null,
    "projected-limit": null,
    threshold: null,
  };
  let projection: Projection | null = null;
  if (limit !== undefined && limit > 0 && rule.leadTimeSeconds > 0) {
    projection = projectToBound(m.recent, limit) ?? null;
    if (projection)
      scores["projected-limit"] = Math.min(1, (0.5 * rule.leadTimeSeconds) / Math.max(projection.seconds, 1));
  }
  let bound: number | null = null;
  if (th.kind !== "anomaly") {
    bound = th.kind === "value" ? th.value : limit !== undefined ? th.fraction * limit : null;
    const holds = bound !== null && Number.isFinite(value) && compare(th.op, value, bound);
    if (!holds) m.conditionSince = null;
    else m.conditionSince ??= t;
    scores.threshold = holds && t - m.conditionSince! >= rule.forSeconds ? 1 : holds ? 0.49 : 0;
  }
  let component: Component | null = null;
  let score = 0;
  for (const c of order) {
    const s = scores[c];
    if (s !== null && s > score) {
      score = s;
      component = c;
    }
  }
  // Still outside where it was before the alarm: the anomaly goes on.
  const outside = m.alarm !== null && m.band !== null && (value < m.band[0] || value > m.band[1]);
  const active = score >= 0.5 || outside;
  return {
    t,
    value,
    score,
    active,
    component: score >= 0.5 ? component : null,
    scores: { surprise: scores.surprise, trend: scores.trend, projection: scores["projected-limit"] },
    projection,
    bound,
  };
}

/**
 * Where the series was before the point at `t`: median ± 3 robust deviations (at least 2 % of the
 * level), from the recent points before it. Set when an alarm is raised in learned mode.
 */
export function bandBefore(m: SeriesMemory, t: number): [number, number] | null {
  const xs = m.recent.filter((p) => p[0] < t && Number.isFinite(p[1])).map((p) => p[1]);
  if (xs.length < 4) return null;
  const med = median(xs);
  const mad = median(xs.map((x) => Math.abs(x - med)));
  const half = Math.max(3 * 1.4826 * mad, 0.02 * Math.abs(med));
  return [med - half, med + half];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
