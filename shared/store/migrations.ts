// Versioned schema migrations. The SQL lives in TypeScript so every bundle carries it; the same
// statements run on PostgreSQL 15 and PGlite. Never edit an applied migration: add a new one.
import type { Sql, Store } from "../ports/store.js";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "idempotency, incidents, audit log",
    sql: `
CREATE TABLE processed_events (
  function_name text NOT NULL,
  event_source  text NOT NULL,
  event_id      text NOT NULL,
  event_type    text NOT NULL,
  status        text NOT NULL CHECK (status IN ('in_progress', 'completed')),
  attempts      integer NOT NULL DEFAULT 1,
  lease_until   timestamptz NOT NULL,
  outputs       jsonb,
  delivered     boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL,
  completed_at  timestamptz,
  PRIMARY KEY (function_name, event_source, event_id)
);
CREATE INDEX processed_events_undelivered ON processed_events (completed_at)
  WHERE status = 'completed' AND NOT delivered;

CREATE TABLE incidents (
  id            text PRIMARY KEY,
  cluster       text NOT NULL,
  fingerprint   text NOT NULL,
  starts_at     timestamptz NOT NULL,
  alertname     text NOT NULL,
  severity      text NOT NULL,
  status        text NOT NULL CHECK (status IN ('firing', 'resolved')),
  subject       text NOT NULL,
  summary       text NOT NULL,
  namespace     text,
  labels        jsonb NOT NULL,
  annotations   jsonb NOT NULL,
  target        jsonb NOT NULL,
  notifications integer NOT NULL DEFAULT 1,
  opened_at     timestamptz NOT NULL,
  last_seen_at  timestamptz NOT NULL,
  resolved_at   timestamptz,
  UNIQUE (cluster, fingerprint, starts_at)
);
CREATE INDEX incidents_open ON incidents (cluster, status, opened_at DESC);

-- Append-only and hash-chained: each row's hash covers its content and the previous row's hash.
CREATE TABLE audit_log (
  seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at         timestamptz NOT NULL,
  cluster    text NOT NULL,
  actor      text NOT NULL,
  action     text NOT NULL,
  subject    text NOT NULL,
  details    jsonb NOT NULL,
  dedupe_key text UNIQUE,
  prev_hash  text NOT NULL,
  hash       text NOT NULL UNIQUE
);
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
`,
  },
  {
    version: 2,
    name: "diagnoses and their findings",
    sql: `
CREATE TABLE diagnoses (
  id          text PRIMARY KEY,
  incident_id text NOT NULL,
  cluster     text NOT NULL,
  status      text NOT NULL CHECK (status IN ('OK', 'ProblemDetected', 'Unavailable')),
  summary     text NOT NULL,
  root_cause  jsonb,
  created_at  timestamptz NOT NULL
);
CREATE INDEX diagnoses_incident ON diagnoses (incident_id, created_at DESC);

CREATE TABLE findings (
  diagnosis_id text NOT NULL REFERENCES diagnoses (id),
  position     integer NOT NULL,
  cluster      text NOT NULL,
  kind         text NOT NULL,
  namespace    text NOT NULL,
  name         text NOT NULL,
  reason       text NOT NULL,
  message      text NOT NULL,
  parent       text,
  evidence     jsonb NOT NULL,
  root_cause   boolean NOT NULL DEFAULT false,
  PRIMARY KEY (diagnosis_id, position)
);
CREATE INDEX findings_object ON findings (cluster, kind, namespace, name);
`,
  },
  {
    version: 3,
    name: "notifications sent per incident, phase and channel",
    sql: `
CREATE TABLE notifications_sent (
  incident_id text NOT NULL,
  phase       text NOT NULL CHECK (phase IN ('firing', 'resolved')),
  channel     text NOT NULL,
  cluster     text NOT NULL,
  event_id    text NOT NULL,
  sent_at     timestamptz NOT NULL,
  PRIMARY KEY (incident_id, phase, channel)
);
`,
  },
];

/** Serialises concurrent migrators (several replicas starting at once). */
const migrationLockId = 7_240_001;

export async function migrate(store: Store): Promise<number[]> {
  // Fast path for every cold start after the first: one read, no lock, no DDL.
  const latest = migrations.at(-1)?.version ?? 0;
  const current = await store
    .query<{ v: number | null }>("SELECT max(version) AS v FROM schema_migrations")
    .then((r) => Number(r.rows[0]?.v ?? 0))
    .catch(() => 0);
  if (current >= latest) return [];
  return store.transaction(async (tx: Sql) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [migrationLockId]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await tx.query<{ version: number }>("SELECT version FROM schema_migrations");
    const applied = new Set(rows.map((r) => Number(r.version)));
    const ran: number[] = [];
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      await tx.query(m.sql);
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
      ran.push(m.version);
    }
    return ran;
  });
}
