// One anomaly-trigger invocation: every AnomalyAction (the cluster's, and files' when configured)
// is evaluated per series of its PromQL. A series seen for the first time is warmed from an hour
// of history (range query); after that each invocation feeds only the samples newer than the last
// one consumed, in order, from the store's memory of the series (a cold start or a second replica
// continues where the last one stopped). An anomalous series raises io.prophet.anomaly.detected
// and an io.prophet.alert.firing (→ incident → diagnosis → remediation, where the planner prefers
// the AnomalyAction's remediation and the gate honours requireApproval); it resolves after a quiet
// spell. One detection per series per cooldown. The status goes back to the object.
import type { KubeObject } from "../../diagnosis/objects.js";
import { selectorIsEmpty, selectorMatches } from "../../diagnosis/objects.js";
import { AnomalyDetected } from "../../events/catalog.js";
import { makeEvent } from "../../events/emit.js";
import type { ProphetEvent } from "../../events/envelope.js";
import type { AnomalyDetectedData } from "../../events/schemas/anomaly.js";
import type { Deps } from "../../function.js";
import { MetricsError, type MetricsPort, type Series } from "../../ports/metrics.js";
import { isInvalid, parseAnomalyAction, type AnomalyRule } from "../../remediation/policy-source.js";
import { findPeerOutliers } from "../peers.js";
import {
  anomalyAlertData,
  anomalyAlertEvent,
  anomalyAlertLabels,
  raiseAlarm,
  remediationOf,
} from "./alert.js";
import { PodDirectory, type Workload } from "./pods.js";
import {
  bandBefore,
  feedPoint,
  memoryFits,
  newMemory,
  type PointVerdict,
  type RaisedAlarm,
  type SeriesMemory,
  type SeriesRule,
} from "./series.js";
import { deleteSeries, listSeries, lockSeries, saveSeries, type SeriesRow } from "./state.js";
import { writeActionStatus, writeInvalidStatus, type ActionOutcome } from "./status.js";
import { parseThreshold, type Threshold } from "./threshold.js";

export interface AnomalyTriggerSettings {
  /** AnomalyActions from files (local runs, tests) besides the cluster's. */
  actions?: () => Promise<AnomalyRule[]>;
  /** Resolution of the evaluation, seconds (default 30). */
  stepSeconds?: number;
  /** History a new series is warmed with, seconds (default 3600). */
  historySeconds?: number;
  /** A raised anomaly resolves after this long without an anomalous point (default 300). */
  quietSeconds?: number;
  /** A series absent this long leaves the store (default 3600). */
  forgetSeconds?: number;
}

export interface TriggerContext {
  deps: Deps;
  source: string;
  actor: string;
}

export interface TriggerReport {
  events: ProphetEvent[];
  actions: number;
  series: number;
  detections: number;
  invalid: string[];
  requests: number;
}

const DEFAULT_LEAD_TIME_S = 900;
const PEER_POINTS = 2;

const durationSeconds = (d: string) => {
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  let total = 0;
  for (const m of d.matchAll(/([0-9]+)(ms|s|m|h|d|w|y)/g)) total += Number(m[1]) * unit[m[2]!]!;
  return total;
};

/** A series' identity: its labels, sorted. */
export function seriesKey(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(",");
}

interface LoadedAction {
  rule: AnomalyRule;
  threshold: Threshold;
  object?: KubeObject;
}

async function loadActions(
  ctx: TriggerContext,
  settings: AnomalyTriggerSettings,
): Promise<{
  actions: LoadedAction[];
  invalid: { object: KubeObject; reason: string }[];
  complete: boolean;
}> {
  const { deps } = ctx;
  const out: LoadedAction[] = [];
  const invalid: { object: KubeObject; reason: string }[] = [];
  let complete = true;
  const add = (rule: AnomalyRule, object?: KubeObject) => {
    const threshold = parseThreshold(rule.threshold, rule.operator);
    if ("error" in threshold) return; // parseAnomalyAction already refused it
    if (out.some((a) => a.rule.id === rule.id)) return;
    out.push({ rule, threshold, ...(object ? { object } : {}) });
  };
  if (settings.actions)
    for (const r of await settings.actions().catch((err: unknown) => {
      complete = false;
      deps.log.warn({ err: (err as Error).message }, "AnomalyAction files could not be read");
      return [];
    }))
      add(r);
  if (deps.kube) {
    const objects = await deps.kube.list("AnomalyAction").catch((err: unknown) => {
      complete = false;
      deps.log.warn({ err: (err as Error).message }, "AnomalyActions could not be listed");
      return [] as KubeObject[];
    });
    for (const o of objects) {
      const r = parseAnomalyAction(o, "cluster");
      if (isInvalid(r)) invalid.push({ object: o, reason: r.invalid });
      else add(r, o);
    }
  }
  return { actions: out, invalid, complete };
}

