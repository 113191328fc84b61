// What a notification says, built from a diagnosis or a resolution. Only the findings' kind,
// name, reason and message go out — never their evidence (events, log lines) — and every string
// passes the same credential scrubber as LLM prompts, so Secret data cannot reach a channel even
// if an analyzer's message quoted one.
import type { Finding } from "../diagnosis/finding.js";
import type { DiagnosisCompletedData } from "../events/schemas/diagnosis.js";
import type { IncidentEventData } from "../events/schemas/incident.js";
import type { RemediationEventData } from "../events/schemas/remediation.js";
import { scrubSecrets } from "../llm/masking.js";
import type { IncidentNotice, NoticeFinding, NoticeRemediationStatus } from "../ports/notify.js";

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

/**
 * Blocks nobody needs to hear about: nothing to do, another remediation of the same owner is
 * already under way, or the owner was remediated moments ago.
 */
export const quietBlockReasons: readonly string[] = ["no_action", "duplicate_in_progress", "cooldown"];

/** Whether a remediation event is worth a message (a routine block is not). */
export function remediationWorthNotice(status: NoticeRemediationStatus, d: RemediationEventData): boolean {
  return status !== "blocked" || !quietBlockReasons.includes(d.reason ?? "");
}

export function remediationNotice(
  d: RemediationEventData,
  status: NoticeRemediationStatus,
  ctx: NoticeContext & { alertname: string },
): IncidentNotice {
  const t = d.target;
  return {
    incidentId: d.incidentId,
    phase: "remediation",
    cluster: ctx.cluster,
    subject: ctx.subject,
    alertname: ctx.alertname,
    severity: ctx.severity,
    summary: scrubSecrets(d.rootCause),
    rootCause: null,
    findings: [],
    nextSteps: [],
    at: ctx.at.toISOString(),
    remediation: {
      id: d.remediationId,
      action: d.action,
      target: t ? `${t.kind} ${t.namespace ? `${t.namespace}/` : ""}${t.name}` : "",
      status,
      reason: d.reason,
      detail: scrubSecrets(d.detail),
      reasons: (d.approval?.reasons ?? []).map(scrubSecrets),
      changes: (d.changes ?? []).map(scrubSecrets),
      // Not scrubbed: the token in the link is the point of the message (and looks like a secret).
      ...(status === "proposed" && d.approval?.url ? { approvalUrl: d.approval.url } : {}),
      ...(status === "proposed" && d.approval ? { expiresAt: d.approval.expiresAt } : {}),
    },
  };
}

function sameFinding(a: Finding, b: Finding | null): boolean {
  return (
    !!b && a.kind === b.kind && a.namespace === b.namespace && a.name === b.name && a.reason === b.reason
  );
}
