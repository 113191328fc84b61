// Persists a diagnosis and its findings (migration 2). Idempotent: a re-run of the same event
// derives the same diagnosis id and inserts nothing new.
import type { Sql } from "../ports/store.js";
import type { Finding, FindingEvidence } from "./finding.js";

export interface DiagnosisRecord {
  id: string;
  incidentId: string;
  cluster: string;
  status: "OK" | "ProblemDetected" | "Unavailable";
  summary: string;
  rootCause: Finding | null;
  findings: readonly Finding[];
  at: Date;
}

export async function recordDiagnosis(tx: Sql, d: DiagnosisRecord): Promise<boolean> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO diagnoses (id, incident_id, cluster, status, summary, root_cause, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING RETURNING id`,
    [
      d.id,
      d.incidentId,
      d.cluster,
      d.status,
      d.summary,
      d.rootCause ? JSON.stringify(d.rootCause) : null,
      d.at,
    ],
  );
  if (rows.length === 0) return false;
  if (d.findings.length === 0) return true;
  // One statement for all the findings (a storm's diagnosis has dozens): the rows travel as one
  // JSON array, expanded by the server.
  const rowsJson = d.findings.map((f, i) => ({
    position: i,
    kind: f.kind,
    namespace: f.namespace,
    name: f.name,
    reason: f.reason,
    message: f.message,
    parent: f.parent ?? null,
    evidence: f.evidence,
    root_cause: f === d.rootCause,
  }));
  await tx.query(
    `INSERT INTO findings (diagnosis_id, position, cluster, kind, namespace, name, reason, message, parent, evidence, root_cause)
     SELECT $1, r.position, $2, r.kind, r.namespace, r.name, r.reason, r.message, r.parent, r.evidence, r.root_cause
       FROM jsonb_to_recordset($3::jsonb) AS r(position integer, kind text, namespace text, name text, reason text,
                                               message text, parent text, evidence jsonb, root_cause boolean)
     ON CONFLICT DO NOTHING`,
    [d.id, d.cluster, JSON.stringify(rowsJson)],
  );
  return true;
}

export interface StoredFinding {
  kind: string;
  namespace: string;
  name: string;
  reason: string;
  message: string;
  root_cause: boolean;
}

/** The findings of an incident's diagnoses, oldest diagnosis first (the host's /api shape). */
export async function findingsOfIncident(db: Sql, incidentId: string): Promise<StoredFinding[]> {
  return (await findingRows(db, { incidentId })).map((f) => ({
    kind: f.kind,
    namespace: f.namespace,
    name: f.name,
    reason: f.reason,
    message: f.message,
    root_cause: f.rootCause,
  }));
}

/** A stored diagnosis, without its findings. */
export interface StoredDiagnosis {
  id: string;
  status: string;
  summary: string;
  rootCause: Finding | null;
  at: Date;
}

/** An incident's diagnoses, oldest first; with `latest`, only the newest. */
export async function diagnosesOfIncident(
  db: Sql,
  incidentId: string,
  opts: { latest?: boolean } = {},
): Promise<StoredDiagnosis[]> {
  const { rows } = await db.query<{
    id: string;
    status: string;
    summary: string;
    root_cause: Finding | null;
    created_at: Date | string;
  }>(
    opts.latest
      ? `SELECT id, status, summary, root_cause, created_at FROM diagnoses WHERE incident_id = $1
          ORDER BY created_at DESC, id LIMIT 1`
      : `SELECT id, status, summary, root_cause, created_at FROM diagnoses WHERE incident_id = $1
          ORDER BY created_at`,
    [incidentId],
  );
  return rows.map((d) => ({
    id: d.id,
    status: d.status,
    summary: d.summary,
    rootCause: d.root_cause,
    at: new Date(d.created_at),
  }));
}

/** A stored finding with the diagnosis it belongs to, its owner and its evidence. */
export interface FindingRow {
  diagnosisId: string;
  kind: string;
  namespace: string;
  name: string;
  reason: string;
  message: string;
  parent: string | null;
  evidence: FindingEvidence;
  rootCause: boolean;
}

/** The findings of one diagnosis, or of every diagnosis of an incident, in their order. */
export async function findingRows(
  db: Sql,
  of: { incidentId: string } | { diagnosisId: string },
): Promise<FindingRow[]> {
  const { rows } = await db.query<{
    diagnosis_id: string;
    kind: string;
    namespace: string;
    name: string;
    reason: string;
    message: string;
    parent: string | null;
    evidence: FindingEvidence;
    root_cause: boolean;
  }>(
    "incidentId" in of
      ? `SELECT f.diagnosis_id, f.kind, f.namespace, f.name, f.reason, f.message, f.parent, f.evidence, f.root_cause
           FROM findings f JOIN diagnoses d ON d.id = f.diagnosis_id
          WHERE d.incident_id = $1 ORDER BY d.created_at, f.position`
      : `SELECT diagnosis_id, kind, namespace, name, reason, message, parent, evidence, root_cause
           FROM findings WHERE diagnosis_id = $1 ORDER BY position`,
    ["incidentId" in of ? of.incidentId : of.diagnosisId],
  );
  return rows.map((f) => ({
    diagnosisId: f.diagnosis_id,
    kind: f.kind,
    namespace: f.namespace,
    name: f.name,
    reason: f.reason,
    message: f.message,
    parent: f.parent,
    evidence: f.evidence,
    rootCause: f.root_cause,
  }));
}