/** The whole invocation; `tick` is the cause of every event emitted. */
export async function runAnomalyTrigger(
  ctx: TriggerContext,
  tick: ProphetEvent,
  settings: AnomalyTriggerSettings = {},
): Promise<TriggerReport> {
  const { deps } = ctx;
  const cluster = tick.cluster ?? deps.cluster;
  const report: TriggerReport = {
    events: [],
    actions: 0,
    series: 0,
    detections: 0,
    invalid: [],
    requests: 0,
  };
  const loaded = await loadActions(ctx, settings);
  for (const bad of loaded.invalid) {
    report.invalid.push(bad.reason);
    await writeInvalidStatus(ctx, bad.object, bad.reason);
  }
  const pods = new PodDirectory(deps.kube, deps.metrics);
  for (const action of loaded.actions) {
    report.actions++;
    const outcome = await evaluateAction(ctx, cluster, action, tick, pods, settings, report);
    if (action.object) await writeActionStatus(ctx, action.object, outcome);
  }
  // Actions that are gone resolve their alerts and leave the store — not while any failed to load.
  if (loaded.complete && loaded.invalid.length === 0) {
    const live = new Set(loaded.actions.map((a) => a.rule.id));
    const now = deps.clock.now();
    for (const row of await listSeries(deps.store, cluster))
      if (!live.has(row.actionKey)) {
        const alarm = row.memory?.alarm;
        if (alarm)
          report.events.push(
            resolvedEvent(ctx, tick, alarm, `AnomalyAction ${row.actionKey} was removed`, now),
          );
        await deleteSeries(deps.store, cluster, row.actionKey, row.seriesKey);
      }
  }
  return report;
}

function resolvedEvent(
  ctx: TriggerContext,
  tick: ProphetEvent,
  alarm: RaisedAlarm,
  summary: string,
  at: Date,
): ProphetEvent {
  return anomalyAlertEvent(ctx.source, anomalyAlertData(alarm, "resolved", summary, at), tick.cluster);
}

interface Fetched {
  byKey: Map<string, Series>;
  requests: number;
}

/** New samples for known series, and an hour of history for series seen for the first time. */
async function fetchSeries(
  metrics: MetricsPort,
  rule: AnomalyRule,
  rows: Map<string, SeriesRow>,
  end: number,
  step: number,
  history: number,
): Promise<Fetched> {
  const byKey = new Map<string, Series>();
  let requests = 0;
  const range = async (from: number) => {
    requests++;
    return metrics.range(rule.metric, new Date(from * 1000), new Date(end * 1000), step);
  };
  const known = [...rows.values()].filter((r) => r.lastSample && r.memory);
  const oldest = Math.min(...known.map((r) => r.lastSample!.getTime() / 1000));
  let fresh: Series[] = [];
  if (known.length > 0) {
    const from = Math.max(oldest + step, end - history);
    if (from <= end) fresh = await range(from);
  }
  for (const s of fresh) byKey.set(seriesKey(s.labels), s);
  const unknown = (s: Series) => {
    const r = rows.get(seriesKey(s.labels));
    return !r?.lastSample || !r.memory;
  };
  if (known.length === 0 || fresh.some(unknown)) {
    for (const s of await range(end - history))
      if (known.length === 0 || unknown(s)) byKey.set(seriesKey(s.labels), s);
  }
  return { byKey, requests };
}

interface PeerInfo {
  group: string;
  members: number;
  outlier: string | null;
  deviation: number | null;
  isOutlier: boolean;
}

