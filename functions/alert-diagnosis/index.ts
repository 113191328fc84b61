// alert-diagnosis: an incident's alert names an object (pod, workload, node, namespace); read
// the cluster around it, run the analyzers, keep the findings that belong to the object's owner
// chain and neighbours, pick the root cause, explain it, store it and announce it. Without a
// cluster port it still answers, with a diagnosis that says no cluster is configured. With an LLM
// port, the model rewrites the explanation from the masked findings (ADR 0005), or it says why not.
// With a metrics port, the findings first get what Prometheus saw around the alert (memory against
// the limit, restarts, 5xx ratio, throttling), within a short deadline; without one, nothing changes.
import { DiagnosisCompleted, IncidentOpened, isEvent } from "../../shared/events/catalog.js";
import { makeEvent } from "../../shared/events/emit.js";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import type { DiagnosisCompletedData } from "../../shared/events/schemas/diagnosis.js";
import { defineFunction, functionSource } from "../../shared/function.js";
import type { ClusterView } from "../../shared/diagnosis/cluster-view.js";
import { diagnose } from "../../shared/diagnosis/diagnose.js";
import { explain } from "../../shared/diagnosis/explain.js";
import { explainWithLlm } from "../../shared/diagnosis/llm-explain.js";
import { readMetricEvidence } from "../../shared/diagnosis/metrics-evidence.js";
import { recentRollout } from "../../shared/diagnosis/recent-change.js";
import { inScope, scopeOf, type AlertTarget } from "../../shared/diagnosis/scope.js";
import { recordDiagnosis } from "../../shared/diagnosis/store.js";
import { listCacheFor, viewFromCluster } from "../../shared/kube/snapshot.js";
import type { LlmPort } from "../../shared/ports/llm.js";
import type { Logger } from "../../shared/ports/log.js";
import type { MetricsPort } from "../../shared/ports/metrics.js";
import { appendAudit } from "../../shared/store/audit.js";

const name = "alert-diagnosis";

type Target = DiagnosisCompletedData["target"];

function unavailable(
  incidentId: string,
  alertname: string,
  target: Target,
  summary: string,
): DiagnosisCompletedData {
  return {
    incidentId,
    alertname,
    target,
    status: "Unavailable",
    rootCause: null,
    findings: [],
    explanation: {
      summary,
      nextSteps: ["give alert-diagnosis a cluster (KUBECONFIG or in-cluster credentials) it can read"],
      explainer: "rule-based",
    },
    scope: { basis: "none", objects: 0 },
    durationMs: 0,
  };
}

/** The findings about the alert's object and its neighbours, with the root cause explained. */
export function diagnoseIncident(
  view: ClusterView,
  incidentId: string,
  alertname: string,
  target: Target,
  startsAt?: string,
): DiagnosisCompletedData {
  const scope = scopeOf(view, target);
  const findings = inScope(diagnose(view), scope);
  // Nothing wrong in the objects' state: a rollout just before the alert is the likely change.
  if (findings.length === 0) {
    const change = recentRollout(view, target, startsAt);
    if (change) findings.push(change);
  }
  const ex = explain(findings);
  const missing = scope.missing ? `The alert names ${scope.missing}, which the cluster does not have. ` : "";
  const summary =
    scope.basis === "none"
      ? `${missing}The alert names no namespace, object or node, so nothing was analysed.`
      : `${missing}${ex.summary}`;
  return {
    incidentId,
    alertname,
    target,
    status: findings.length > 0 ? "ProblemDetected" : "OK",
    rootCause: ex.rootCause ?? null,
    findings,
    explanation: { summary, nextSteps: ex.nextSteps, explainer: "rule-based" },
    scope: {
      basis: scope.basis,
      objects: scope.objects.size,
      ...(scope.missing ? { missing: scope.missing } : {}),
    },
    durationMs: 0,
  };
}

/** Services in the alert's scope: whose request metrics speak for a rollout. */
function servicesInScope(view: ClusterView, target: AlertTarget): { namespace: string; name: string }[] {
  return [...scopeOf(view, target).objects]
    .filter((k) => k.startsWith("Service/"))
    .map((k) => {
      const [, namespace = "", name = ""] = k.split("/");
      return { namespace, name };
    });
}

/**
 * With a metrics port, the findings get their metric readings; a failed or late query leaves the
 * findings as they were and a note on the diagnosis.
 */
async function withMetricEvidence(
  data: DiagnosisCompletedData,
  view: ClusterView,
  metrics: MetricsPort,
  at: { startsAt?: string | undefined; now: Date },
  log: Logger,
): Promise<void> {
  if (data.findings.length === 0) return;
  const rootCause = data.rootCause ? data.findings.indexOf(data.rootCause) : -1;
  const startsAt = at.startsAt ? new Date(at.startsAt) : undefined;
  const ev = await readMetricEvidence(metrics, {
    findings: data.findings,
    ...(startsAt && !Number.isNaN(startsAt.getTime()) ? { alertStartsAt: startsAt } : {}),
    now: at.now,
    services: servicesInScope(view, data.target),
  });
  if (ev.queries === 0) return;
  data.findings = ev.findings;
  if (rootCause >= 0) data.rootCause = ev.findings[rootCause]!;
  data.metricEvidence = {
    source: metrics.name,
    queries: ev.queries,
    readings: ev.readings,
    durationMs: ev.durationMs,
    ...(ev.note ? { note: ev.note } : {}),
  };
  if (ev.note)
    log.warn(
      { incident: data.incidentId, metrics: metrics.name, note: ev.note },
      "metric evidence incomplete",
    );
}

