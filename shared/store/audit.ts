// The append-only, hash-chained audit log. Each row's hash is sha256(prev_hash ‖ canonical JSON of
// the row); changing, removing or inserting a row breaks every hash after it, and `verifyAudit`
// names the first broken row. Appends are serialised with an advisory lock so the chain stays
// linear with any number of writers.
import { createHash } from "node:crypto";
import type { Sql, Store } from "../ports/store.js";

export interface AuditEntry {
  at: Date;
  cluster: string;
  /** Who did it: a function (`function:alert-intake`), a person (`user:alice`), `system`. */
  actor: string;
  /** What happened, dotted: `incident.opened`, `remediation.executed`. */
  action: string;
  subject: string;
  details: Record<string, unknown>;
  /** Makes the append idempotent: a second append with the same key returns the first row. */
  dedupeKey?: string;
}

export interface AuditRow extends Omit<AuditEntry, "dedupeKey"> {
  seq: number;
  prevHash: string;
  hash: string;
}

export const genesisHash = "0".repeat(64);
const auditLockId = 7_240_002;

/** JSON with sorted keys: the same value always serialises to the same bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
}

/** The bytes a row's hash covers besides the previous hash. */
function auditBody(e: Omit<AuditEntry, "dedupeKey">): string {
  return canonicalJson({
    at: e.at.toISOString(),
    cluster: e.cluster,
    actor: e.actor,
    action: e.action,
    subject: e.subject,
    details: e.details,
  });
}

export function auditHash(prevHash: string, e: Omit<AuditEntry, "dedupeKey">): string {
  return createHash("sha256").update(prevHash).update("\n").update(auditBody(e)).digest("hex");
}

interface DbAuditRow {
  seq: string | number;
  at: Date | string;
  cluster: string;
  actor: string;
  action: string;
  subject: string;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

function fromDb(r: DbAuditRow): AuditRow {
  return {
    seq: Number(r.seq),
    at: new Date(r.at),
    cluster: r.cluster,
    actor: r.actor,
    action: r.action,
    subject: r.subject,
    details: r.details,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/**
 * Appends inside the caller's transaction (so the audit row commits with the change it records).
 *
 * The chain lock is held from here to the caller's commit, and every writer waits for it, so the
 * work under it is two statements: the lock, then one INSERT that reads the previous hash, hashes
 * (PostgreSQL's sha256 over the same bytes auditHash hashes) and skips a repeated dedupe key. The
 * INSERT is its own statement so that its snapshot, taken after the lock, sees the last row.
 */
export async function appendAudit(tx: Sql, entry: AuditEntry): Promise<AuditRow> {
  await tx.query("SELECT pg_advisory_xact_lock($1)", [auditLockId]);
  // Millisecond precision, so the timestamp read back from the database hashes identically.
  const at = new Date(Math.floor(entry.at.getTime()));
  const body = auditBody({ ...entry, at });
  const res = await tx.query<DbAuditRow>(
    `WITH prev AS (
       SELECT coalesce((SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), $8) AS hash
     )
     INSERT INTO audit_log (at, cluster, actor, action, subject, details, dedupe_key, prev_hash, hash)
     SELECT $1, $2, $3, $4, $5, $6::jsonb, $7, prev.hash,
            encode(sha256(convert_to(prev.hash || E'\\n' || $9, 'UTF8')), 'hex')
       FROM prev
     ON CONFLICT (dedupe_key) DO NOTHING
     RETURNING *`,
    [
      at,
      entry.cluster,
      entry.actor,
      entry.action,
      entry.subject,
      canonicalJson(entry.details),
      entry.dedupeKey ?? null,
      genesisHash,
      body,
    ],
  );
  if (res.rows[0]) return fromDb(res.rows[0]);
  // The dedupe key was there already: the first append's row.
  const existing = await tx.query<DbAuditRow>("SELECT * FROM audit_log WHERE dedupe_key = $1", [
    entry.dedupeKey,
  ]);
  return fromDb(existing.rows[0] as DbAuditRow);
}

export async function recordAudit(store: Store, entry: AuditEntry): Promise<AuditRow> {
  return store.transaction((tx) => appendAudit(tx, entry));
}

export interface AuditVerification {
  ok: boolean;
  rows: number;
  headHash: string | null;
  firstBadSeq: number | null;
  reason: string | null;
}

/** Walks the whole chain in pages; stops at the first row whose link or hash does not hold. */
export async function verifyAudit(db: Sql, pageSize = 1000): Promise<AuditVerification> {
  let prevHash = genesisHash;
  let afterSeq = 0;
  let count = 0;
  for (;;) {
    const { rows } = await db.query<DbAuditRow>(
      "SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
      [afterSeq, pageSize],
    );
    if (rows.length === 0) break;
    for (const raw of rows) {
      const row = fromDb(raw);
      // Identity values can skip after a rolled-back insert, so seq gaps are not checked; the
      // prev_hash link catches a deleted row.
      if (row.prevHash !== prevHash) {
        return {
          ok: false,
          rows: count,
          headHash: prevHash,
          firstBadSeq: row.seq,
          reason: "prev_hash does not link to the previous row (a row was removed or inserted)",
        };
      }
      if (auditHash(prevHash, row) !== row.hash) {
        return {
          ok: false,
          rows: count,
          headHash: prevHash,
          firstBadSeq: row.seq,
          reason: "row content does not match its hash (the row was changed)",
        };
      }
      prevHash = row.hash;
      afterSeq = row.seq;
      count++;
    }
  }
  return { ok: true, rows: count, headHash: count ? prevHash : null, firstBadSeq: null, reason: null };
}

export async function listAudit(
  db: Sql,
  opts: { limit?: number; subject?: string; remediationId?: string } = {},
): Promise<AuditRow[]> {
  const params: unknown[] = [opts.limit ?? 100];
  const where: string[] = [];
  if (opts.subject) where.push(`subject = $${params.push(opts.subject)}`);
  if (opts.remediationId) where.push(`details->>'remediationId' = $${params.push(opts.remediationId)}`);
  const { rows } = await db.query<DbAuditRow>(
    `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY seq DESC LIMIT $1`,
    params,
  );
  return rows.map(fromDb);
}