/** Replicas of one workload (3 or more series) compared over their recent points. */
function peerOutliers(
  candidates: { key: string; pod: string | undefined; group: string | null; points: [number, number][] }[],
): Map<string, PeerInfo> {
  const out = new Map<string, PeerInfo>();
  const groups = new Map<string, typeof candidates>();
  for (const c of candidates) if (c.group && c.pod) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
  for (const [group, members] of groups) {
    if (members.length < 3) continue;
    const times = [...new Set(members.flatMap((m) => m.points.map((p) => p[0])))].sort((a, b) => a - b);
    const grid = times.slice(-PEER_POINTS);
    const scored = findPeerOutliers(
      members.map((m) => {
        const at = new Map(m.points);
        return { id: m.key, values: grid.map((t) => at.get(t) ?? NaN) };
      }),
    );
    const worst = scored.filter((s) => s.outlier).sort((a, b) => b.deviation - a.deviation)[0];
    // One pod unlike the rest; when most are "outliers" nothing singles one out.
    const single = worst && scored.filter((s) => s.outlier).length === 1 ? worst : undefined;
    const outlierPod = single ? (members.find((m) => m.key === single.id)?.pod ?? null) : null;
    for (const m of members)
      out.set(m.key, {
        group,
        members: members.length,
        outlier: outlierPod,
        deviation: single ? single.deviation : null,
        isOutlier: single?.id === m.key,
      });
  }
  return out;
}

