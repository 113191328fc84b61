// What anomaly-trigger keeps per cluster, AnomalyAction and series (table anomaly_state,
// migration 7): the series' memory (detector, trend, recent points, raised alert), the last sample
// it consumed (no point is fed twice) and the last detection (the cooldown).
import type { Sql } from "../../ports/store.js";
import type { SeriesMemory } from "./series.js";

export interface SeriesRow {
  actionKey: string;
  seriesKey: string;
  /** null for a row just created (locked, not yet saved). */
  memory: SeriesMemory | null;
  lastSample: Date | null;
  lastAlarm: Date | null;
  updatedAt: Date;
}

interface Row {
  action_key: string;
  series_key: string;
  state: string | unknown;
  last_sample: string | Date | null;
  last_alarm: string | Date | null;
  updated_at: string | Date;
}

// JSON has no Infinity or NaN (the detector starts its range at ±Infinity): tagged objects carry them.
const encode = (_k: string, v: unknown) =>
  typeof v === "number" && !Number.isFinite(v) ? { $num: String(v) } : v;
const decode = (_k: string, v: unknown) =>
  typeof v === "object" && v !== null && "$num" in v && Object.keys(v).length === 1
    ? Number((v as { $num: string }).$num)
    : v;

export function encodeMemory(m: SeriesMemory): string {
  return JSON.stringify(m, encode);
}

export function decodeMemory(raw: unknown): SeriesMemory | null {
  const text = typeof raw === "string" ? raw : JSON.stringify(raw);
  return (JSON.parse(text, decode) as SeriesMemory | null) ?? null;
}

const date = (v: string | Date | null) => (v === null ? null : new Date(v));

function fromRow(r: Row): SeriesRow {
  return {
    actionKey: r.action_key,
    seriesKey: r.series_key,
    memory: decodeMemory(r.state),
    lastSample: date(r.last_sample),
    lastAlarm: date(r.last_alarm),
    updatedAt: new Date(r.updated_at),
  };
}

/** Every series of one action (or of every action), unlocked. */
export async function listSeries(db: Sql, cluster: string, actionKey?: string): Promise<SeriesRow[]> {
  const r = actionKey
    ? await db.query<Row>(
        `SELECT * FROM anomaly_state WHERE cluster = $1 AND action_key = $2 ORDER BY series_key`,
        [cluster, actionKey],
      )
    : await db.query<Row>(`SELECT * FROM anomaly_state WHERE cluster = $1 ORDER BY action_key, series_key`, [
        cluster,
      ]);
  return r.rows.map(fromRow);
}

/** One series' row, created if absent, locked for the rest of the transaction. */
export async function lockSeries(
  tx: Sql,
  cluster: string,
  actionKey: string,
  seriesKey: string,
  now: Date,
): Promise<SeriesRow> {
  await tx.query(
    `INSERT INTO anomaly_state (cluster, action_key, series_key, state, updated_at)
     VALUES ($1, $2, $3, 'null'::jsonb, $4) ON CONFLICT DO NOTHING`,
    [cluster, actionKey, seriesKey, now],
  );
  const r = await tx.query<Row>(
    `SELECT * FROM anomaly_state WHERE cluster = $1 AND action_key = $2 AND series_key = $3 FOR UPDATE`,
    [cluster, actionKey, seriesKey],
  );
  return fromRow(r.rows[0]!);
}

export async function saveSeries(tx: Sql, cluster: string, row: SeriesRow & { memory: SeriesMemory }) {
  await tx.query(
    `UPDATE anomaly_state SET state = $4::jsonb, last_sample = $5, last_alarm = $6, updated_at = $7
     WHERE cluster = $1 AND action_key = $2 AND series_key = $3`,
    [
      cluster,
      row.actionKey,
      row.seriesKey,
      encodeMemory(row.memory),
      row.lastSample,
      row.lastAlarm,
      row.updatedAt,
    ],
  );
}

export async function deleteSeries(tx: Sql, cluster: string, actionKey: string, seriesKey: string) {
  await tx.query(`DELETE FROM anomaly_state WHERE cluster = $1 AND action_key = $2 AND series_key = $3`, [
    cluster,
    actionKey,
    seriesKey,
  ]);
}
