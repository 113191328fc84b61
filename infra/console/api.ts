// The console's read API (GET only, JSON), beside the host's /api:
//   /api/console/incidents/<id>   the incident, its diagnoses with findings and evidence, its
//                                 remediations and the audit trail from alert to assessment
//   /api/console/slos             what slo-check last evaluated per SLO (slo_state)
//   /api/console/forecasts        forecast-scaling's state (buffer, scored forecasts) and a fresh
//                                 forecast of a PromQL series (?promql=&history=&step=&horizon=)
//   /api/console/network          the learned service map, recent flow detections, quarantined pods
//   /api/console/audit            the audit log, filtered (?actor=&action=&subject=&q=&limit=)
import { Baseline } from "../../shared/flows/baseline.js";
import { serviceGraph } from "../../shared/flows/export.js";
import { quarantinedPods, REMEDIATION_ID } from "../../shared/flows/release.js";
import { QUARANTINE_EXPIRES } from "../../shared/remediation/actions/quarantine-pod.js";
import { parseDuration } from "../../shared/duration.js";
import { ProphetError } from "../../shared/errors.js";
import { diagnosesOfIncident, findingRows } from "../../shared/diagnosis/store.js";
import { forecastSeries } from "../../shared/forecast/engine.js";
import type { Deps } from "../../shared/function.js";
import { listRemediations } from "../../shared/remediation/store.js";
import { listSloStates } from "../../shared/slo/state.js";
import { serverNow } from "../../shared/slo/evaluate.js";
import { getIncident } from "../../shared/store/incidents.js";
import { jsonReply, type HttpReply } from "../runtime/http.js";
import { summary } from "../local/approvals.js";

/** The series the forecasts page shows until the user asks for another. */
export const defaultForecastQuery = "sum(rate(http_requests_total[5m]))";

const limits = { maxPoints: 1_000, maxHorizon: 300, maxRangeSeconds: 7 * 86_400 };

const num = (v: number | undefined): number | null =>
  v !== undefined && Number.isFinite(v) ? Math.round(v * 1e4) / 1e4 : null;

async function incidentDetail(deps: Deps, id: string) {
  const incident = await getIncident(deps.store, id);
  if (!incident) throw new ProphetError("not_found", `no incident ${id}`);
  const diagnoses = await diagnosesOfIncident(deps.store, id);
  const findings = await findingRows(deps.store, { incidentId: id });
  const remediations = await listRemediations(deps.store, { incidentId: id, limit: 50 });
  const audit = await deps.store.query<{
    seq: number | string;
    at: Date | string;
    actor: string;
    action: string;
    subject: string;
    details: Record<string, unknown>;
  }>(
    `SELECT seq, at, actor, action, subject, details FROM audit_log
      WHERE details->>'incidentId' = $1 OR details->>'remediationId' = ANY($2::text[])
      ORDER BY seq LIMIT 500`,
    [id, remediations.map((r) => r.id)],
  );
  return {
    incident,
    diagnoses: diagnoses.map((d) => ({
      id: d.id,
      status: d.status,
      summary: d.summary,
      rootCause: d.rootCause,
      createdAt: d.at.toISOString(),
      findings: findings
        .filter((f) => f.diagnosisId === d.id)
        .map((f) => ({
          kind: f.kind,
          namespace: f.namespace,
          name: f.name,
          reason: f.reason,
          message: f.message,
          parent: f.parent,
          rootCause: f.rootCause,
          evidence: f.evidence,
        })),
    })),
    remediations: remediations.map(summary),
    timeline: audit.rows.map((a) => ({
      seq: Number(a.seq),
      at: new Date(a.at).toISOString(),
      actor: a.actor,
      action: a.action,
      subject: a.subject,
      details: a.details,
    })),
  };
}

async function forecasts(deps: Deps, url: URL) {
  const { rows } = await deps.store.query<{
    cluster: string;
    scale_key: string;
    state: Record<string, unknown>;
  }>("SELECT cluster, scale_key, state FROM forecast_state ORDER BY cluster, scale_key");
  const scales = rows.map((r) => ({
    cluster: r.cluster,
    key: r.scale_key,
    buffer: r.state.buffer ?? null,
    last: r.state.last ?? null,
    scored: Array.isArray(r.state.scored) ? r.state.scored.slice(-200) : [],
  }));
  const promql = url.searchParams.get("promql") || defaultForecastQuery;
  const text = (name: string, fallback: string) => url.searchParams.get(name) || fallback;
  const history = parseDuration(text("history", "6h"));
  const step = parseDuration(text("step", "5m"));
  const horizonSeconds = parseDuration(text("horizon", "2h"));
  if (!history || !step || !horizonSeconds)
    throw new ProphetError("bad_request", "history, step and horizon are durations such as 5m, 6h or 1d");
  if (history > limits.maxRangeSeconds || history / step > limits.maxPoints)
    throw new ProphetError(
      "bad_request",
      `at most 7d of history and ${limits.maxPoints} points: raise the step`,
    );
  const horizon = Math.ceil(horizonSeconds / step);
  if (horizon > limits.maxHorizon)
    throw new ProphetError("bad_request", `horizon is ${horizon} steps; at most ${limits.maxHorizon}`);
  if (!deps.metrics) return { scales, promql, series: null, note: "no Prometheus API is configured" };
  const now = await serverNow(deps.metrics, deps.clock.now());
  const end = Math.floor(now.getTime() / 1000 / step) * step;
  let series;
  try {
    series = await deps.metrics.range(promql, new Date((end - history) * 1000), new Date(end * 1000), step);
  } catch (err) {
    throw new ProphetError("bad_request", `Prometheus refused the query: ${(err as Error).message}`);
  }
  const first = series[0];
  if (!first || first.points.length < 8)
    return { scales, promql, series: null, note: "the query returned too little data to forecast" };
  const values = first.points.map(([, v]) => v);
  const fc = forecastSeries(values, { horizon, stepSeconds: step, effort: "fast" });
  const last = first.points[first.points.length - 1]![0];
  return {
    scales,
    promql,
    stepSeconds: step,
    series: {
      labels: first.labels,
      period: fc.period,
      methods: fc.members,
      actual: first.points.map(([t, v]) => [t, num(v)]),
      forecast: fc.mean.map((m, h) => ({
        t: last + (h + 1) * step,
        mean: num(m),
        lower80: num(fc.lower80[h]),
        upper80: num(fc.upper80[h]),
        lower95: num(fc.lower95[h]),
        upper95: num(fc.upper95[h]),
      })),
    },
    ...(series.length > 1 ? { note: `${series.length - 1} more series not shown; aggregate the query` } : {}),
  };
}

