// A generic JSON webhook: one POST per notice of the body below (version 1). Any 2xx is success;
// 429 and 5xx are retried by the pipeline, other 4xx are reported as refused.
//
//   {
//     "version": "1",
//     "type": "io.prophet.incident.notification",
//     "phase": "firing" | "resolved" | "remediation",
//     "incident": { "id", "cluster", "subject", "alertname", "severity" },
//     "summary": string,
//     "rootCause": { "kind", "namespace", "name", "reason", "message" } | null,
//     "findings": [ { "kind", "namespace", "name", "reason", "message" } ],   // at most five
//     "nextSteps": [ string ],
//     "at": ISO-8601 time,
//     "remediation": {                     // phase "remediation" only
//       "id", "action" | null, "target", "status": "proposed" | "executed" | "failed" | "blocked",
//       "reason" | null, "detail", "reasons": [ string ], "changes": [ string ],
//       "approvalUrl"?, "expiresAt"?        // proposed: the approval page (single-use token) and its expiry
//     }
//   }
// For a remediation, "summary" is the root cause the decision was based on.
import type { IncidentNotice, NoticeFinding, NoticeRemediation, Notifier } from "../ports/notify.js";
import { postJson, type PostOptions } from "./post.js";

export interface WebhookBody {
  version: "1";
  type: "io.prophet.incident.notification";
  phase: IncidentNotice["phase"];
  incident: { id: string; cluster: string; subject: string; alertname: string; severity: string };
  summary: string;
  rootCause: NoticeFinding | null;
  findings: NoticeFinding[];
  nextSteps: string[];
  at: string;
  remediation?: NoticeRemediation;
}

export function webhookBody(n: IncidentNotice): WebhookBody {
  return {
    version: "1",
    type: "io.prophet.incident.notification",
    phase: n.phase,
    incident: {
      id: n.incidentId,
      cluster: n.cluster,
      subject: n.subject,
      alertname: n.alertname,
      severity: n.severity,
    },
    summary: n.summary,
    rootCause: n.rootCause,
    findings: n.findings,
    nextSteps: n.nextSteps,
    at: n.at,
    ...(n.remediation ? { remediation: n.remediation } : {}),
  };
}

export function webhookNotifier(url: string, opts: PostOptions = {}): Notifier {
  const channel = "webhook";
  return {
    channel,
    async send(notice) {
      await postJson(channel, url, webhookBody(notice), opts);
    },
  };
}
