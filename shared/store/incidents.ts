// Incidents: one per group of related alerts. An alert instance (cluster, fingerprint, startsAt)
// is a member of exactly one incident (incident_alerts, migration 8). A firing alert joins the
// open incident of its group (same group key, starting within the grouping window of a member)
// or opens a new one, whose id comes from that first alert, so a lone alert keeps the id,
// events and row it always had. Repeated notifications update the incident; the incident
// resolves when its last firing member does. Why this key and window: docs/decisions/0009.
import { deriveEventId } from "../events/envelope.js";
import type { AlertEventData } from "../events/schemas/alert.js";
import type { Sql } from "../ports/store.js";

export interface Incident {
  id: string;
  cluster: string;
  fingerprint: string;
  startsAt: Date;
  alertname: string;
  severity: string;
  status: "firing" | "resolved";
  subject: string;
  summary: string;
  namespace: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  target: AlertEventData["target"];
  notifications: number;
  openedAt: Date;
  lastSeenAt: Date;
  resolvedAt: Date | null;
  /** What grouped the alerts (null on incidents recorded before grouping existed). */
  groupKey: string | null;
  /** How many alert instances the incident holds (the first one included). */
  alerts: number;
  /** The distinct alertnames of its alerts, sorted. */
  alertnames: string[];
}

interface DbIncident {
  id: string;
  cluster: string;
  fingerprint: string;
  starts_at: Date | string;
  alertname: string;
  severity: string;
  status: "firing" | "resolved";
  subject: string;
  summary: string;
  namespace: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  target: AlertEventData["target"];
  notifications: number;
  opened_at: Date | string;
  last_seen_at: Date | string;
  resolved_at: Date | string | null;
  group_key: string | null;
  alerts: number | string;
  alertnames: string[] | null;
}

function fromDb(r: DbIncident): Incident {
  return {
    id: r.id,
    cluster: r.cluster,
    fingerprint: r.fingerprint,
    startsAt: new Date(r.starts_at),
    alertname: r.alertname,
    severity: r.severity,
    status: r.status,
    subject: r.subject,
    summary: r.summary,
    namespace: r.namespace,
    labels: r.labels,
    annotations: r.annotations,
    target: r.target,
    notifications: Number(r.notifications),
    openedAt: new Date(r.opened_at),
    lastSeenAt: new Date(r.last_seen_at),
    resolvedAt: r.resolved_at ? new Date(r.resolved_at) : null,
    groupKey: r.group_key,
    alerts: Number(r.alerts),
    alertnames: r.alertnames ?? [],
  };
}

/** An incident row with its member count and alertnames. */
const selectIncident = `SELECT i.*,
  (SELECT count(*) FROM incident_alerts a WHERE a.incident_id = i.id) AS alerts,
  (SELECT coalesce(jsonb_agg(d.alertname ORDER BY d.alertname), '[]'::jsonb)
     FROM (SELECT DISTINCT a.alertname FROM incident_alerts a WHERE a.incident_id = i.id) d) AS alertnames
  FROM incidents i`;

export function incidentId(cluster: string, fingerprint: string, startsAt: string): string {
  return `inc-${deriveEventId(cluster, fingerprint, new Date(startsAt).toISOString()).slice(0, 16)}`;
}

export function incidentSummary(alert: AlertEventData): string {
  return (
    alert.annotations.summary ?? alert.annotations.description ?? alert.annotations.message ?? alert.alertname
  );
}

// ---- grouping ---------------------------------------------------------------------------------

/**
 * A member alert joins an open incident when it starts within this long of any member's start:
 * a rollout's pods start crash-looping over a few minutes, and the workload-level alerts
 * (replicas mismatch, SLO burn) follow within their `for:`; an alert starting later than that on
 * a still-open incident is a new problem that deserves its own diagnosis.
 */
export const groupingWindowMs = 10 * 60_000;
const windowInterval = `${groupingWindowMs / 1000} seconds`;

/** Workload labels kube-state-metrics and Prophet's own alerts put on an alert, most specific first. */
const workloadLabels = ["deployment", "statefulset", "daemonset", "job_name", "cronjob"] as const;
/** Objects that are not workloads but still name what an alert is about. */
const objectLabels = ["persistentvolumeclaim", "horizontalpodautoscaler"] as const;

// Kubernetes' generated name suffixes use this alphabet (k8s.io/apimachinery rand.String and the
// pod-template-hash), with no vowels: a word of a real name is very unlikely to match.
const podSuffix = /^(.+)-[bcdfghjklmnpqrstvwxz2456789]{5}$/;
const templateHash = /^(.+)-[bcdfghjklmnpqrstvwxz2456789]{6,10}$/;
const ordinal = /^(.+)-\d+$/;

/**
 * The workload a pod belongs to, from its name: `cart-7d4b9c-x2x9z` (Deployment) → `cart`,
 * `fluentd-x2x9z` (DaemonSet, Job) → `fluentd`, `db-0` (StatefulSet) → `db`.
 */
