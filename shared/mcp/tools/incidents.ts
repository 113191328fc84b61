// Clusters and incidents, from the store: what is firing, and everything known about one incident
// (its alerts, the diagnosis and its findings, the remediations decided for it).
import { z } from "zod";
import { clusterHealth } from "../../clusters/health.js";
import type { Finding } from "../../diagnosis/finding.js";
import { diagnosesOfIncident, findingRows, type StoredDiagnosis } from "../../diagnosis/store.js";
import { ProphetError } from "../../errors.js";
import type { Sql } from "../../ports/store.js";
import { listRemediations, type Remediation } from "../../remediation/store.js";
import { getIncident, listIncidentAlerts, listIncidents, type Incident } from "../../store/incidents.js";
import { checkAccess, rowFilter, servedClusters, type ToolContext } from "../context.js";
import { clusterArg, defineTool } from "./tool.js";

export const incidentIdArg = z.string().min(1).max(100).describe("an incident id from list_incidents");

export const listClusters = defineTool({
  name: "list_clusters",
  description:
    "The clusters this deployment serves that your token may use, each with its health from the store: firing incidents, proposals waiting, SLO budgets, capacity buffers, network detections.",
  input: z.strictObject({}),
  async run(ctx) {
    const clusters = servedClusters(ctx.deps);
    const allowed = rowFilter(ctx, undefined);
    const health = await clusterHealth(ctx.deps.store, { clusters, now: ctx.deps.clock.now() });
    return {
      default: ctx.deps.cluster,
      items: health.filter((h) => allowed(h.cluster)),
    };
  },
});

export const listIncidentsTool = defineTool({
  name: "list_incidents",
  description: "Incidents (groups of related alerts), newest first, optionally only firing or resolved ones.",
  input: z.strictObject({
    cluster: clusterArg,
    status: z.enum(["firing", "resolved"]).optional(),
    namespace: z.string().max(253).optional(),
    limit: z.number().int().min(1).max(200).default(50),
  }),
  async run(ctx, args) {
    const keep = rowFilter(ctx, args.cluster);
    const rows = await listIncidents(ctx.deps.store, {
      ...(args.status ? { status: args.status } : {}),
      limit: 1000,
    });
    const items = rows
      .filter((i) => keep(i.cluster) && (!args.namespace || i.namespace === args.namespace))
      .slice(0, args.limit)
      .map(incidentSummary);
    return { count: items.length, items };
  },
});

function incidentSummary(i: Incident) {
  return {
    id: i.id,
    cluster: i.cluster,
    status: i.status,
    severity: i.severity,
    alertname: i.alertname,
    alertnames: i.alertnames,
    alerts: i.alerts,
    namespace: i.namespace,
    target: i.target,
    summary: i.summary,
    openedAt: i.openedAt,
    resolvedAt: i.resolvedAt,
  };
}

/** The latest diagnosis of an incident and its findings (with evidence and owners). */
export async function diagnosisOf(
  db: Sql,
  incidentId: string,
): Promise<{ diagnosis: StoredDiagnosis | null; findings: (Finding & { rootCause: boolean })[] }> {
  const [diagnosis] = await diagnosesOfIncident(db, incidentId, { latest: true });
  if (!diagnosis) return { diagnosis: null, findings: [] };
  const rows = await findingRows(db, { diagnosisId: diagnosis.id });
  return {
    diagnosis,
    findings: rows.map((r) => ({
      kind: r.kind,
      namespace: r.namespace,
      name: r.name,
      reason: r.reason,
      message: r.message,
      ...(r.parent ? { parent: r.parent } : {}),
      evidence: r.evidence,
      rootCause: r.rootCause,
    })),
  };
}

/** The incident, refused when it belongs to a cluster outside the caller's. */
export async function readableIncident(ctx: ToolContext, id: string, cluster?: string): Promise<Incident> {
  const incident = await getIncident(ctx.deps.store, id);
  if (!incident)
    throw new ProphetError("not_found", `no incident ${id}`, [{ path: "incidentId", message: "unknown" }]);
  checkAccess(ctx, incident.cluster);
  if (cluster !== undefined && cluster !== incident.cluster)
    throw new ProphetError(
      "bad_request",
      `incident ${id} belongs to cluster ${incident.cluster}, not ${cluster}`,
      [{ path: "cluster", message: "not the incident's cluster" }],
    );
  return incident;
}

export function remediationSummary(r: Remediation) {
  return {
    id: r.id,
    cluster: r.cluster,
    incidentId: r.incidentId,
    status: r.status,
    action: r.action,
    target: r.target,
    params: r.params,
    decider: r.decider,
    confidence: r.confidence,
    mode: r.mode,
    policy: r.policyId,
    reason: r.reason,
    gate: { verdict: r.gate.verdict, detail: r.gate.detail, approvalReasons: r.gate.approvalReasons },
    rationale: r.decision.action?.rationale ?? null,
    expiresAt: r.expiresAt,
    decidedBy: r.decidedBy,
    createdAt: r.createdAt,
    executedAt: r.executedAt,
    score: r.score,
  };
}

export async function incidentDetail(ctx: ToolContext, id: string, cluster?: string) {
  const incident = await readableIncident(ctx, id, cluster);
  const [alerts, diag, remediations] = await Promise.all([
    listIncidentAlerts(ctx.deps.store, id),
    diagnosisOf(ctx.deps.store, id),
    listRemediations(ctx.deps.store, { incidentId: id, limit: 50 }),
  ]);
  return {
    incident: { ...incidentSummary(incident), labels: incident.labels, lastSeenAt: incident.lastSeenAt },
    alerts,
    diagnosis: diag.diagnosis,
    findings: diag.findings,
    remediations: remediations.map(remediationSummary),
  };
}

export const getIncidentTool = defineTool({
  name: "get_incident",
  description:
    "One incident with its alerts, its diagnosis (root cause, summary), the findings with their evidence, and the remediations decided for it.",
  input: z.strictObject({ cluster: clusterArg, incidentId: incidentIdArg }),
  async run(ctx, args) {
    return incidentDetail(ctx, args.incidentId, args.cluster);
  },
});

/** The findings of an incident (the resource prophet://incidents/{id}/findings). */
export async function incidentFindings(ctx: ToolContext, id: string) {
  await readableIncident(ctx, id);
  const d = await diagnosisOf(ctx.deps.store, id);
  return { incidentId: id, diagnosis: d.diagnosis, findings: d.findings };
}
