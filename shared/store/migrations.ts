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
  {
    version: 4,
    name: "remediations, target locks, settings",
    sql: `
-- One row per decision about one diagnosis (id derived from the diagnosis event, so a redelivery
-- finds the row instead of deciding again). Status moves forward only:
--   proposed → approved → executing → executed | failed;  proposed → rejected | expired;
--   blocked, dry_run and no_action are final.
CREATE TABLE remediations (
  id               text PRIMARY KEY,
  cluster          text NOT NULL,
  incident_id      text NOT NULL,
  diagnosis_id     text,
  owner_key        text NOT NULL,
  target_key       text,
  action           text,
  target           jsonb,
  params           jsonb,
  decider          text NOT NULL,
  confidence       double precision NOT NULL,
  decision         jsonb NOT NULL,
  policy_id        text NOT NULL,
  mode             text NOT NULL CHECK (mode IN ('autonomous', 'human-in-loop', 'dry-run')),
  status           text NOT NULL CHECK (status IN ('proposed', 'approved', 'rejected', 'expired',
                     'executing', 'executed', 'failed', 'blocked', 'dry_run', 'no_action')),
  reason           text,
  gate             jsonb NOT NULL,
  result           jsonb,
  spec_hash_before text,
  spec_hash_after  text,
  expires_at       timestamptz,
  decided_by       text,
  pattern          text NOT NULL,
  embedding        real[] NOT NULL,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  executed_at      timestamptz,
  assessed_at      timestamptz,
  score            double precision,
  assessment       jsonb
);
-- At most one remediation in flight per owner (namespace + owner kind + owner name), enforced by
-- the database so concurrent replicas cannot both act.
CREATE UNIQUE INDEX remediations_in_flight ON remediations (cluster, owner_key)
  WHERE status IN ('proposed', 'approved', 'executing');
CREATE INDEX remediations_owner ON remediations (cluster, owner_key, created_at DESC);
CREATE INDEX remediations_incident ON remediations (incident_id);
CREATE INDEX remediations_unassessed ON remediations (executed_at)
  WHERE status = 'executed' AND assessed_at IS NULL;

-- An object being changed (or stabilising after a change) by one remediation.
CREATE TABLE remediation_locks (
  cluster        text NOT NULL,
  target_key     text NOT NULL,
  remediation_id text NOT NULL,
  locked_until   timestamptz NOT NULL,
  PRIMARY KEY (cluster, target_key)
);

CREATE TABLE settings (
  name  text PRIMARY KEY,
  value text NOT NULL
);
`,
  },
  {
    version: 5,
    name: "notifications of remediations",
    sql: `
-- incident-notify also tells people about remediations: one message per remediation, status and
-- channel (phase 'remediation.proposed', …). Rows of migration 3 keep remediation_id ''.
ALTER TABLE notifications_sent DROP CONSTRAINT notifications_sent_phase_check;
ALTER TABLE notifications_sent ADD CONSTRAINT notifications_sent_phase_check CHECK (
  phase IN ('firing', 'resolved', 'remediation.proposed', 'remediation.executed',
            'remediation.failed', 'remediation.blocked'));
ALTER TABLE notifications_sent ADD COLUMN remediation_id text NOT NULL DEFAULT '';
ALTER TABLE notifications_sent DROP CONSTRAINT notifications_sent_pkey;
ALTER TABLE notifications_sent ADD PRIMARY KEY (incident_id, phase, channel, remediation_id);
`,
  },
  {
    version: 6,
    name: "slo state",
    sql: `
-- slo-check: one row per SLO and cluster with what must survive between invocations: the phase,
-- the alerts it raised (their startsAt, so a firing alert keeps its identity), violation counts,
-- the deploy freezes it put in place (so it removes exactly those) and the last evaluation.
CREATE TABLE slo_state (
  cluster          text NOT NULL,
  slo_id           text NOT NULL,
  phase            text NOT NULL CHECK (phase IN ('Monitoring', 'Violated', 'Remediating', 'Resolved')),
  firing           jsonb NOT NULL DEFAULT '{}'::jsonb,
  violation_count  integer NOT NULL DEFAULT 0,
  last_violated    timestamptz,
  resolved_at      timestamptz,
  frozen           jsonb NOT NULL DEFAULT '[]'::jsonb,
  chaos_at         timestamptz,
  evaluation       jsonb,
  evaluated_at     timestamptz,
  PRIMARY KEY (cluster, slo_id)
);
`,
  },
  {
    version: 7,
    name: "forecast and anomaly state",
    sql: `
-- forecast-scaling: one row per PredictiveScale and cluster: the buffer it provisioned, when it
-- last changed (hysteresis, cooldown), the forecasts it made (scored later against what happened).
CREATE TABLE forecast_state (
  cluster      text NOT NULL,
  scale_key    text NOT NULL,
  state        jsonb NOT NULL,
  updated_at   timestamptz NOT NULL,
  PRIMARY KEY (cluster, scale_key)
);
-- anomaly-trigger: one row per AnomalyAction, series and cluster: the streaming detector's state,
-- so a cold start does not forget what it learned, and the last sample it saw (no point twice).
CREATE TABLE anomaly_state (
  cluster      text NOT NULL,
  action_key   text NOT NULL,
  series_key   text NOT NULL,
  state        jsonb NOT NULL,
  last_sample  timestamptz,
  last_alarm   timestamptz,
  updated_at   timestamptz NOT NULL,
  PRIMARY KEY (cluster, action_key, series_key)
);
`,
  },
  {
    version: 8,
    name: "alert grouping",
    sql: `
-- alert-intake groups the alerts of one incident (docs/decisions/0009): the incident keeps the key
-- it groups by, and every alert instance it holds is a member row, so a repeat or a resolution
-- finds its incident and the incident resolves when its last member does. Incidents recorded
-- before grouping keep a NULL key (nothing joins them) and get their one alert as a member.
ALTER TABLE incidents ADD COLUMN group_key text;
CREATE INDEX incidents_group_open ON incidents (cluster, group_key) WHERE status = 'firing';

CREATE TABLE incident_alerts (
  incident_id text NOT NULL REFERENCES incidents (id),
  cluster     text NOT NULL,
  fingerprint text NOT NULL,
  starts_at   timestamptz NOT NULL,
  alertname   text NOT NULL,
  severity    text NOT NULL,
  labels      jsonb NOT NULL,
  status      text NOT NULL CHECK (status IN ('firing', 'resolved')),
  resolved_at timestamptz,
  added_at    timestamptz NOT NULL,
  PRIMARY KEY (incident_id, fingerprint, starts_at),
  -- An alert instance belongs to one incident.
  UNIQUE (cluster, fingerprint, starts_at)
);

INSERT INTO incident_alerts (incident_id, cluster, fingerprint, starts_at, alertname, severity, labels,
  status, resolved_at, added_at)
SELECT id, cluster, fingerprint, starts_at, alertname, severity, labels, status, resolved_at, opened_at
  FROM incidents;
`,
  },
  {
    version: 9,
    name: "flow baselines and detections",
    sql: `
-- hubble-quarantine (shared/flows/): the learned service map of each cluster (the Baseline's JSON,
-- bounded by its caps) with the read cursor of the pulled flow source, and every detection key it
-- announced (repeats are counted on the row; the evidence flows are kept for the incident).
CREATE TABLE flow_baselines (
  cluster     text PRIMARY KEY,
  baseline    jsonb NOT NULL,
  cursor      text,
  updated_at  timestamptz NOT NULL
);

CREATE TABLE flow_detections (
  cluster        text NOT NULL,
  key            text NOT NULL,
  detector       text NOT NULL,
  identity       text NOT NULL,
  namespace      text,
  pod            text,
  score          double precision NOT NULL,
  message        text NOT NULL,
  evidence       jsonb NOT NULL,
  count          integer NOT NULL,
  first_seen     timestamptz NOT NULL,
  last_seen      timestamptz NOT NULL,
  announced_at   timestamptz NOT NULL,
  proposed       boolean NOT NULL,
  PRIMARY KEY (cluster, key)
);
CREATE INDEX flow_detections_recent ON flow_detections (cluster, last_seen DESC);
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
