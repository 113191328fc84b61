// Incidents: one per alert instance (cluster, fingerprint, startsAt). Repeated notifications of a
// firing alert update the same row; its resolution closes it.
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
  };
}

export function incidentId(cluster: string, fingerprint: string, startsAt: string): string {
  return `inc-${deriveEventId(cluster, fingerprint, new Date(startsAt).toISOString()).slice(0, 16)}`;
}

export function incidentSummary(alert: AlertEventData): string {
  return (
    alert.annotations.summary ?? alert.annotations.description ?? alert.annotations.message ?? alert.alertname
  );
}

export type IncidentChange = "opened" | "renotified" | "resolved" | "already_resolved";

/** Records a firing or resolved alert; returns the incident and what changed. */
export async function recordAlert(
  tx: Sql,
  cluster: string,
  alert: AlertEventData,
  subject: string,
  now: Date,
): Promise<{ incident: Incident; change: IncidentChange }> {
  const id = incidentId(cluster, alert.fingerprint, alert.startsAt);
  const existing = await tx.query<DbIncident>("SELECT * FROM incidents WHERE id = $1 FOR UPDATE", [id]);
  const prev = existing.rows[0];
  const resolvedAt = alert.status === "resolved" ? (alert.endsAt ?? now.toISOString()) : null;
  if (!prev) {
    const res = await tx.query<DbIncident>(
      `INSERT INTO incidents (id, cluster, fingerprint, starts_at, alertname, severity, status, subject, summary,
         namespace, labels, annotations, target, opened_at, last_seen_at, resolved_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11::jsonb,$12::jsonb,$13::jsonb,$14,$14,$15) RETURNING *`,
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
      ],
    );
    return {
      incident: fromDb(res.rows[0] as DbIncident),
      change: alert.status === "firing" ? "opened" : "resolved",
    };
  }
  if (alert.status === "firing") {
    const res = await tx.query<DbIncident>(
      `UPDATE incidents SET notifications = notifications + 1, last_seen_at = $2 WHERE id = $1 RETURNING *`,
      [id, now],
    );
    return { incident: fromDb(res.rows[0] as DbIncident), change: "renotified" };
  }
  if (prev.status === "resolved") return { incident: fromDb(prev), change: "already_resolved" };
  const res = await tx.query<DbIncident>(
    `UPDATE incidents SET status = 'resolved', resolved_at = $2, last_seen_at = $3 WHERE id = $1 RETURNING *`,
    [id, resolvedAt, now],
  );
  return { incident: fromDb(res.rows[0] as DbIncident), change: "resolved" };
}

export async function listIncidents(
  db: Sql,
  opts: { status?: "firing" | "resolved"; limit?: number } = {},
): Promise<Incident[]> {
  const params: unknown[] = [opts.limit ?? 100];
  let where = "";
  if (opts.status) {
    params.push(opts.status);
    where = "WHERE status = $2";
  }
  const { rows } = await db.query<DbIncident>(
    `SELECT * FROM incidents ${where} ORDER BY opened_at DESC, id LIMIT $1`,
    params,
  );
  return rows.map(fromDb);
}

export async function getIncident(db: Sql, id: string): Promise<Incident | undefined> {
  const { rows } = await db.query<DbIncident>("SELECT * FROM incidents WHERE id = $1", [id]);
  return rows[0] ? fromDb(rows[0]) : undefined;
}
