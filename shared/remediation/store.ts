// Remediation rows, target locks and the queries the policy gate asks. Everything that must hold
// across replicas is enforced here by the database: the primary key (one decision per diagnosis
// event), the partial unique index (one remediation in flight per owner) and conditional updates
// (a status moves forward once, whoever tries first).
import type { Sql } from "../ports/store.js";
import type { ActionTarget, ExecutionResult } from "./action.js";
import type { Decision } from "./decision.js";
import type { GateResult } from "./gate.js";
import type { ApprovalMode } from "./policy.js";

export type RemediationStatus =
  | "proposed"
  | "approved"
  | "rejected"
  | "expired"
  | "executing"
  | "executed"
  | "failed"
  | "blocked"
  | "dry_run"
  | "no_action";

/** A verification: `pending` while the change is still converging (pods rolling, PVC resizing). */
export interface VerifyRecord {
  ok: boolean;
  detail: string;
  pending?: boolean;
  at?: string;
}

export const inFlight: readonly RemediationStatus[] = ["proposed", "approved", "executing"];

export interface Remediation {
  id: string;
  cluster: string;
  incidentId: string;
  diagnosisId: string | null;
  ownerKey: string;
  targetKey: string | null;
  action: string | null;
  target: ActionTarget | null;
  params: Record<string, unknown> | null;
  decider: string;
  confidence: number;
  decision: Decision;
  policyId: string;
  mode: ApprovalMode;
  status: RemediationStatus;
  reason: string | null;
  gate: GateResult;
  result: (ExecutionResult & { verify?: VerifyRecord; error?: string }) | null;
  specHashBefore: string | null;
  specHashAfter: string | null;
  expiresAt: Date | null;
  decidedBy: string | null;
  pattern: string;
  createdAt: Date;
  updatedAt: Date;
  executedAt: Date | null;
  assessedAt: Date | null;
  score: number | null;
  assessment: Record<string, unknown> | null;
}

interface Row {
  id: string;
  cluster: string;
  incident_id: string;
  diagnosis_id: string | null;
  owner_key: string;
  target_key: string | null;
  action: string | null;
  target: ActionTarget | null;
  params: Record<string, unknown> | null;
  decider: string;
  confidence: number;
  decision: Decision;
  policy_id: string;
  mode: ApprovalMode;
  status: RemediationStatus;
  reason: string | null;
  gate: GateResult;
  result: Remediation["result"];
  spec_hash_before: string | null;
  spec_hash_after: string | null;
  expires_at: Date | string | null;
  decided_by: string | null;
  pattern: string;
  created_at: Date | string;
  updated_at: Date | string;
  executed_at: Date | string | null;
  assessed_at: Date | string | null;
  score: number | null;
  assessment: Record<string, unknown> | null;
}

const date = (v: Date | string | null): Date | null => (v === null ? null : new Date(v));

function fromRow(r: Row): Remediation {
  return {
    id: r.id,
    cluster: r.cluster,
    incidentId: r.incident_id,
    diagnosisId: r.diagnosis_id,
    ownerKey: r.owner_key,
    targetKey: r.target_key,
    action: r.action,
    target: r.target,
    params: r.params,
    decider: r.decider,
    confidence: Number(r.confidence),
    decision: r.decision,
    policyId: r.policy_id,
    mode: r.mode,
    status: r.status,
    reason: r.reason,
    gate: r.gate,
    result: r.result,
    specHashBefore: r.spec_hash_before,
    specHashAfter: r.spec_hash_after,
    expiresAt: date(r.expires_at),
    decidedBy: r.decided_by,
    pattern: r.pattern,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
    executedAt: date(r.executed_at),
    assessedAt: date(r.assessed_at),
    score: r.score === null ? null : Number(r.score),
    assessment: r.assessment,
  };
}

const columns = `id, cluster, incident_id, diagnosis_id, owner_key, target_key, action, target, params,
  decider, confidence, decision, policy_id, mode, status, reason, gate, result, spec_hash_before,
  spec_hash_after, expires_at, decided_by, pattern, created_at, updated_at, executed_at, assessed_at,
  score, assessment`;