export function podWorkload(pod: string): string {
  const generated = podSuffix.exec(pod);
  if (generated) return templateHash.exec(generated[1]!)?.[1] ?? generated[1]!;
  return ordinal.exec(pod)?.[1] ?? pod;
}

/**
 * What an alert is about, as a group key: Alertmanager's group_by, workload-aware. Cluster and
 * namespace, then the first of: the owning workload (workload labels, or the pod's name without
 * its generated suffixes), the SLO (sloth_id / prophet_slo_id), the node, the PVC or HPA, a
 * Service that is not the scrape job's own, the namespace alone, the scraped instance. An alert
 * naming none of these groups with nothing (its fingerprint is the key).
 */
export function alertGroupKey(
  cluster: string,
  alert: Pick<AlertEventData, "labels" | "fingerprint">,
): string {
  const l = alert.labels;
  const ns = l.namespace ?? "";
  const scoped = (what: string) => `${cluster}|${ns}|${what}`;
  for (const label of workloadLabels) if (l[label]) return scoped(`workload=${l[label]}`);
  if (l.pod) return scoped(`workload=${podWorkload(l.pod)}`);
  const slo = l.sloth_id ?? l.prophet_slo_id;
  if (slo) return scoped(`slo=${slo}`);
  // Nodes are cluster-scoped: a node alert's namespace is the exporter's, not the node's.
  if (l.node) return `${cluster}||node=${l.node}`;
  for (const label of objectLabels) if (l[label]) return scoped(`${label}=${l[label]}`);
  // kube-prometheus stamps `service` with the scraped exporter's Service (= the job): not a subject.
  if (l.service && l.service !== l.job) return scoped(`service=${l.service}`);
  if (ns) return scoped("namespace");
  if (l.instance) return `${cluster}||instance=${l.instance}`;
  return `${cluster}||alert=${alert.fingerprint}`;
}

/** Advisory-lock class of group keys (two-key form: a space apart from single-key locks). */
const groupLockClass = 7_240_008;

// ---- recording --------------------------------------------------------------------------------

/**
 * What an alert changed: `opened`/`resolved` are the incident's (announced downstream);
 * `grouped` is a new member alert of an open incident and `member_resolved` a member's resolution
 * while others still fire (both recorded, not announced).
 */
export type IncidentChange =
  "opened" | "renotified" | "resolved" | "already_resolved" | "grouped" | "member_resolved";

interface DbMember {
  incident_id: string;
  status: "firing" | "resolved";
}

async function load(tx: Sql, id: string): Promise<Incident> {
  const { rows } = await tx.query<DbIncident>(`${selectIncident} WHERE i.id = $1`, [id]);
  if (!rows[0]) throw new Error(`incident ${id} vanished inside its own transaction`);
  return fromDb(rows[0]);
}

async function addMember(
  tx: Sql,
  incident: string,
  cluster: string,
  alert: AlertEventData,
  resolvedAt: string | null,
  now: Date,
): Promise<void> {
  await tx.query(
    `INSERT INTO incident_alerts (incident_id, cluster, fingerprint, starts_at, alertname, severity, labels,
       status, resolved_at, added_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7::jsonb,$8,$9,$10)`,
    [
      incident,
      cluster,
      alert.fingerprint,
      alert.startsAt,
      alert.alertname,
      alert.severity,
      JSON.stringify(alert.labels),
      alert.status,
      resolvedAt,
      now,
    ],
  );
}

/** Records a firing or resolved alert; returns the incident and what changed. */
export async function recordAlert(
  tx: Sql,
  cluster: string,
  alert: AlertEventData,
  subject: string,
  now: Date,
): Promise<{ incident: Incident; change: IncidentChange }> {
  const groupKey = alertGroupKey(cluster, alert);
  // Alerts of one group are recorded one at a time, so two delivered together cannot both open.
  await tx.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [groupLockClass, groupKey]);
  const resolvedAt = alert.status === "resolved" ? (alert.endsAt ?? now.toISOString()) : null;
  const seen = await tx.query<DbMember>(
    `SELECT incident_id, status FROM incident_alerts WHERE cluster = $1 AND fingerprint = $2 AND starts_at = $3`,
    [cluster, alert.fingerprint, alert.startsAt],
  );
  const member = seen.rows[0];
  if (member) return recordKnownAlert(tx, member, alert, resolvedAt, now);

  const open = await tx.query<{ id: string }>(
    `SELECT i.id FROM incidents i
      WHERE i.cluster = $1 AND i.group_key = $2 AND i.status = 'firing'
        AND EXISTS (SELECT 1 FROM incident_alerts a WHERE a.incident_id = i.id
                     AND a.starts_at BETWEEN $3::timestamptz - interval '${windowInterval}'
                                         AND $3::timestamptz + interval '${windowInterval}')
      ORDER BY i.opened_at, i.id LIMIT 1 FOR UPDATE`,
    [cluster, groupKey, alert.startsAt],
  );
  const joined = open.rows[0];
  if (joined) {
    await addMember(tx, joined.id, cluster, alert, resolvedAt, now);
    await tx.query("UPDATE incidents SET last_seen_at = $2 WHERE id = $1", [joined.id, now]);
    return { incident: await load(tx, joined.id), change: "grouped" };
  }

  const id = incidentId(cluster, alert.fingerprint, alert.startsAt);
  await tx.query(
    `INSERT INTO incidents (id, cluster, fingerprint, starts_at, alertname, severity, status, subject, summary,
       namespace, labels, annotations, target, opened_at, last_seen_at, resolved_at, group_key)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11::jsonb,$12::jsonb,$13::jsonb,$14,$14,$15,$16)`,
    [
      id,
      cluster,
      alert.fingerprint,
      alert.startsAt,
      alert.alertname,
      alert.severity,
      alert.status,
      subject,
      incidentSummary(alert),
      alert.target.namespace ?? null,
      JSON.stringify(alert.labels),
      JSON.stringify(alert.annotations),
      JSON.stringify(alert.target),
      now,
      resolvedAt,
      groupKey,
    ],
  );
  await addMember(tx, id, cluster, alert, resolvedAt, now);
  return { incident: await load(tx, id), change: alert.status === "firing" ? "opened" : "resolved" };
}

