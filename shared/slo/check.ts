// One slo-check invocation: load every SLO (files, SLOViolation and PrometheusServiceLevel
// objects), evaluate them in batched queries, project when each budget runs out, then per SLO:
// raise or resolve its burn-rate alerts (as io.prophet.alert.firing/resolved, so SLO burns
// become incidents like any Alertmanager alert and flow through diagnosis and remediation),
// track the phase, freeze or unfreeze deploys, and write the status back to the object.
//
// Enforcement that changes workloads (scale the HPA, roll back) is not done here: the alert
// carries the SLOViolation's enforcement in labels (prophet_slo_*), the diagnosis correlates the
// burn with a rollout, and the remediation planner and policy gate decide, audit and (for
// rollbacks) propose. Only the deploy freeze — an annotation the SLO's owner asked for — is
// applied directly, and audited.
import { SloEvaluated, SloViolated } from "../events/catalog.js";
import { makeEvent } from "../events/emit.js";
import type { ProphetEvent } from "../events/envelope.js";
import { raisedAlertData, raisedAlertEvent } from "../events/edge/alertmanager.js";
import { fingerprint } from "../events/fingerprint.js";
import type { AlertEventData } from "../events/schemas/alert.js";
import type { SloEvaluatedData, SloViolatedData } from "../events/schemas/slo.js";
import type { Deps } from "../function.js";
import type { KubeObject } from "../diagnosis/objects.js";
import type { MetricsPort } from "../ports/metrics.js";
import type { Sql } from "../ports/store.js";
import { appendAudit } from "../store/audit.js";
import { incidentId } from "../store/incidents.js";
import { evaluateSlos, serverNow, type SloEvaluation, type WindowResult } from "./evaluate.js";
import { timeToExhaustion, type Exhaustion } from "./exhaustion.js";
import { batchRange } from "./batch.js";
import { withWindow, type SloLoadResult, type SloSpec, type SloSpecError } from "./model.js";
import { parseSloObject } from "./spec/index.js";
import {
  listSloStates,
  lockSloState,
  saveSloState,
  type Freeze,
  type RaisedAlert,
  type SloPhase,
  type SloState,
} from "./state.js";

export interface SloSettings {
  /** SLOs from files (PROPHET_SLO_FILES); the cluster's objects are read as well. */
  specs?: () => Promise<SloLoadResult>;
  /** Project time to exhaustion (two range queries per SLO, batched). Default true. */
  exhaustion?: boolean;
}

export interface CheckContext {
  deps: Deps;
  source: string;
  actor: string;
}

export interface CheckReport {
  events: ProphetEvent[];
  evaluated: number;
  invalid: SloSpecError[];
  /** Requests issued to the metrics API. */
  requests: number;
}

export const FREEZE_ANNOTATION_PREFIX = "deploy-freeze.aiops.prophet.io/";
/** A Resolved SLO goes back to Monitoring after this long without a violation. */
const resolvedHoldMs = 60 * 60_000;
const sloKinds = ["SLOViolation", "PrometheusServiceLevel"] as const;