export interface NewRemediation {
  id: string;
  cluster: string;
  incidentId: string;
  diagnosisId: string | null;
  ownerKey: string;
  targetKey: string | null;
  decision: Decision;
  policyId: string;
  mode: ApprovalMode;
  status: RemediationStatus;
  reason: string | null;
  gate: GateResult;
  expiresAt: Date | null;
  pattern: string;
  embedding: number[];
  at: Date;
}

/**
 * Inserts the decision. "exists": this id was recorded before (a redelivery); "in_flight": another
 * remediation for the same owner is proposed/approved/executing (the unique index said so).
 */
export async function insertRemediation(
  tx: Sql,
  r: NewRemediation,
): Promise<"inserted" | "exists" | "in_flight"> {
  const a = r.decision.action;
  try {
    const res = await tx.query<{ id: string }>(
      `INSERT INTO remediations (id, cluster, incident_id, diagnosis_id, owner_key, target_key, action,
         target, params, decider, confidence, decision, policy_id, mode, status, reason, gate,
         expires_at, pattern, embedding, created_at, updated_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$21)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [
        r.id,
        r.cluster,
        r.incidentId,
        r.diagnosisId,
        r.ownerKey,
        r.targetKey,
        a?.name ?? null,
        a ? JSON.stringify(a.target) : null,
        a ? JSON.stringify(a.params) : null,
        r.decision.decider,
        r.decision.confidence,
        JSON.stringify(r.decision),
        r.policyId,
        r.mode,
        r.status,
        r.reason,
        JSON.stringify(r.gate),
        r.expiresAt,
        r.pattern,
        r.embedding,
        r.at,
      ],
    );
    return res.rows.length > 0 ? "inserted" : "exists";
  } catch (err) {
    if ((err as { code?: string }).code === "23505") return "in_flight";
    throw err;
  }
}

export async function getRemediation(db: Sql, id: string): Promise<Remediation | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${columns} FROM remediations WHERE id = $1`, [id]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function listRemediations(
  db: Sql,
  opts: {
    cluster?: string;
    status?: RemediationStatus[];
    incidentId?: string;
    ownerKey?: string;
    limit?: number;
  } = {},
): Promise<Remediation[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (opts.cluster) where.push(`cluster = $${params.push(opts.cluster)}`);
  if (opts.ownerKey) where.push(`owner_key = $${params.push(opts.ownerKey)}`);
  if (opts.status) where.push(`status = ANY($${params.push(opts.status)}::text[])`);
  if (opts.incidentId) where.push(`incident_id = $${params.push(opts.incidentId)}`);
  const { rows } = await db.query<Row>(
    `SELECT ${columns} FROM remediations ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY created_at DESC, id LIMIT $${params.push(opts.limit ?? 100)}`,
    params,
  );
  return rows.map(fromRow);
}

/**
 * Moves a remediation from one of `from` to `to`, once: returns false when another attempt got
 * there first (the row is not in `from` any more).
 */
export async function transition(
  db: Sql,
  id: string,
  from: readonly RemediationStatus[],
  to: RemediationStatus,
  at: Date,
  set: {
    reason?: string | null;
    decidedBy?: string;
    gate?: GateResult;
    result?: Remediation["result"];
    specHashBefore?: string | null;
    specHashAfter?: string | null;
    executedAt?: Date;
  } = {},
): Promise<boolean> {
  const sets = ["status = $3", "updated_at = $4"];
  const params: unknown[] = [id, from, to, at];
  const add = (col: string, v: unknown) => sets.push(`${col} = $${params.push(v)}`);
  if (set.reason !== undefined) add("reason", set.reason);
  if (set.decidedBy !== undefined) add("decided_by", set.decidedBy);
  if (set.gate !== undefined) add("gate", JSON.stringify(set.gate));
  if (set.result !== undefined) add("result", JSON.stringify(set.result));
  if (set.specHashBefore !== undefined) add("spec_hash_before", set.specHashBefore);
  if (set.specHashAfter !== undefined) add("spec_hash_after", set.specHashAfter);
  if (set.executedAt !== undefined) add("executed_at", set.executedAt);
  const { rows } = await db.query<{ id: string }>(
    `UPDATE remediations SET ${sets.join(", ")} WHERE id = $1 AND status = ANY($2::text[]) RETURNING id`,
    params,
  );
  return rows.length > 0;
}

/** Replaces the stored result of an executed remediation (a later verification). */
export async function updateResult(
  db: Sql,
  id: string,
  result: Remediation["result"],
  at: Date,
): Promise<void> {
  await db.query("UPDATE remediations SET result = $2, updated_at = $3 WHERE id = $1", [
    id,
    JSON.stringify(result),
    at,
  ]);
}

export async function recordAssessment(
  db: Sql,
  id: string,
  at: Date,
  score: number | null,
  assessment: Record<string, unknown>,
): Promise<boolean> {
  const { rows } = await db.query<{ id: string }>(
    `UPDATE remediations SET assessed_at = $2, score = $3, assessment = $4, updated_at = $2
     WHERE id = $1 AND assessed_at IS NULL RETURNING id`,
    [id, at, score, JSON.stringify(assessment)],
  );
  return rows.length > 0;
}

/** Takes (or re-takes an expired) lock on a target; false when another remediation holds it. */
export async function lockTarget(
  db: Sql,
  cluster: string,
  targetKey: string,
  remediationId: string,
  until: Date,
  now: Date,
): Promise<boolean> {
  const { rows } = await db.query<{ remediation_id: string }>(
    `INSERT INTO remediation_locks (cluster, target_key, remediation_id, locked_until)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (cluster, target_key) DO UPDATE
       SET remediation_id = EXCLUDED.remediation_id, locked_until = EXCLUDED.locked_until
       WHERE remediation_locks.locked_until <= $5 OR remediation_locks.remediation_id = EXCLUDED.remediation_id
     RETURNING remediation_id`,
    [cluster, targetKey, remediationId, until, now],
  );
  return rows.length > 0;
}

export async function lockHolder(
  db: Sql,
  cluster: string,
  targetKey: string,
  now: Date,
): Promise<string | undefined> {
  const { rows } = await db.query<{ remediation_id: string }>(
    `SELECT remediation_id FROM remediation_locks
     WHERE cluster = $1 AND target_key = $2 AND locked_until > $3`,
    [cluster, targetKey, now],
  );
  return rows[0]?.remediation_id;
}

export async function releaseLock(db: Sql, cluster: string, targetKey: string, remediationId: string) {
  await db.query(
    "DELETE FROM remediation_locks WHERE cluster = $1 AND target_key = $2 AND remediation_id = $3",
    [cluster, targetKey, remediationId],
  );
}

/** The remediations about one owner since a time, newest first (cooldown, failure chains). */
export async function recentForOwner(
  db: Sql,
  cluster: string,
  ownerKey: string,
  since: Date,
): Promise<Remediation[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${columns} FROM remediations
     WHERE cluster = $1 AND owner_key = $2 AND created_at >= $3
     ORDER BY created_at DESC, id DESC LIMIT 50`,
    [cluster, ownerKey, since],
  );
  return rows.map(fromRow);
}

/** Remediations that act now or are still stabilising (executing, or executed and not yet assessed). */
export async function countActive(db: Sql, cluster: string): Promise<number> {
  const { rows } = await db.query<{ n: string | number }>(
    `SELECT count(*) AS n FROM remediations
     WHERE cluster = $1 AND (status = 'executing' OR (status = 'executed' AND assessed_at IS NULL))`,
    [cluster],
  );
  return Number(rows[0]?.n ?? 0);
}

/** A setting, created with `make()` on first use (concurrent first uses agree on one value). */
export async function setting(db: Sql, name: string, make: () => string): Promise<string> {
  await db.query("INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", [
    name,
    make(),
  ]);
  const { rows } = await db.query<{ value: string }>("SELECT value FROM settings WHERE name = $1", [name]);
  return rows[0]!.value;
}
