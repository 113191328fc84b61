// What forecast-scaling remembers per PredictiveScale between invocations (table forecast_state,
// migration 7): the buffer and when it last grew (hysteresis, cooldown), measured node lead times
// (NodeClaims are consolidated away, their timings must outlive them), the forecasts waiting to be
// scored against what happened, and the scores.
import type { Sql } from "../ports/store.js";
import type { BufferMemory } from "./plan.js";

/** A forecast made at one evaluation, to be scored once its target time has data. */
export interface PendingForecast {
  /** Unix seconds the forecast was for (now + lead time + interval). */
  at: number;
  mean: number;
  lower95?: number;
  upper95?: number;
  /** Demand the capacity was provisioned for. */
  provisioned: number;
}

export interface ScoredForecast {
  at: number;
  actual: number;
  mean: number;
  provisioned: number;
}

export interface ForecastState {
  buffer: BufferMemory;
  /** Unix seconds (the metrics server's clock) of the last evaluation. */
  lastEvaluated: number | null;
  leadSamples: { claim: string; seconds: number }[];
  pending: PendingForecast[];
  /** The most recent scored forecasts (at most 500). */
  scored: ScoredForecast[];
  /** The last evaluation's summary, for the CLI and /metrics. */
  last?: Record<string, unknown>;
}

export function initialForecastState(): ForecastState {
  return {
    buffer: { replicas: 0, increasedAt: null },
    lastEvaluated: null,
    leadSamples: [],
    pending: [],
    scored: [],
  };
}

export async function loadForecastState(db: Sql, cluster: string, key: string): Promise<ForecastState> {
  const r = await db.query<{ state: ForecastState }>(
    "SELECT state FROM forecast_state WHERE cluster = $1 AND scale_key = $2",
    [cluster, key],
  );
  return { ...initialForecastState(), ...(r.rows[0]?.state ?? {}) };
}

export async function saveForecastState(
  db: Sql,
  cluster: string,
  key: string,
  state: ForecastState,
  at: Date,
): Promise<void> {
  await db.query(
    `INSERT INTO forecast_state (cluster, scale_key, state, updated_at) VALUES ($1, $2, $3::jsonb, $4)
     ON CONFLICT (cluster, scale_key) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at`,
    [cluster, key, JSON.stringify(state), at],
  );
}

export async function listForecastStates(
  db: Sql,
  cluster?: string,
): Promise<{ cluster: string; key: string; state: ForecastState }[]> {
  const r = cluster
    ? await db.query<{ cluster: string; scale_key: string; state: ForecastState }>(
        "SELECT cluster, scale_key, state FROM forecast_state WHERE cluster = $1 ORDER BY scale_key",
        [cluster],
      )
    : await db.query<{ cluster: string; scale_key: string; state: ForecastState }>(
        "SELECT cluster, scale_key, state FROM forecast_state ORDER BY cluster, scale_key",
      );
  return r.rows.map((x) => ({ cluster: x.cluster, key: x.scale_key, state: x.state }));
}

export async function deleteForecastState(db: Sql, cluster: string, key: string): Promise<void> {
  await db.query("DELETE FROM forecast_state WHERE cluster = $1 AND scale_key = $2", [cluster, key]);
}

/** Scores pending forecasts whose target time the history now covers. */
export function scorePending(
  state: ForecastState,
  actualAt: (t: number) => number | undefined,
  lastSample: number,
): void {
  const keep: PendingForecast[] = [];
  for (const p of state.pending) {
    if (p.at > lastSample) {
      keep.push(p);
      continue;
    }
    const actual = actualAt(p.at);
    if (actual !== undefined)
      state.scored.push({ at: p.at, actual, mean: p.mean, provisioned: p.provisioned });
  }
  state.pending = keep.slice(-100);
  state.scored = state.scored.slice(-500);
}

export interface Accuracy {
  samples: number;
  /** Share of forecasts whose provisioned demand covered what came (the seeds' "accuracy"). */
  coverage: number | null;
  /** Mean absolute percentage error of the mean forecast. */
  mape: number | null;
}

export function accuracyOf(scored: readonly ScoredForecast[]): Accuracy {
  if (scored.length === 0) return { samples: 0, coverage: null, mape: null };
  let covered = 0;
  let ape = 0;
  let apeN = 0;
  for (const s of scored) {
    if (s.actual <= s.provisioned * (1 + 1e-9) + 1e-9) covered++;
    if (Math.abs(s.actual) > 1e-9) {
      ape += Math.abs(s.actual - s.mean) / Math.abs(s.actual);
      apeN++;
    }
  }
  return { samples: scored.length, coverage: covered / scored.length, mape: apeN ? ape / apeN : null };
}