/** A repeat notification or the resolution of an alert the incident already holds. */
async function recordKnownAlert(
  tx: Sql,
  member: DbMember,
  alert: AlertEventData,
  resolvedAt: string | null,
  now: Date,
): Promise<{ incident: Incident; change: IncidentChange }> {
  const id = member.incident_id;
  const incident = await tx.query<{ status: "firing" | "resolved" }>(
    "SELECT status FROM incidents WHERE id = $1 FOR UPDATE",
    [id],
  );
  if (alert.status === "firing") {
    await tx.query(
      "UPDATE incidents SET notifications = notifications + 1, last_seen_at = $2 WHERE id = $1",
      [id, now],
    );
    return { incident: await load(tx, id), change: "renotified" };
  }
  if (member.status === "resolved" || incident.rows[0]?.status === "resolved")
    return { incident: await load(tx, id), change: "already_resolved" };
  await tx.query(
    `UPDATE incident_alerts SET status = 'resolved', resolved_at = $4
      WHERE incident_id = $1 AND fingerprint = $2 AND starts_at = $3`,
    [id, alert.fingerprint, alert.startsAt, resolvedAt],
  );
  const firing = await tx.query<{ n: number | string }>(
    "SELECT count(*) AS n FROM incident_alerts WHERE incident_id = $1 AND status = 'firing'",
    [id],
  );
  if (Number(firing.rows[0]?.n ?? 0) > 0) {
    await tx.query("UPDATE incidents SET last_seen_at = $2 WHERE id = $1", [id, now]);
    return { incident: await load(tx, id), change: "member_resolved" };
  }
  // The incident ends when its last alert does (the latest end, whatever order they came in).
  await tx.query(
    `UPDATE incidents SET status = 'resolved', last_seen_at = $2,
       resolved_at = (SELECT max(resolved_at) FROM incident_alerts WHERE incident_id = $1)
     WHERE id = $1`,
    [id, now],
  );
  return { incident: await load(tx, id), change: "resolved" };
}

export async function listIncidents(
  db: Sql,
  opts: { status?: "firing" | "resolved"; limit?: number } = {},
): Promise<Incident[]> {
  const params: unknown[] = [opts.limit ?? 100];
  let where = "";
  if (opts.status) {
    params.push(opts.status);
    where = "WHERE i.status = $2";
  }
  const { rows } = await db.query<DbIncident>(
    `${selectIncident} ${where} ORDER BY i.opened_at DESC, i.id LIMIT $1`,
    params,
  );
  return rows.map(fromDb);
}

export async function getIncident(db: Sql, id: string): Promise<Incident | undefined> {
  const { rows } = await db.query<DbIncident>(`${selectIncident} WHERE i.id = $1`, [id]);
  return rows[0] ? fromDb(rows[0]) : undefined;
}

/** The alerts an incident holds, oldest first. */
export interface IncidentAlert {
  fingerprint: string;
  startsAt: Date;
  alertname: string;
  severity: string;
  labels: Record<string, string>;
  status: "firing" | "resolved";
  resolvedAt: Date | null;
}

export async function listIncidentAlerts(db: Sql, incidentId: string): Promise<IncidentAlert[]> {
  const { rows } = await db.query<{
    fingerprint: string;
    starts_at: Date | string;
    alertname: string;
    severity: string;
    labels: Record<string, string>;
    status: "firing" | "resolved";
    resolved_at: Date | string | null;
  }>(
    `SELECT fingerprint, starts_at, alertname, severity, labels, status, resolved_at FROM incident_alerts
      WHERE incident_id = $1 ORDER BY starts_at, fingerprint`,
    [incidentId],
  );
  return rows.map((r) => ({
    fingerprint: r.fingerprint,
    startsAt: new Date(r.starts_at),
    alertname: r.alertname,
    severity: r.severity,
    labels: r.labels,
    status: r.status,
    resolvedAt: r.resolved_at ? new Date(r.resolved_at) : null,
  }));
}
