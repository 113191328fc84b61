// The record of notifications sent (migrations 3 and 5): one row per incident, phase, channel and
// remediation (empty for firing/resolved), written only after the channel accepted the message,
// so a failed send is retried and a duplicate event (a re-run diagnosis, a second delivery)
// finds the row and sends nothing.
import type { Sql } from "../ports/store.js";
import type { NoticeRemediationStatus } from "../ports/notify.js";

/** firing, resolved, or `remediation.<status>` (one message per remediation and status). */
export type SentPhase = "firing" | "resolved" | `remediation.${NoticeRemediationStatus}`;

export interface SentKey {
  incidentId: string;
  phase: SentPhase;
  channel: string;
  /** The remediation a `remediation.*` message was about. */
  remediationId?: string;
}

export async function wasSent(db: Sql, k: SentKey): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM notifications_sent
     WHERE incident_id = $1 AND phase = $2 AND channel = $3 AND remediation_id = $4`,
    [k.incidentId, k.phase, k.channel, k.remediationId ?? ""],
  );
  return rows.length > 0;
}

/** True when this call recorded the send, false when the row was already there. */
export async function markSent(
  tx: Sql,
  k: SentKey & { cluster: string; eventId: string; at: Date },
): Promise<boolean> {
  const { rows } = await tx.query(
    `INSERT INTO notifications_sent (incident_id, phase, channel, remediation_id, cluster, event_id, sent_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING incident_id`,
    [k.incidentId, k.phase, k.channel, k.remediationId ?? "", k.cluster, k.eventId, k.at],
  );
  return rows.length > 0;
}
