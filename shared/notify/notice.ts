// What a notification says, built from a diagnosis or a resolution. Only the findings' kind,
// name, reason and message go out — never their evidence (events, log lines) — and every string
// passes the same credential scrubber as LLM prompts, so Secret data cannot reach a channel even
// if an analyzer's message quoted one.
import type { Finding } from "../diagnosis/finding.js";
import type { DiagnosisCompletedData } from "../events/schemas/diagnosis.js";
import type { IncidentEventData } from "../events/schemas/incident.js";
import { scrubSecrets } from "../llm/masking.js";
import type { IncidentNotice, NoticeFinding } from "../ports/notify.js";

const maxFindings = 5;

function noticeFinding(f: Finding): NoticeFinding {
  return {
    kind: f.kind,
    namespace: f.namespace,
    name: f.name,
    reason: f.reason,
    message: scrubSecrets(f.message),
  };
}

export interface NoticeContext {
  cluster: string;
  subject: string;
  severity: string;
  at: Date;
}

export function firingNotice(d: DiagnosisCompletedData, ctx: NoticeContext): IncidentNotice {
  const rest = d.findings.filter((f) => f !== d.rootCause && !sameFinding(f, d.rootCause));
  const top = [...(d.rootCause ? [d.rootCause] : []), ...rest].slice(0, maxFindings);
  return {
    incidentId: d.incidentId,
    phase: "firing",
    cluster: ctx.cluster,
    subject: ctx.subject,
    alertname: d.alertname,
    severity: ctx.severity,
    summary: scrubSecrets(d.explanation.summary),
    rootCause: d.rootCause ? noticeFinding(d.rootCause) : null,
    findings: top.map(noticeFinding),
    nextSteps: d.explanation.nextSteps.map(scrubSecrets),
    at: ctx.at.toISOString(),
  };
}

export function resolvedNotice(i: IncidentEventData, ctx: Omit<NoticeContext, "severity">): IncidentNotice {
  return {
    incidentId: i.incidentId,
    phase: "resolved",
    cluster: ctx.cluster,
    subject: ctx.subject,
    alertname: i.alertname,
    severity: i.severity,
    summary: scrubSecrets(`Resolved: ${i.summary || i.alertname}`),
    rootCause: null,
    findings: [],
    nextSteps: [],
    at: ctx.at.toISOString(),
  };
}

function sameFinding(a: Finding, b: Finding | null): boolean {
  return (
    !!b && a.kind === b.kind && a.namespace === b.namespace && a.name === b.name && a.reason === b.reason
  );
}