/** Specs from files and from the cluster; duplicate ids keep the first. */
export async function loadSlos(deps: Deps, settings: SloSettings = {}): Promise<SloLoadResult> {
  const out: SloLoadResult = { slos: [], errors: [] };
  if (settings.specs) {
    const r = await settings.specs();
    out.slos.push(...r.slos);
    out.errors.push(...r.errors);
  }
  if (deps.kube) {
    for (const kind of sloKinds) {
      for (const obj of await deps.kube.list(kind)) {
        const origin = `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
        const r = parseSloObject(obj, origin);
        out.slos.push(...r.slos);
        out.errors.push(...r.errors);
      }
    }
  }
  const seen = new Set<string>();
  out.slos = out.slos.filter((s) => {
    if (!seen.has(s.id)) return seen.add(s.id);
    out.errors.push({
      origin: s.source.origin,
      path: "id",
      reason: `SLO id ${s.id} is already defined by another spec; this one is ignored`,
    });
    return false;
  });
  return out;
}

const REVISION = "deployment.kubernetes.io/revision";
/** The shortest since-rollout window: six scrapes at Prometheus' usual 30 s. */
const MIN_SINCE_CHANGE_S = 180;

/** Seconds since the SLO's Deployment created its newest ReplicaSet, when under an hour. */
async function rolloutAge(
  deps: Deps,
  slo: SloSpec,
  now: Date,
  replicaSets: Map<string, Promise<KubeObject[]>>,
): Promise<number | undefined> {
  const ref = slo.enforcement?.targetRef;
  if (!deps.kube || !ref || ref.kind !== "Deployment") return undefined;
  const d = await deps.kube.get("Deployment", ref.namespace, ref.name).catch(() => undefined);
  if (!d) return undefined;
  const rev = d.metadata.annotations?.[REVISION];
  // One list per namespace per invocation, however many SLOs point into it.
  let listed = replicaSets.get(ref.namespace);
  if (!listed) {
    listed = deps.kube.list("ReplicaSet", ref.namespace).catch(() => [] as KubeObject[]);
    replicaSets.set(ref.namespace, listed);
  }
  const sets = await listed;
  const current = sets.find(
    (rs) =>
      rs.metadata.ownerReferences?.some((o) => o.uid === d.metadata.uid) &&
      rs.metadata.annotations?.[REVISION] === rev,
  );
  const created = Date.parse(current?.metadata.creationTimestamp ?? "");
  if (!Number.isFinite(created)) return undefined;
  const age = Math.ceil((now.getTime() - created) / 1000);
  return age >= 0 && age < 3600 ? Math.max(MIN_SINCE_CHANGE_S, age) : undefined;
}

/** Hourly error and total counts over the period, for the exhaustion projection. */
export async function exhaustionFor(
  metrics: MetricsPort | undefined,
  slos: SloSpec[],
  results: Map<string, SloEvaluation>,
  now: Date,
): Promise<{ byId: Map<string, Exhaustion>; requests: number }> {
  const byId = new Map<string, Exhaustion>();
  const eligible = slos.filter(
    (s) => s.sli.type === "events" && s.budgeting.method === "Occurrences" && results.has(s.id),
  );
  if (!metrics || eligible.length === 0) return { byId, requests: 0 };
  const step = 3600;
  const end = Math.floor(now.getTime() / 1000 / step) * step;
  let requests = 0;
  // One range per distinct period (usually one: 30 d).
  const periods = [...new Set(eligible.map((s) => s.periodSeconds))];
  for (const period of periods) {
    const group = eligible.filter((s) => s.periodSeconds === period);
    const start = end - period + step;
    const queries = group.flatMap((s) => {
      const sli = s.sli as Extract<SloSpec["sli"], { type: "events" }>;
      return [
        { key: `${s.id}|e`, expr: withWindow(sli.errorQuery, step), group: s.id },
        { key: `${s.id}|t`, expr: withWindow(sli.totalQuery, step), group: s.id },
      ];
    });
    const r = await batchRange(metrics, queries, new Date(start * 1000), new Date(end * 1000), step);
    requests += r.requests;
    for (const s of group) {
      const sum = (key: string) => {
        const m = new Map<number, number>();
        for (const ser of r.values.get(key) ?? [])
          for (const [t, v] of ser.points) m.set(t, (m.get(t) ?? 0) + v * step);
        return m;
      };
      const errors = sum(`${s.id}|e`);
      const totals = sum(`${s.id}|t`);
      const history = [];
      for (let t = start; t <= end; t += step) {
        const total = totals.get(t);
        history.push({
          t,
          total: total ?? Number.NaN,
          errors: errors.get(t) ?? (total !== undefined ? 0 : Number.NaN),
        });
      }
      byId.set(
        s.id,
        timeToExhaustion({
          target: s.target,
          periodSeconds: s.periodSeconds,
          stepSeconds: step,
          history,
          now: end,
        }),
      );
    }
  }
  return { byId, requests };
}

function alertLabels(slo: SloSpec, severity: "page" | "ticket"): Record<string, string> {
  const a = slo.alerting;
  const e = slo.enforcement;
  const labels: Record<string, string> = {
    ...a.labels,
    ...(severity === "page" ? a.page.labels : a.ticket.labels),
    alertname: a.name,
    sloth_id: slo.id,
    sloth_service: slo.service,
    sloth_slo: slo.name,
    sloth_severity: severity,
  };
  labels.severity ??= severity === "page" ? "critical" : "warning";
  if (e?.targetRef) {
    labels.namespace = e.targetRef.namespace;
    labels[e.targetRef.kind === "Deployment" ? "deployment" : "statefulset"] = e.targetRef.name;
  }
  if (e) {
    labels.prophet_slo_actions = e.actions.join(",");
    if (e.hpaRef) {
      labels.prophet_slo_hpa = e.hpaRef.name;
      labels.prophet_slo_hpa_namespace = e.hpaRef.namespace;
      labels.prophet_slo_hpa_step = String(e.hpaRef.step);
      if (e.hpaRef.maxReplicas !== undefined) labels.prophet_slo_hpa_max = String(e.hpaRef.maxReplicas);
    }
  }
  return labels;
}

const pct = (v: number | null) => (v === null ? "unknown" : `${(v * 100).toFixed(1)}%`);
const times = (v: number | null) => (v === null ? "?" : `${v.toFixed(1)}×`);

function alertData(
  slo: SloSpec,
  ev: SloEvaluation,
  raised: RaisedAlert,
  status: "firing" | "resolved",
  now: Date,
): AlertEventData {
  const a = slo.alerting;
  const sev = raised.labels.sloth_severity as "page" | "ticket";
  const tier =
    ev.tiers.find((t) => t.severity === sev && t.firing) ?? ev.tiers.find((t) => t.severity === sev)!;
  const e = slo.enforcement?.targetRef;
  return raisedAlertData({
    fingerprint: raised.fingerprint,
    status,
    alertname: raised.alertname,
    labels: raised.labels,
    annotations: {
      title: `(${sev}) ${slo.service} ${slo.name} SLO error budget burn rate is too fast.`,
      summary: `${slo.service}/${slo.name} burns its error budget ${times(tier.long.burnRate)} over ${tier.long.window} and ${times(tier.short.burnRate)} over ${tier.short.window} (limit ${tier.factor.toFixed(1)}×); ${pct(ev.budgetRemaining)} of the budget left`,
      ...a.annotations,
      ...(sev === "page" ? a.page.annotations : a.ticket.annotations),
    },
    startsAt: raised.startsAt,
    endsAt: now.toISOString(),
    target: e ? { namespace: e.namespace, kind: e.kind, name: e.name } : {},
    receiver: "slo-check",
    groupKey: `slo:${slo.id}`,
  });
}

/** The alert as the Alertmanager edge would deliver it (same id and subject). */
function alertEvent(
  ctx: CheckContext,
  data: AlertEventData,
  cluster: string | undefined,
): ProphetEvent<AlertEventData> {
  return raisedAlertEvent(ctx.source, data, cluster);
}

function windowData(w: WindowResult) {
  return {
    window: w.window,
    errorRatio: w.errorRatio,
    burnRate: w.burnRate,
    events: w.events,
    lowTraffic: w.lowTraffic,
  };
}

export function exhaustionData(x: Exhaustion | undefined, now: Date): SloEvaluatedData["timeToExhaustion"] {
  if (!x) return null;
  return {
    status: x.status,
    at: x.seconds !== undefined ? new Date(now.getTime() + x.seconds * 1000).toISOString() : null,
    seconds: x.seconds ?? null,
    earliestSeconds: x.earliest ?? null,
    latestSeconds: x.latest ?? null,
    method: x.method,
  };
}

/** Whether a remediation is under way (proposed, approved, executing, executed) for the alerts. */
async function remediating(tx: Sql, cluster: string, alerts: RaisedAlert[]): Promise<boolean> {
  if (alerts.length === 0) return false;
  const ids = alerts.map((a) => incidentId(cluster, a.fingerprint, a.startsAt));
  const r = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM remediations WHERE incident_id = ANY($1::text[])
       AND status IN ('proposed', 'approved', 'executing', 'executed', 'dry_run')`,
    [ids],
  );
  return Number(r.rows[0]?.n ?? 0) > 0;
}

/** Freeze targets of an SLO: its namespaces (default: the target's) and Argo CD Applications. */
function freezeTargets(slo: SloSpec): Freeze[] {
  const e = slo.enforcement;
  if (!e || !e.actions.includes("freeze")) return [];
  const namespaces = e.freeze.namespaces.length
    ? e.freeze.namespaces
    : e.targetRef
      ? [e.targetRef.namespace]
      : [];
  return [
    ...namespaces.map((n): Freeze => ({ kind: "Namespace", namespace: "", name: n })),
    ...e.freeze.argoApplications.map((a): Freeze => ({
      kind: "Application",
      namespace: a.namespace,
      name: a.name,
    })),
  ];
}

function annotationKey(sloId: string): string {
  // An annotation name is at most 63 characters of [-A-Za-z0-9_.], alphanumeric at both ends.
  const name = sloId
    .replace(/[^-A-Za-z0-9_.]/g, "-")
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
  return `${FREEZE_ANNOTATION_PREFIX}${name || "slo"}`;
}

async function setFreeze(
  ctx: CheckContext,
  cluster: string,
  slo: Pick<SloSpec, "id">,
  f: Freeze,
  value: string | null,
): Promise<string | undefined> {
  const kube = ctx.deps.kube;
  if (!kube?.patch) return `cluster ${kube?.name ?? "(none)"} cannot be written`;
  try {
    await kube.patch(
      f.kind,
      f.namespace || undefined,
      f.name,
      { metadata: { annotations: { [annotationKey(slo.id)]: value } } },
      { type: "merge" },
    );
  } catch (err) {
    return (err as Error).message;
  }
  await appendAudit(ctx.deps.store, {
    at: ctx.deps.clock.now(),
    cluster,
    actor: ctx.actor,
    action: value === null ? "slo.unfreeze" : "slo.freeze",
    subject: `${f.kind}/${f.namespace ? `${f.namespace}/` : ""}${f.name}`,
    details: { sloId: slo.id, annotation: annotationKey(slo.id), value },
  });
  return undefined;
}

async function writeStatus(
  ctx: CheckContext,
  slo: SloSpec,
  state: SloState,
  ev: SloEvaluation,
  tte: SloEvaluatedData["timeToExhaustion"],
  problems: string[],
): Promise<void> {
  const o = slo.source.object;
  const kube = ctx.deps.kube;
  if (!o || o.kind !== "SLOViolation" || !kube?.patch) return;
  const status = {
    phase: state.phase,
    errorBudgetRemaining: ev.budgetRemaining,
    burnRate: ev.currentBurnRate,
    timeToExhaustion: tte?.at ?? null,
    timeToExhaustionSeconds: tte?.seconds ?? null,
    lastViolated: state.lastViolated?.toISOString() ?? null,
    violationCount: state.violationCount,
    lastEvaluated: ev.at,
    activeTiers: ev.tiers.filter((t) => t.firing).map((t) => t.name),
    message:
      problems.length > 0
        ? `evaluation incomplete: ${problems.join("; ")}`
        : `${pct(ev.budgetRemaining)} of the error budget left; burn ${times(ev.currentBurnRate)} (5m), ${times(ev.periodBurnRate)} (period)`,
  };
  await kube
    .patch("SLOViolation", o.namespace, o.name, { status }, { type: "merge", subresource: "status" })
    .catch((err: unknown) =>
      ctx.deps.log.warn({ slo: slo.id, err: (err as Error).message }, "SLOViolation status not written"),
    );
}

/** At most one experiment a day, only with a healthy budget and nothing firing. */
const chaosEveryMs = 24 * 3600_000;

function chaosDue(slo: SloSpec, s: SloState, ev: SloEvaluation, now: Date): boolean {
  const e = slo.enforcement;
  if (!e?.enableChaos || !e.targetRef || ev.problems.length > 0 || ev.firing !== null) return false;
  if (ev.budgetRemaining === null || ev.budgetRemaining <= Math.max(0.5, (2 * e.errorBudgetThreshold) / 100))
    return false;
  return !s.chaosAt || now.getTime() - s.chaosAt.getTime() >= chaosEveryMs;
}

/**
 * `enableChaos`: while the budget is healthy, spend a little of it on purpose — a Chaos Mesh
 * PodChaos that kills one pod of the target, so resilience is tested when it is affordable.
 * Without Chaos Mesh (the CRD is not served) nothing happens and the log says so.
 */
async function triggerChaos(ctx: CheckContext, cluster: string, slo: SloSpec, now: Date): Promise<boolean> {
  const kube = ctx.deps.kube;
  const ref = slo.enforcement!.targetRef!;
  if (!kube?.create) return false;
  const workload = await kube.get(ref.kind, ref.namespace, ref.name).catch(() => undefined);
  const matchLabels = (workload?.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)
    ?.selector?.matchLabels;
  if (!matchLabels) return false;
  const stamp = now.toISOString().slice(0, 16).replace(/[-:T]/g, "");
  const name =
    `prophet-${slo.id}`
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, "-")
      .slice(0, 40) + `-${stamp}`;
  const obj: KubeObject = {
    apiVersion: "chaos-mesh.org/v1alpha1",
    kind: "PodChaos",
    metadata: {
      name,
      namespace: ref.namespace,
      labels: {
        "app.kubernetes.io/managed-by": "prophet",
        "aiops.prophet.io/slo": annotationKey(slo.id).split("/")[1]!,
      },
    },
    spec: {
      action: "pod-kill",
      mode: "one",
      selector: { namespaces: [ref.namespace], labelSelectors: matchLabels },
    },
  };
  try {
    await kube.create("PodChaos", ref.namespace, obj);
  } catch (err) {
    ctx.deps.log.info(
      { slo: slo.id, reason: (err as Error).message },
      "enableChaos: no experiment (is Chaos Mesh installed?)",
    );
    return false;
  }
  await appendAudit(ctx.deps.store, {
    at: now,
    cluster,
    actor: ctx.actor,
    action: "slo.chaos",
    subject: `${ref.kind}/${ref.namespace}/${ref.name}`,
    details: { sloId: slo.id, podChaos: `${ref.namespace}/${name}`, action: "pod-kill", mode: "one" },
  });
  return true;
}

/** Status Invalid for cluster objects that did not parse. */
async function writeInvalid(ctx: CheckContext, errors: SloSpecError[]): Promise<void> {
  const kube = ctx.deps.kube;
  if (!kube?.patch) return;
  const byOrigin = new Map<string, string[]>();
  for (const e of errors)
    byOrigin.set(e.origin, [...(byOrigin.get(e.origin) ?? []), `${e.path}: ${e.reason}`]);
  for (const [origin, reasons] of byOrigin) {
    const [namespace, name, ...rest] = origin.split("/");
    if (!namespace || !name || rest.length) continue;
    await kube
      .patch(
        "SLOViolation",
        namespace,
        name,
        { status: { phase: "Invalid", message: reasons.join("; ").slice(0, 1000) } },
        { type: "merge", subresource: "status" },
      )
      .catch(() => undefined); // not an SLOViolation (e.g. a PrometheusServiceLevel): logged below
  }
}

/** The whole invocation; `tick` is the cause of every event emitted. */
export async function checkSlos(
  ctx: CheckContext,
  tick: ProphetEvent,
  settings: SloSettings = {},
): Promise<CheckReport> {
  const { deps } = ctx;
  const cluster = tick.cluster ?? deps.cluster;
  const now = deps.clock.now();
  const loaded = await loadSlos(deps, settings);
  if (loaded.errors.length > 0) {
    deps.log.warn(
      { errors: loaded.errors.slice(0, 20), count: loaded.errors.length },
      "invalid SLO specs ignored",
    );
    await writeInvalid(ctx, loaded.errors);
  }
  const report: CheckReport = { events: [], evaluated: 0, invalid: loaded.errors, requests: 0 };
  if (loaded.slos.length === 0) {
    await retireGone(ctx, cluster, loaded, tick, now, report);
    return report;
  }
  if (!deps.metrics) {
    deps.log.warn(
      { slos: loaded.slos.length },
      "no metrics API configured (PROMETHEUS_URL): SLOs not evaluated",
    );
    return report;
  }
  // Windows end at the metrics server's now: its data, not our clock, decides what "now" is.
  const at = await serverNow(deps.metrics, now);
  report.requests++;
  const sinceChange = new Map<string, number>();
  const replicaSets = new Map<string, Promise<KubeObject[]>>();
  for (const slo of loaded.slos) {
    const age = await rolloutAge(deps, slo, at, replicaSets);
    if (age !== undefined) sinceChange.set(slo.id, age);
  }
  const { results, requests } = await evaluateSlos(deps.metrics, loaded.slos, at, { sinceChange });
  report.requests += requests;
  const tte =
    settings.exhaustion === false
      ? { byId: new Map<string, Exhaustion>(), requests: 0 }
      : await exhaustionFor(deps.metrics, loaded.slos, results, at);
  report.requests += tte.requests;

  for (const slo of loaded.slos) {
    const ev = results.get(slo.id);
    if (!ev) continue;
    report.evaluated++;
    const tteData = exhaustionData(tte.byId.get(slo.id), at);
    const out = await oneSlo(ctx, cluster, slo, ev, tteData, tick, now, sinceChange.get(slo.id));
    report.events.push(...out);
  }
  await retireGone(ctx, cluster, loaded, tick, now, report);
  return report;
}

/**
 * SLOs that are gone (object deleted, file removed) leave nothing behind: their alerts resolve,
 * their freezes lift, their state goes. Not while any spec fails to load: a typo must not lift a
 * freeze or close an incident.
 */
async function retireGone(
  ctx: CheckContext,
  cluster: string,
  loaded: SloLoadResult,
  tick: ProphetEvent,
  now: Date,
  report: CheckReport,
): Promise<void> {
  if (loaded.errors.length > 0) return;
  const live = new Set(loaded.slos.map((s) => s.id));
  for (const s of await listSloStates(ctx.deps.store, cluster))
    if (!live.has(s.sloId)) report.events.push(...(await retireSlo(ctx, cluster, s, tick, now)));
}

async function retireSlo(
  ctx: CheckContext,
  cluster: string,
  s: SloState,
  tick: ProphetEvent,
  now: Date,
): Promise<ProphetEvent[]> {
  const out: ProphetEvent[] = [];
  for (const raised of Object.values(s.firing)) {
    const data: AlertEventData = {
      fingerprint: raised.fingerprint,
      status: "resolved",
      alertname: raised.alertname,
      severity: raised.labels.severity ?? "none",
      labels: raised.labels,
      annotations: { summary: `SLO ${s.sloId} was removed; its burn alert is resolved` },
      startsAt: raised.startsAt,
      endsAt: now.toISOString(),
      generatorURL: "",
      target: raised.labels.namespace
        ? {
            namespace: raised.labels.namespace,
            ...(raised.labels.deployment ? { kind: "Deployment", name: raised.labels.deployment } : {}),
          }
        : {},
      receiver: "slo-check",
      groupKey: `slo:${s.sloId}`,
      externalURL: "",
    };
    out.push(alertEvent(ctx, data, tick.cluster));
  }
  for (const f of s.frozen) {
    const err = await setFreeze(ctx, cluster, { id: s.sloId }, f, null);
    if (err) ctx.deps.log.warn({ slo: s.sloId, target: f, err }, "unfreeze of a removed SLO failed");
  }
  await ctx.deps.store.query(`DELETE FROM slo_state WHERE cluster = $1 AND slo_id = $2`, [cluster, s.sloId]);
  await appendAudit(ctx.deps.store, {
    at: now,
    cluster,
    actor: ctx.actor,
    action: "slo.removed",
    subject: s.sloId,
    details: { resolvedAlerts: Object.keys(s.firing), unfrozen: s.frozen },
  });
  return out;
}

async function oneSlo(
  ctx: CheckContext,
  cluster: string,
  slo: SloSpec,
  ev: SloEvaluation,
  tte: SloEvaluatedData["timeToExhaustion"],
  tick: ProphetEvent,
  now: Date,
  rolloutSeconds: number | undefined,
): Promise<ProphetEvent[]> {
  const { deps } = ctx;
  const target = slo.enforcement?.targetRef;
  const out: ProphetEvent[] = [];
  const freezes: { f: Freeze; on: boolean }[] = [];
  const state = await deps.store.transaction(async (tx) => {
    const s = await lockSloState(tx, cluster, slo.id);
    const wasViolated = Object.keys(s.firing).length > 0;
    // Alerts: one per severity, raised when its tiers start firing, resolved when they stop.
    // An incomplete evaluation (refused queries) changes nothing.
    const alerting = !slo.alerting.disabled && ev.problems.length === 0;
    for (const sev of ["page", "ticket"] as const) {
      const firing = ev.tiers.some((t) => t.severity === sev && t.firing);
      const raised = s.firing[sev];
      const disabled = sev === "page" ? slo.alerting.page.disabled : slo.alerting.ticket.disabled;
      if (firing && !raised && alerting && !disabled) {
        const labels = alertLabels(slo, sev);
        const alert: RaisedAlert = {
          alertname: slo.alerting.name,
          fingerprint: fingerprint(labels),
          startsAt: now.toISOString(),
          labels,
        };
        s.firing[sev] = alert;
        out.push(alertEvent(ctx, alertData(slo, ev, alert, "firing", now), tick.cluster));
        const data: SloViolatedData = {
          ...ref(slo),
          at: now.toISOString(),
          severity: sev,
          tiers: ev.tiers
            .filter((t) => t.severity === sev && t.firing)
            .map((t) => ({
              name: t.name,
              factor: t.factor,
              long: windowData(t.long),
              short: windowData(t.short),
            })),
          budgetRemaining: ev.budgetRemaining,
          violationCount: s.violationCount + (wasViolated ? 0 : 1),
          alert: { alertname: alert.alertname, fingerprint: alert.fingerprint },
          rollout:
            target && rolloutSeconds !== undefined
              ? {
                  kind: target.kind,
                  namespace: target.namespace,
                  name: target.name,
                  secondsBefore: rolloutSeconds,
                }
              : null,
        };
        out.push(
          makeEvent(SloViolated, data, {
            cause: tick,
            source: ctx.source,
            subject: slo.id,
            time: now,
            key: `${slo.id}:${sev}:${alert.startsAt}`,
          }),
        );
      } else if (!firing && raised && ev.problems.length === 0) {
        delete s.firing[sev];
        out.push(alertEvent(ctx, alertData(slo, ev, raised, "resolved", now), tick.cluster));
      }
    }
    const isViolated = Object.keys(s.firing).length > 0;
    if (isViolated && !wasViolated) {
      s.violationCount++;
      s.lastViolated = now;
    }
    let phase: SloPhase;
    if (isViolated)
      phase = (await remediating(tx, cluster, Object.values(s.firing))) ? "Remediating" : "Violated";
    else if (wasViolated) phase = "Resolved";
    else if (
      s.phase === "Resolved" &&
      s.resolvedAt &&
      now.getTime() - s.resolvedAt.getTime() < resolvedHoldMs
    )
      phase = "Resolved";
    else phase = "Monitoring";
    if (phase === "Resolved" && s.phase !== "Resolved") s.resolvedAt = now;
    s.phase = phase;
    // Deploy freeze while the budget is spent; lifted once it is back above the threshold
    // (hysteresis: a budget hovering around zero does not flap the freeze).
    const targets = freezeTargets(slo);
    const threshold = (slo.enforcement?.errorBudgetThreshold ?? 0) / 100;
    if (targets.length > 0 && ev.budgetRemaining !== null && ev.problems.length === 0) {
      if (ev.budgetRemaining <= 0 && s.frozen.length === 0)
        for (const f of targets) freezes.push({ f, on: true });
      else if (ev.budgetRemaining > threshold && s.frozen.length > 0)
        for (const f of s.frozen) freezes.push({ f, on: false });
    } else if (targets.length === 0 && s.frozen.length > 0) {
      for (const f of s.frozen) freezes.push({ f, on: false }); // freeze removed from the spec
    }
    s.evaluation = { ...ev, service: slo.service, slo: slo.name, timeToExhaustion: tte };
    s.evaluatedAt = now;
    await saveSloState(tx, s);
    return s;
  });

  if (freezes.length > 0) {
    const value = `error budget of SLO ${slo.id} exhausted (${pct(ev.budgetRemaining)} left) at ${now.toISOString()}`;
    const done: Freeze[] = [];
    for (const { f, on } of freezes) {
      const err = await setFreeze(ctx, cluster, slo, f, on ? value : null);
      if (err)
        deps.log.warn({ slo: slo.id, target: f, err }, on ? "deploy freeze failed" : "unfreeze failed");
      else if (on) done.push(f);
    }
    await deps.store.transaction(async (tx) => {
      const s = await lockSloState(tx, cluster, slo.id);
      s.frozen = freezes[0]!.on ? done : [];
      await saveSloState(tx, s);
      state.frozen = s.frozen;
    });
  }

  if (chaosDue(slo, state, ev, now)) {
    const made = await triggerChaos(ctx, cluster, slo, now);
    if (made)
      await deps.store.transaction(async (tx) => {
        const s = await lockSloState(tx, cluster, slo.id);
        s.chaosAt = now;
        await saveSloState(tx, s);
        state.chaosAt = now;
      });
  }

  await writeStatus(ctx, slo, state, ev, tte, ev.problems);
  const data: SloEvaluatedData = {
    ...ref(slo),
    at: ev.at,
    phase: state.phase,
    budgetRemaining: ev.budgetRemaining,
    currentBurnRate: ev.currentBurnRate,
    periodBurnRate: ev.periodBurnRate,
    windows: [...ev.windows, ev.period].map(windowData),
    firingTiers: ev.tiers.filter((t) => t.firing).map((t) => t.name),
    firing: ev.firing,
    timeToExhaustion: tte,
    problems: ev.problems,
  };
  out.unshift(
    makeEvent(SloEvaluated, data, {
      cause: tick,
      source: ctx.source,
      subject: slo.id,
      time: now,
      key: slo.id,
    }),
  );
  return out;
}

function ref(slo: SloSpec) {
  return {
    sloId: slo.id,
    service: slo.service,
    slo: slo.name,
    origin: slo.source.origin,
    format: slo.source.format,
    target: slo.target,
    periodSeconds: slo.periodSeconds,
  };
}
