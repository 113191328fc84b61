// Persists a diagnosis and its findings (migration 2). Idempotent: a re-run of the same event
// derives the same diagnosis id and inserts nothing new.
import type { Sql } from "../ports/store.js";
import type { Finding } from "./finding.js";

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
  for (const [i, f] of d.findings.entries()) {
    await tx.query(
      `INSERT INTO findings (diagnosis_id, position, cluster, kind, namespace, name, reason, message, parent, evidence, root_cause)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
      [
        d.id,
        i,
        d.cluster,
        f.kind,
        f.namespace,
        f.name,
        f.reason,
        f.message,
        f.parent ?? null,
        JSON.stringify(f.evidence),
        f === d.rootCause,
      ],
    );
  }
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

export async function findingsOfIncident(db: Sql, incidentId: string): Promise<StoredFinding[]> {
  const { rows } = await db.query<StoredFinding>(
    `SELECT f.kind, f.namespace, f.name, f.reason, f.message, f.root_cause
       FROM findings f JOIN diagnoses d ON d.id = f.diagnosis_id
      WHERE d.incident_id = $1 ORDER BY d.created_at, f.position`,
    [incidentId],
  );
  return rows;
}