async function network(deps: Deps, cluster: string) {
  const base = await deps.store.query<{ baseline: unknown; updated_at: Date | string }>(
    "SELECT baseline, updated_at FROM flow_baselines WHERE cluster = $1",
    [cluster],
  );
  const row = base.rows[0];
  const graph = row
    ? serviceGraph(
        Baseline.fromJSON(
          typeof row.baseline === "string" ? (JSON.parse(row.baseline) as unknown) : row.baseline,
        ),
      )
    : { nodes: [], edges: [] };
  const detections = await deps.store.query<{
    detector: string;
    identity: string;
    namespace: string | null;
    pod: string | null;
    score: number;
    message: string;
    evidence: Record<string, unknown>;
    count: number;
    last_seen: Date | string;
  }>(
    `SELECT detector, identity, namespace, pod, score, message, evidence, count, last_seen
       FROM flow_detections WHERE cluster = $1 ORDER BY last_seen DESC LIMIT 100`,
    [cluster],
  );
  const pods =
    cluster === deps.cluster
      ? await quarantinedPods({ deps, source: "/prophet/console", actor: "console" }).catch(() => [])
      : [];
  return {
    cluster,
    learned: row !== undefined,
    updatedAt: row ? new Date(row.updated_at).toISOString() : null,
    nodes: graph.nodes.slice(0, 400),
    edges: graph.edges.slice(0, 800),
    detections: detections.rows.map((d) => ({
      detector: d.detector,
      identity: d.identity,
      namespace: d.namespace,
      pod: d.pod,
      score: d.score,
      message: d.message,
      evidence: d.evidence,
      count: d.count,
      lastSeen: new Date(d.last_seen).toISOString(),
    })),
    quarantined: pods.map((p) => ({
      namespace: p.metadata.namespace ?? "",
      pod: p.metadata.name,
      remediationId: p.metadata.annotations?.[REMEDIATION_ID] ?? null,
      expires: p.metadata.annotations?.[QUARANTINE_EXPIRES] ?? null,
    })),
  };
}

async function audit(deps: Deps, url: URL) {
  const params: unknown[] = [];
  const where: string[] = [];
  const like = (v: string) => `%${v.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  for (const col of ["actor", "action", "subject", "cluster"] as const) {
    const v = url.searchParams.get(col);
    if (v) where.push(`${col} ILIKE $${params.push(like(v))}`);
  }
  const q = url.searchParams.get("q");
  if (q) where.push(`details::text ILIKE $${params.push(like(q))}`);
  const limit = Math.min(Math.max(Number(url.searchParams.get("limit") ?? 200) || 200, 1), 1000);
  const { rows } = await deps.store.query<{
    seq: number | string;
    at: Date | string;
    cluster: string;
    actor: string;
    action: string;
    subject: string;
    details: Record<string, unknown>;
    hash: string;
  }>(
    `SELECT seq, at, cluster, actor, action, subject, details, hash FROM audit_log
      ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY seq DESC LIMIT $${params.push(limit)}`,
    params,
  );
  return {
    items: rows.map((r) => ({ ...r, seq: Number(r.seq), at: new Date(r.at).toISOString() })),
  };
}

/** The console's read routes; undefined for any other request. */
export function consoleApi(deps: Deps) {
  return async function handle(method: string, url: URL): Promise<HttpReply | undefined> {
    if (method !== "GET" || !url.pathname.startsWith("/api/console/")) return undefined;
    const path = url.pathname.slice("/api/console".length);
    const incident = /^\/incidents\/([^/]+)$/.exec(path);
    if (incident) return jsonReply(200, await incidentDetail(deps, decodeURIComponent(incident[1]!)));
    if (path === "/slos") {
      const states = await listSloStates(deps.store);
      return jsonReply(200, {
        items: states.map((s) => ({
          cluster: s.cluster,
          slo: s.sloId,
          phase: s.phase,
          firing: Object.keys(s.firing),
          violations: s.violationCount,
          evaluatedAt: s.evaluatedAt,
          evaluation: s.evaluation,
        })),
      });
    }
    if (path === "/forecasts") return jsonReply(200, await forecasts(deps, url));
    if (path === "/network")
      return jsonReply(200, await network(deps, url.searchParams.get("cluster") || deps.cluster));
    if (path === "/audit") return jsonReply(200, await audit(deps, url));
    throw new ProphetError("not_found", `no console route ${url.pathname}`);
  };
}