/**
 * With an LLM configured, its grounded explanation replaces the rule-based text; on any failure
 * the rule-based text stays and the diagnosis records why.
 */
async function withLlmExplanation(data: DiagnosisCompletedData, llm: LlmPort, log: Logger): Promise<void> {
  if (data.status !== "ProblemDetected" || !data.rootCause) return;
  const rootCause = data.findings.indexOf(data.rootCause);
  const missing = data.scope.missing
    ? `The alert names ${data.scope.missing}, which the cluster does not have. `
    : "";
  const ex = await explainWithLlm(llm, {
    alertname: data.alertname,
    target: data.target,
    findings: data.findings,
    rootCause: rootCause < 0 ? 0 : rootCause,
    ruleBased: { summary: data.explanation.summary, nextSteps: data.explanation.nextSteps },
  });
  if (ex.fallback) {
    log.warn(
      { incident: data.incidentId, model: llm.model, reason: ex.fallback },
      "LLM explanation not used",
    );
    data.explanation = { ...data.explanation, explainer: "rule-based", fallback: ex.fallback };
    return;
  }
  data.explanation = { ...ex, summary: `${missing}${ex.summary}` };
}

const source = functionSource(name);

export const alertDiagnosis = defineFunction({
  name,
  description:
    "Diagnoses the Kubernetes object behind an incident's alert: root cause, findings, explanation.",
  accepts: [IncidentOpened.type],
  emits: [DiagnosisCompleted.type],
  async handle(event, deps): Promise<ProphetEvent[]> {
    if (!isEvent(event, IncidentOpened)) return [];
    const incident = event.data;
    const t = incident.target;
    const cluster = event.cluster ?? deps.cluster;
    const started = performance.now();
    let view: ClusterView | undefined;
    let unreadable: string | undefined;
    if (deps.kube) {
      try {
        view = await viewFromCluster(deps.kube, {
          ...(t.namespace ? { namespace: t.namespace } : {}),
          target: { kind: t.kind, name: t.name },
          cache: listCacheFor(deps.kube, deps.clock),
        });
      } catch (err) {
        // An unreachable or forbidding API still gets a diagnosis that says so, rather than
        // retries that cannot succeed.
        deps.log.warn({ err, cluster }, "cluster read failed");
        unreadable = (err as Error).message;
      }
    }
    const data = view
      ? diagnoseIncident(view, incident.incidentId, incident.alertname, t, incident.startsAt)
      : unavailable(
          incident.incidentId,
          incident.alertname,
          t,
          unreadable
            ? `The Kubernetes API of ${cluster} could not be read (${unreadable}), so the objects behind ${incident.alertname} were not analysed.`
            : `No Kubernetes cluster is configured for ${cluster}, so the objects behind ${incident.alertname} were not analysed.`,
        );
    if (view && deps.metrics)
      await withMetricEvidence(
        data,
        view,
        deps.metrics,
        { startsAt: incident.startsAt, now: deps.clock.now() },
        deps.log,
      );
    if (deps.llm) await withLlmExplanation(data, deps.llm, deps.log);
    data.durationMs = Math.round((performance.now() - started) * 100) / 100;
    const now = deps.clock.now();
    const out = makeEvent(DiagnosisCompleted, data, {
      cause: event,
      source,
      subject: event.subject ?? incident.alertname,
      time: now,
    });
    await deps.store.transaction(async (tx) => {
      await recordDiagnosis(tx, {
        id: out.id,
        incidentId: incident.incidentId,
        cluster,
        status: data.status,
        summary: data.explanation.summary,
        rootCause: data.rootCause,
        findings: data.findings,
        at: now,
      });
      await appendAudit(tx, {
        at: now,
        cluster,
        actor: `function:${name}`,
        action: "diagnosis.completed",
        subject: out.subject ?? incident.alertname,
        details: {
          eventId: event.id,
          incidentId: incident.incidentId,
          diagnosisId: out.id,
          status: data.status,
          findings: data.findings.length,
          explainer: data.explanation.explainer,
          rootCause: data.rootCause
            ? {
                kind: data.rootCause.kind,
                namespace: data.rootCause.namespace,
                name: data.rootCause.name,
                reason: data.rootCause.reason,
              }
            : null,
        },
        dedupeKey: `${name}:${event.source}:${event.id}`,
      });
    });
    deps.log.info(
      { incident: incident.incidentId, status: data.status, findings: data.findings.length, cluster },
      `diagnosis ${data.status}`,
    );
    return [out];
  },
});
