// What slo-check remembers per SLO between invocations (table slo_state, migration 6).
import type { Sql } from "../ports/store.js";
import type { SloEvaluation } from "./evaluate.js";

export type SloPhase = "Monitoring" | "Violated" | "Remediating" | "Resolved";

/** An alert slo-check raised and has not resolved yet: its identity is fingerprint + startsAt. */
export interface RaisedAlert {
  alertname: string;
  fingerprint: string;
  startsAt: string;
  labels: Record<string, string>;
}

/** A deploy freeze slo-check put in place (and must lift). */
export interface Freeze {
  kind: "Namespace" | "Application";
  namespace: string;
  name: string;
}

export interface SloState {
  cluster: string;
  sloId: string;
  phase: SloPhase;
  /** Per severity (page, ticket): the alert raised for it. */
  firing: Partial<Record<"page" | "ticket", RaisedAlert>>;
  violationCount: number;
  lastViolated: Date | null;
  resolvedAt: Date | null;
  frozen: Freeze[];
  chaosAt: Date | null;
  /** The last evaluation, with the SLO's service and name (for metrics and the CLI). */
  evaluation: (SloEvaluation & { service?: string; slo?: string; timeToExhaustion?: unknown }) | null;
  evaluatedAt: Date | null;
}

interface Row {
  cluster: string;
  slo_id: string;
  phase: SloPhase;
  firing: SloState["firing"];
  violation_count: number;
  last_violated: string | Date | null;
  resolved_at: string | Date | null;
  frozen: Freeze[];
  chaos_at: string | Date | null;
  evaluation: SloState["evaluation"];
  evaluated_at: string | Date | null;
}

const date = (v: string | Date | null) => (v === null ? null : new Date(v));

function fromRow(r: Row): SloState {
  return {
    cluster: r.cluster,
    sloId: r.slo_id,
    phase: r.phase,
    firing: r.firing ?? {},
    violationCount: Number(r.violation_count),
    lastViolated: date(r.last_violated),
    resolvedAt: date(r.resolved_at),
    frozen: r.frozen ?? [],
    chaosAt: date(r.chaos_at),
    evaluation: r.evaluation,
    evaluatedAt: date(r.evaluated_at),
  };
}

export function initialState(cluster: string, sloId: string): SloState {
  return {
    cluster,
    sloId,
    phase: "Monitoring",
    firing: {},
    violationCount: 0,
    lastViolated: null,
    resolvedAt: null,
    frozen: [],
    chaosAt: null,
    evaluation: null,
    evaluatedAt: null,
  };
}

/** The state of one SLO, locked for the rest of the transaction. */
export async function lockSloState(tx: Sql, cluster: string, sloId: string): Promise<SloState> {
  await tx.query(
    `INSERT INTO slo_state (cluster, slo_id, phase) VALUES ($1, $2, 'Monitoring') ON CONFLICT DO NOTHING`,
    [cluster, sloId],
  );
  const r = await tx.query<Row>(`SELECT * FROM slo_state WHERE cluster = $1 AND slo_id = $2 FOR UPDATE`, [
    cluster,
    sloId,
  ]);
  return fromRow(r.rows[0]!);
}

export async function saveSloState(tx: Sql, s: SloState): Promise<void> {
  await tx.query(
    `UPDATE slo_state SET phase = $3, firing = $4::jsonb, violation_count = $5, last_violated = $6,
       resolved_at = $7, frozen = $8::jsonb, chaos_at = $9, evaluation = $10::jsonb, evaluated_at = $11
     WHERE cluster = $1 AND slo_id = $2`,
    [
      s.cluster,
      s.sloId,
      s.phase,
      JSON.stringify(s.firing),
      s.violationCount,
      s.lastViolated,
      s.resolvedAt,
      JSON.stringify(s.frozen),
      s.chaosAt,
      s.evaluation === null ? null : JSON.stringify(s.evaluation),
      s.evaluatedAt,
    ],
  );
}

export async function listSloStates(db: Sql, cluster?: string): Promise<SloState[]> {
  const r = cluster
    ? await db.query<Row>(`SELECT * FROM slo_state WHERE cluster = $1 ORDER BY slo_id`, [cluster])
    : await db.query<Row>(`SELECT * FROM slo_state ORDER BY cluster, slo_id`);
  return r.rows.map(fromRow);
}
