// Slack incoming webhook with Block Kit: a header (FIRING or RESOLVED and the alert), the subject,
// severity and cluster as fields, the root cause and top findings as mrkdwn, and the incident id
// as context. Incoming webhooks cannot thread (Slack returns no message ts), so a resolution is a
// new message marked RESOLVED that carries the same incident id. A remediation notice has its own
// layout (remediationMessage): the action, its detail, and a Review button to the approval page.
import type { IncidentNotice, NoticeFinding, NoticeRemediation, Notifier } from "../ports/notify.js";
import { NotifyError } from "../ports/notify.js";
import { postJson, type PostOptions } from "./post.js";

/** Slack's limits: header text 150, section text 3000, field text 2000 characters. */
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** mrkdwn control characters, escaped as Slack asks. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const where = (f: NoticeFinding) => `${f.kind} ${f.namespace ? `${f.namespace}/` : ""}${f.name}`;

export interface SlackBlock {
  type: string;
  [key: string]: unknown;
}

export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

const remediationTitle: Record<NoticeRemediation["status"], string> = {
  proposed: "🛠️ APPROVAL NEEDED",
  executed: "✅ REMEDIATED",
  failed: "❌ REMEDIATION FAILED",
  blocked: "⛔ REMEDIATION BLOCKED",
};

const mrkdwn = (text: string) => ({ type: "mrkdwn", text: clip(text, 2000) });

/** A proposal (with its Review link), an executed change, a failure or a block. */
export function remediationMessage(n: IncidentNotice, r: NoticeRemediation): SlackMessage {
  const what = `${r.action ?? "no action"}${r.target ? ` on ${r.target}` : ""}`;
  const title = `${remediationTitle[r.status]}: ${what}`;
  const lines = [`*Action:* \`${r.action ?? "none"}\`${r.target ? ` on ${escapeMrkdwn(r.target)}` : ""}`];
  lines.push(escapeMrkdwn(r.detail));
  if (r.reasons.length) lines.push(`*Why approval:* ${escapeMrkdwn(r.reasons.join("; "))}`);
  if (r.changes.length) lines.push(`*Changes*\n${r.changes.map((c) => `• ${escapeMrkdwn(c)}`).join("\n")}`);
  if (r.expiresAt) lines.push(`_The link expires at ${r.expiresAt}._`);
  const blocks: SlackBlock[] = [
    { type: "header", text: { type: "plain_text", text: clip(title, 150), emoji: true } },
    {
      type: "section",
      fields: [
        mrkdwn(`*Subject*\n${escapeMrkdwn(n.subject)}`),
        mrkdwn(`*Severity*\n${escapeMrkdwn(n.severity || "none")}`),
        mrkdwn(`*Cluster*\n${escapeMrkdwn(n.cluster)}`),
        mrkdwn(
          `*Status*\n${r.status.toUpperCase()}${r.reason && r.status !== "proposed" ? ` (${r.reason})` : ""}`,
        ),
      ],
    },
    {
      type: "section",
      text: { type: "mrkdwn", text: clip(`*Root cause:* ${escapeMrkdwn(n.summary)}`, 3000) },
    },
    { type: "section", text: { type: "mrkdwn", text: clip(lines.join("\n"), 3000) } },
  ];
  if (r.approvalUrl && r.approvalUrl.length <= 3000) {
    blocks.push({
      type: "actions",
      elements: [
        {
          type: "button",
          text: { type: "plain_text", text: "Review", emoji: false },
          url: r.approvalUrl,
          style: "primary",
          action_id: "prophet_review",
        },
      ],
    });
  }
  blocks.push({
    type: "context",
    elements: [
      mrkdwn(`Prophet incident \`${n.incidentId}\` · remediation \`${r.id}\` · ${r.status} · ${n.at}`),
    ],
  });
  // The link is in `text` too: clients that do not render blocks still get it.
  const link = r.approvalUrl ? ` Review: <${r.approvalUrl}|approve or reject>` : "";
  return { text: `${clip(`${title} (${n.subject}) on ${n.cluster}: ${r.detail}`, 2000)}${link}`, blocks };
}

export function slackMessage(n: IncidentNotice): SlackMessage {
  if (n.phase === "remediation" && n.remediation) return remediationMessage(n, n.remediation);
  const resolved = n.phase === "resolved";
  const title = `${resolved ? "✅ RESOLVED" : "🔥 FIRING"}: ${n.alertname}`;
  const blocks: SlackBlock[] = [
    { type: "header", text: { type: "plain_text", text: clip(title, 150), emoji: true } },
    {
      type: "section",
      fields: [
        mrkdwn(`*Subject*\n${escapeMrkdwn(n.subject)}`),
        mrkdwn(`*Severity*\n${escapeMrkdwn(n.severity || "none")}`),
        mrkdwn(`*Cluster*\n${escapeMrkdwn(n.cluster)}`),
        mrkdwn(`*Status*\n${resolved ? "RESOLVED" : "FIRING"}`),
      ],
    },
    { type: "section", text: { type: "mrkdwn", text: clip(escapeMrkdwn(n.summary), 3000) } },
  ];
  if (n.rootCause) {
    const rc = n.rootCause;
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: clip(
          `*Root cause:* \`${rc.reason}\` on ${escapeMrkdwn(where(rc))}\n${escapeMrkdwn(rc.message)}`,
          3000,
        ),
      },
    });
  }
  const rootKey = n.rootCause ? `${n.rootCause.reason} ${where(n.rootCause)}` : undefined;
  const others = n.findings.filter((f) => `${f.reason} ${where(f)}` !== rootKey);
  if (others.length > 0) {
    const lines = others.map(
      (f) => `• \`${f.reason}\` ${escapeMrkdwn(where(f))}: ${escapeMrkdwn(f.message)}`,
    );
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: clip(`*Findings*\n${lines.join("\n")}`, 3000) },
    });
  }
  if (!resolved && n.nextSteps.length > 0) {
    const steps = n.nextSteps.slice(0, 5).map((s, i) => `${i + 1}. ${escapeMrkdwn(s)}`);
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: clip(`*Next steps*\n${steps.join("\n")}`, 3000) },
    });
  }
  blocks.push({
    type: "context",
    elements: [mrkdwn(`Prophet incident \`${n.incidentId}\` · ${n.phase} · ${n.at}`)],
  });
  // `text` is what notifications and screen readers show.
  return { text: clip(`${title} (${n.subject}) on ${n.cluster}: ${n.summary}`, 3000), blocks };
}

/**
 * Slack answers 200 `ok`; errors are plain-text codes (404 `no_service`, 400 `invalid_payload`,
 * 403 `action_prohibited`, 410 `channel_is_archived`, 429 with Retry-After).
 */
export function slackNotifier(webhookUrl: string, opts: PostOptions = {}): Notifier {
  const channel = "slack";
  return {
    channel,
    async send(notice) {
      const res = await postJson(channel, webhookUrl, slackMessage(notice), opts);
      if (res.body !== "ok" && res.body !== "")
        throw new NotifyError("rejected", channel, `slack answered ${res.status} ${res.body}`);
    },
  };
}