async function evaluateAction(
  ctx: TriggerContext,
  cluster: string,
  action: LoadedAction,
  tick: ProphetEvent,
  pods: PodDirectory,
  settings: AnomalyTriggerSettings,
  report: TriggerReport,
): Promise<ActionOutcome> {
  const { deps } = ctx;
  const { rule, threshold } = action;
  const now = deps.clock.now();
  const outcome: ActionOutcome = { at: now, series: 0, anomalous: [], detections: [], error: null };
  if (!deps.metrics) {
    outcome.error = {
      reason: "NoMetricsApi",
      message: "no metrics API configured (PROMETHEUS_URL)",
      bad: false,
    };
    return outcome;
  }
  const step = settings.stepSeconds ?? 30;
  const history = settings.historySeconds ?? 3600;
  const quiet = settings.quietSeconds ?? 300;
  const forget = settings.forgetSeconds ?? 3600;
  const end = Math.floor(now.getTime() / 1000 / step) * step;
  const sr: SeriesRule = {
    threshold,
    forSeconds: durationSeconds(rule.for),
    leadTimeSeconds: rule.leadTimeSeconds ?? DEFAULT_LEAD_TIME_S,
  };
  const rows = new Map((await listSeries(deps.store, cluster, rule.id)).map((r) => [r.seriesKey, r]));

  let fetched: Fetched;
  try {
    fetched = await fetchSeries(deps.metrics, rule, rows, end, step, history);
  } catch (err) {
    const bad = err instanceof MetricsError && err.code === "bad_query";
    outcome.error = {
      reason: bad ? "QueryFailed" : "MetricsUnavailable",
      message: `${rule.metric}: ${(err as Error).message}`.slice(0, 1000),
      bad,
    };
    report.requests++;
    deps.log.warn({ action: rule.id, err: (err as Error).message }, "AnomalyAction metric not evaluated");
    return outcome;
  }
  report.requests += fetched.requests;

  // podSelector: only pods of the action's namespace that match (checked against the cluster).
  const selector = rule.podSelector;
  const selected: Series[] = [];
  for (const s of fetched.byKey.values()) {
    if (selector && !selectorIsEmpty(selector) && pods.hasCluster) {
      const { namespace, pod } = s.labels;
      if (!pod || namespace !== rule.namespace) continue;
      const info = await pods.pod(namespace, pod);
      if (!info || !selectorMatches(selector, info.labels)) continue;
    }
    selected.push(s);
  }

  const context = new Map<
    string,
    { workload: Workload | null; limit: number | undefined; points: [number, number][] }
  >();
  for (const s of selected) {
    const key = seriesKey(s.labels);
    const row = rows.get(key);
    const last = row?.lastSample ? row.lastSample.getTime() / 1000 : -Infinity;
    const recent = [...(row?.memory?.recent ?? []), ...s.points.filter((p) => p[0] > last)];
    context.set(key, {
      workload: await pods.workload(s.labels),
      limit:
        threshold.kind === "limit" || /memory/i.test(rule.metric)
          ? await pods.memoryLimit(s.labels)
          : undefined,
      points: recent,
    });
  }
  const peers = peerOutliers(
    selected.map((s) => {
      const key = seriesKey(s.labels);
      const c = context.get(key)!;
      const group = c.workload
        ? `${c.workload.kind} ${s.labels.namespace ?? ""}/${c.workload.name}${s.labels.container ? ` container ${s.labels.container}` : ""}`
        : null;
      return { key, pod: s.labels.pod, group, points: c.points };
    }),
  );

  const liveFrom = end - Math.max(60, step);
  for (const s of selected) {
    const key = seriesKey(s.labels);
    const c = context.get(key)!;
    outcome.series++;
    report.series++;
    const result = await deps.store.transaction(async (tx) => {
      const row = await lockSeries(tx, cluster, rule.id, key, now);
      const fits = memoryFits(row.memory, sr);
      const mem: SeriesMemory = fits
        ? row.memory!
        : { ...newMemory(sr), ...(row.memory ? keep(row.memory) : {}) };
      const last = fits && row.lastSample ? row.lastSample.getTime() / 1000 : -Infinity;
      const warm = last === -Infinity;
      let first: PointVerdict | undefined;
      let newest = last;
      for (const [t, v] of s.points) {
        if (t <= last || t > end) continue; // never a point twice, never one from the future
        const verdict = feedPoint(mem, sr, t, v, c.limit);
        newest = t;
        if (verdict.active && (!warm || t >= liveFrom)) {
          mem.lastActive = t;
          first ??= verdict;
        }
      }
      let raised: { alarm: RaisedAlarm; verdict: PointVerdict } | undefined;
      let resolved: RaisedAlarm | undefined;
      let lastAlarm = row.lastAlarm;
      if (first && !mem.alarm) {
        const cooldownUntil = (lastAlarm?.getTime() ?? -Infinity) + rule.cooldownSeconds * 1000;
        if (first.t * 1000 < cooldownUntil) mem.suppressed++;
        else {
          const p = peers.get(key);
          const labels = anomalyAlertLabels(rule, s.labels, first.component!, c.workload, p?.outlier ?? null);
          mem.alarm = raiseAlarm(labels, new Date(first.t * 1000));
          mem.band = threshold.kind === "anomaly" ? bandBefore(mem, first.t) : null;
          mem.detections++;
          lastAlarm = new Date(first.t * 1000);
          raised = { alarm: mem.alarm, verdict: first };
        }
      } else if (mem.alarm && mem.lastActive !== null && end - mem.lastActive >= quiet) {
        resolved = mem.alarm;
        mem.alarm = null;
        mem.band = null;
      }
      await saveSeries(tx, cluster, {
        actionKey: rule.id,
        seriesKey: key,
        memory: mem,
        lastSample: Number.isFinite(newest) ? new Date(newest * 1000) : row.lastSample,
        lastAlarm,
        updatedAt: now,
      });
      return { raised, resolved, alarm: mem.alarm, detections: mem.detections };
    });
    if (result.alarm) outcome.anomalous.push(s.labels.pod ?? key);
    if (result.raised) {
      const { alarm, verdict } = result.raised;
      report.detections++;
      outcome.detections.push(new Date(verdict.t * 1000));
      report.events.push(
        detectedEvent(
          ctx,
          tick,
          rule,
          threshold,
          s,
          key,
          verdict,
          alarm,
          c,
          peers.get(key) ?? null,
          result.detections,
        ),
        anomalyAlertEvent(
          ctx.source,
          anomalyAlertData(alarm, "firing", summaryOf(rule, s.labels, verdict), null),
          tick.cluster,
        ),
      );
    }
    if (result.resolved)
      report.events.push(
        resolvedEvent(
          ctx,
          tick,
          result.resolved,
          `${describe(s.labels)} is back to normal for ${rule.id}`,
          now,
        ),
      );
  }

  // Series no longer returned: resolve after the quiet spell, forget after a while.
  for (const row of rows.values()) {
    if (fetched.byKey.has(row.seriesKey) && selected.some((s) => seriesKey(s.labels) === row.seriesKey))
      continue;
    const out = await deps.store.transaction(async (tx) => {
      const r = await lockSeries(tx, cluster, rule.id, row.seriesKey, now);
      const mem = r.memory;
      const seen = (r.lastSample ?? r.updatedAt).getTime() / 1000;
      let resolved: RaisedAlarm | undefined;
      if (mem?.alarm && end - Math.max(mem.lastActive ?? seen, seen) >= quiet) {
        resolved = mem.alarm;
        mem.alarm = null;
        mem.band = null;
      }
      if (end - seen >= forget || !mem) await deleteSeries(tx, cluster, rule.id, row.seriesKey);
      else await saveSeries(tx, cluster, { ...r, memory: mem });
      return { resolved, alarm: mem?.alarm ?? null };
    });
    if (out.alarm) outcome.anomalous.push(out.alarm.labels.pod ?? row.seriesKey);
    if (out.resolved)
      report.events.push(
        resolvedEvent(ctx, tick, out.resolved, `the series is gone or no longer selected by ${rule.id}`, now),
      );
  }
  return outcome;
}

