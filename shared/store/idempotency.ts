// Processed-event records, after AWS Powertools' idempotency design: a record is claimed
// `in_progress` with a lease, then `completed` together with the events the handler emitted, then
// marked `delivered` once the sink accepted them. A redelivered event therefore either does
// nothing (delivered), resends the stored outputs without re-running the handler (completed but
// not delivered), waits (another replica holds a live lease), or runs again (the lease expired:
// the previous attempt crashed).
import type { ProphetEvent } from "../events/envelope.js";
import type { Sql } from "../ports/store.js";

export type Claim =
  | { kind: "claimed"; attempt: number }
  | { kind: "duplicate" }
  | { kind: "undelivered"; outputs: ProphetEvent[] }
  | { kind: "in_progress"; leaseUntil: Date };

export interface EventKey {
  functionName: string;
  source: string;
  id: string;
}

export async function claimEvent(
  db: Sql,
  key: EventKey,
  type: string,
  now: Date,
  leaseMs: number,
): Promise<Claim> {
  const lease = new Date(now.getTime() + leaseMs);
  const claimed = await db.query<{ attempts: number }>(
    `INSERT INTO processed_events (function_name, event_source, event_id, event_type, status, lease_until, created_at)
     VALUES ($1, $2, $3, $4, 'in_progress', $5, $6)
     ON CONFLICT (function_name, event_source, event_id) DO UPDATE
       SET lease_until = EXCLUDED.lease_until, attempts = processed_events.attempts + 1
       WHERE processed_events.status = 'in_progress' AND processed_events.lease_until < $6
     RETURNING attempts`,
    [key.functionName, key.source, key.id, type, lease, now],
  );
  const row = claimed.rows[0];
  if (row) return { kind: "claimed", attempt: Number(row.attempts) };
  const existing = await db.query<{
    status: string;
    delivered: boolean;
    outputs: unknown;
    lease_until: Date;
  }>(
    `SELECT status, delivered, outputs, lease_until FROM processed_events
      WHERE function_name = $1 AND event_source = $2 AND event_id = $3`,
    [key.functionName, key.source, key.id],
  );
  const rec = existing.rows[0];
  if (!rec) return claimEvent(db, key, type, now, leaseMs); // released between the two statements
  if (rec.status === "in_progress") return { kind: "in_progress", leaseUntil: new Date(rec.lease_until) };
  if (rec.delivered) return { kind: "duplicate" };
  return { kind: "undelivered", outputs: (rec.outputs ?? []) as ProphetEvent[] };
}

export async function completeEvent(
  db: Sql,
  key: EventKey,
  outputs: ProphetEvent[],
  now: Date,
): Promise<void> {
  await db.query(
    `UPDATE processed_events SET status = 'completed', outputs = $4::jsonb, completed_at = $5, delivered = $6
      WHERE function_name = $1 AND event_source = $2 AND event_id = $3`,
    [key.functionName, key.source, key.id, JSON.stringify(outputs), now, outputs.length === 0],
  );
}

export async function markDelivered(db: Sql, key: EventKey): Promise<void> {
  await db.query(
    `UPDATE processed_events SET delivered = true
      WHERE function_name = $1 AND event_source = $2 AND event_id = $3`,
    [key.functionName, key.source, key.id],
  );
}

/** A failed attempt gives the event back so a redelivery runs it again. */
export async function releaseEvent(db: Sql, key: EventKey): Promise<void> {
  await db.query(
    `DELETE FROM processed_events
      WHERE function_name = $1 AND event_source = $2 AND event_id = $3 AND status = 'in_progress'`,
    [key.functionName, key.source, key.id],
  );
}

/** Outputs that were stored but never reached the sink (a crash or sink outage in between). */
export async function undeliveredOutputs(
  db: Sql,
  limit = 500,
): Promise<Array<{ key: EventKey; outputs: ProphetEvent[] }>> {
  const { rows } = await db.query<{
    function_name: string;
    event_source: string;
    event_id: string;
    outputs: unknown;
  }>(
    `SELECT function_name, event_source, event_id, outputs FROM processed_events
      WHERE status = 'completed' AND NOT delivered ORDER BY completed_at LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({
    key: { functionName: r.function_name, source: r.event_source, id: r.event_id },
    outputs: (r.outputs ?? []) as ProphetEvent[],
  }));
}
