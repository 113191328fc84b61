// The record of notifications sent (migration 3): one row per incident, phase and channel, written
// only after the channel accepted the message, so a failed send is retried and a duplicate event
// (a re-run diagnosis, a second delivery) finds the row and sends nothing.
import type { Sql } from "../ports/store.js";

export interface SentKey {
  incidentId: string;
  phase: "firing" | "resolved";
  channel: string;
}

export async function wasSent(db: Sql, k: SentKey): Promise<boolean> {
  const { rows } = await db.query(
    "SELECT 1 FROM notifications_sent WHERE incident_id = $1 AND phase = $2 AND channel = $3",
    [k.incidentId, k.phase, k.channel],
  );
  return rows.length > 0;
}

/** True when this call recorded the send, false when the row was already there. */
export async function markSent(
  tx: Sql,
  k: SentKey & { cluster: string; eventId: string; at: Date },
): Promise<boolean> {
  const { rows } = await tx.query(
    `INSERT INTO notifications_sent (incident_id, phase, channel, cluster, event_id, sent_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING incident_id`,
    [k.incidentId, k.phase, k.channel, k.cluster, k.eventId, k.at],
  );
  return rows.length > 0;
}