/** What survives a change of threshold: the raised alert and the counts. */
function keep(m: SeriesMemory): Partial<SeriesMemory> {
  return {
    alarm: m.alarm,
    band: m.band ?? null,
    detections: m.detections,
    suppressed: m.suppressed,
    lastActive: m.lastActive,
  };
}

function describe(labels: Record<string, string>): string {
  if (labels.pod)
    return `${labels.namespace ?? ""}/${labels.pod}${labels.container ? ` (${labels.container})` : ""}`;
  return seriesKey(labels) || "the series";
}

const mib = (b: number) => `${Math.round(b / 2 ** 20)}Mi`;

function summaryOf(rule: AnomalyRule, labels: Record<string, string>, v: PointVerdict): string {
  const what = describe(labels);
  switch (v.component) {
    case "projected-limit":
      return `${what}: memory grows ${mib(v.projection!.slope * 60)}/min and reaches its limit of ${mib(v.projection!.bound)} in ~${Math.round(v.projection!.seconds / 60)} min (projected OOM)`;
    case "trend":
      return `${what}: ${rule.metric} is rising steadily (trend score ${v.score.toFixed(2)})`;
    case "threshold":
      return `${what}: ${rule.metric} = ${v.value} crosses ${String(rule.threshold)}`;
    default:
      return `${what}: ${rule.metric} = ${v.value} is anomalous (score ${v.score.toFixed(2)})`;
  }
}

function detectedEvent(
  ctx: TriggerContext,
  tick: ProphetEvent,
  rule: AnomalyRule,
  threshold: Threshold,
  s: Series,
  key: string,
  v: PointVerdict,
  alarm: RaisedAlarm,
  c: { workload: Workload | null },
  peers: PeerInfo | null,
  detections: number,
): ProphetEvent {
  const remediation = remediationOf(rule);
  const at = new Date(v.t * 1000);
  const data: AnomalyDetectedData = {
    action: {
      id: rule.id,
      origin: rule.source,
      metric: rule.metric,
      threshold: threshold.kind === "anomaly" ? "anomaly" : threshold.text,
      requireApproval: rule.requireApproval,
      cooldownSeconds: rule.cooldownSeconds,
    },
    series: { key, labels: s.labels },
    at: at.toISOString(),
    value: v.value,
    score: Math.min(1, Math.max(0, v.score)),
    detector: {
      mode: threshold.kind === "anomaly" ? "anomaly" : "threshold",
      component: v.component!,
      scores: v.scores,
      bound: v.bound,
    },
    target: {
      namespace: s.labels.namespace ?? null,
      pod: s.labels.pod ?? null,
      container: s.labels.container ?? null,
      workload: c.workload,
    },
    peers,
    projection: v.projection
      ? {
          bound: v.projection.bound,
          boundKind: "memory-limit",
          secondsToBound: Math.max(0, v.projection.seconds),
          at: new Date(at.getTime() + Math.max(0, v.projection.seconds) * 1000).toISOString(),
          slopePerSecond: v.projection.slope,
          points: v.projection.window,
          method: "linear-fit",
        }
      : null,
    remediation: remediation ? { action: remediation, requireApproval: rule.requireApproval } : null,
    alert: { alertname: alarm.alertname, fingerprint: alarm.fingerprint },
    detections,
  };
  return makeEvent(AnomalyDetected, data, {
    cause: tick,
    source: ctx.source,
    subject: `${rule.id} ${describe(s.labels)}`,
    time: at,
    key: `${rule.id}|${key}|${alarm.startsAt}`,
  });
}
