// The federated view: how every cluster one deployment serves is doing, from the store alone (no
// cluster is called, so a cluster that is down still shows its last state): open incidents by
// severity, remediations waiting for a human / done / failed in the last day, SLO budgets, the
// capacity buffers forecast-scaling holds, and the network detections of the last day.
import type { Sql } from "../ports/store.js";

export interface ClusterHealth {
  cluster: string;
  /** Registered in the clusters file, the deployment's default, or only seen in stored rows. */
  registered: boolean;
  incidents: { firing: number; critical: number; openedLastDay: number };
  remediations: { awaitingApproval: number; executedLastDay: number; failedLastDay: number };
  slos: { total: number; violated: number; lowestBudgetRemaining: number | null };
  capacity: { scales: number; bufferPods: number };
  network: { detectionsLastDay: number };
  /** "critical" when an incident is critical or an SLO is violated; "warning" for any firing
   * incident, a failed remediation or a proposal waiting; else "ok". */
  status: "ok" | "warning" | "critical";
}

const num = (v: unknown): number => Number(v ?? 0);

async function byCluster(
  db: Sql,
  sql: string,
  params: unknown[],
): Promise<Map<string, Record<string, unknown>>> {
  const { rows } = await db.query<Record<string, unknown> & { cluster: string }>(sql, params);
  return new Map(rows.map((r) => [r.cluster, r]));
}

export async function clusterHealth(
  db: Sql,
  opts: { clusters: readonly string[]; now: Date },
): Promise<ClusterHealth[]> {
  const dayAgo = new Date(opts.now.getTime() - 24 * 3_600_000);
  const [incidents, remediations, slos, capacity, network] = await Promise.all([
    byCluster(
      db,
      `SELECT cluster,
              count(*) FILTER (WHERE status = 'firing') AS firing,
              count(*) FILTER (WHERE status = 'firing' AND severity = 'critical') AS critical,
              count(*) FILTER (WHERE opened_at >= $1) AS opened
         FROM incidents GROUP BY cluster`,
      [dayAgo],
    ),
    byCluster(
      db,
      `SELECT cluster,
              count(*) FILTER (WHERE status = 'proposed') AS proposed,
              count(*) FILTER (WHERE status = 'executed' AND executed_at >= $1) AS executed,
              count(*) FILTER (WHERE status = 'failed' AND created_at >= $1) AS failed
         FROM remediations GROUP BY cluster`,
      [dayAgo],
    ),
    byCluster(
      db,
      `SELECT cluster, count(*) AS total,
              count(*) FILTER (WHERE phase IN ('Violated', 'Remediating')) AS violated,
              min((evaluation->>'budgetRemaining')::double precision) AS lowest
         FROM slo_state GROUP BY cluster`,
      [],
    ),
    byCluster(
      db,
      `SELECT cluster, count(*) AS scales,
              coalesce(sum((state->'buffer'->>'replicas')::int), 0) AS buffer
         FROM forecast_state GROUP BY cluster`,
      [],
    ),
    byCluster(
      db,
      `SELECT cluster, count(*) AS detections FROM flow_detections WHERE last_seen >= $1 GROUP BY cluster`,
      [dayAgo],
    ),
  ]);
  const names = new Set<string>(opts.clusters);
  for (const m of [incidents, remediations, slos, capacity, network]) for (const k of m.keys()) names.add(k);
  return [...names].sort().map((cluster) => {
    const i = incidents.get(cluster) ?? {};
    const r = remediations.get(cluster) ?? {};
    const s = slos.get(cluster) ?? {};
    const c = capacity.get(cluster) ?? {};
    const n = network.get(cluster) ?? {};
    const h: Omit<ClusterHealth, "status"> = {
      cluster,
      registered: opts.clusters.includes(cluster),
      incidents: { firing: num(i.firing), critical: num(i.critical), openedLastDay: num(i.opened) },
      remediations: {
        awaitingApproval: num(r.proposed),
        executedLastDay: num(r.executed),
        failedLastDay: num(r.failed),
      },
      slos: {
        total: num(s.total),
        violated: num(s.violated),
        lowestBudgetRemaining: s.lowest === null || s.lowest === undefined ? null : Number(s.lowest),
      },
      capacity: { scales: num(c.scales), bufferPods: num(c.buffer) },
      network: { detectionsLastDay: num(n.detections) },
    };
    const status =
      h.incidents.critical > 0 || h.slos.violated > 0
        ? "critical"
        : h.incidents.firing > 0 || h.remediations.failedLastDay > 0 || h.remediations.awaitingApproval > 0
          ? "warning"
          : "ok";
    return { ...h, status };
  });
}
