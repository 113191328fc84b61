// incident-notify: tells people about an incident once it is diagnosed (firing) and once it
// resolves, one message per incident and phase on each configured channel (Slack, a JSON
// webhook), and about its remediations: proposed (with the approval link), executed, failed and
// blocked (routine blocks excepted), one message per remediation and status. A channel's "sent" row is written only after it accepted the message; a failed
// channel makes the handler throw a retryable error, and the retry skips channels already done.
// With no channel configured it does nothing at all.
import {
  DiagnosisCompleted,
  IncidentResolved,
  isEvent,
  RemediationBlocked,
  RemediationExecuted,
  RemediationFailed,
  RemediationProposed,
} from "../../shared/events/catalog.js";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import { ProphetError } from "../../shared/errors.js";
import { defineFunction, type Deps } from "../../shared/function.js";
import {
  firingNotice,
  remediationNotice,
  remediationWorthNotice,
  resolvedNotice,
} from "../../shared/notify/notice.js";
import { markSent, wasSent, type SentKey } from "../../shared/notify/sent.js";
import {
  NotifyError,
  type IncidentNotice,
  type NoticeRemediationStatus,
  type Notifier,
} from "../../shared/ports/notify.js";
import { appendAudit } from "../../shared/store/audit.js";
import { getIncident } from "../../shared/store/incidents.js";

const name = "incident-notify";

const remediationEvents = [
  [RemediationProposed, "proposed"],
  [RemediationExecuted, "executed"],
  [RemediationFailed, "failed"],
  [RemediationBlocked, "blocked"],
] as const satisfies readonly (readonly [unknown, NoticeRemediationStatus])[];

async function noticeOf(event: ProphetEvent, deps: Deps): Promise<IncidentNotice | undefined> {
  const cluster = event.cluster ?? deps.cluster;
  const at = deps.clock.now();
  if (isEvent(event, DiagnosisCompleted)) {
    const incident = await getIncident(deps.store, event.data.incidentId);
    return firingNotice(event.data, {
      cluster,
      at,
      subject: incident?.subject ?? event.subject ?? event.data.alertname,
      severity: incident?.severity ?? "unknown",
    });
  }
  if (isEvent(event, IncidentResolved))
    return resolvedNotice(event.data, { cluster, at, subject: event.subject ?? event.data.alertname });
  for (const [definition, status] of remediationEvents) {
    if (!isEvent(event, definition)) continue;
    if (!remediationWorthNotice(status, event.data)) return undefined;
    const incident = await getIncident(deps.store, event.data.incidentId);
    return remediationNotice(event.data, status, {
      cluster,
      at,
      subject: incident?.subject ?? event.subject ?? event.data.incidentId,
      alertname: incident?.alertname ?? "remediation",
      severity: incident?.severity ?? "unknown",
    });
  }
  return undefined;
}

/** The dedupe key of a notice on one channel: a remediation's message is per remediation and status. */
function sentKey(notice: IncidentNotice, channel: string): SentKey {
  const r = notice.remediation;
  if (notice.phase !== "remediation" || !r)
    return {
      incidentId: notice.incidentId,
      phase: notice.phase === "resolved" ? "resolved" : "firing",
      channel,
    };
  return { incidentId: notice.incidentId, phase: `remediation.${r.status}`, channel, remediationId: r.id };
}

/** Sends on one channel unless already done; returns what happened, throws the channel's error. */
async function sendOnce(
  notifier: Notifier,
  notice: IncidentNotice,
  event: ProphetEvent,
  deps: Deps,
): Promise<"sent" | "already_sent" | "superseded"> {
  const key = sentKey(notice, notifier.channel);
  if (await wasSent(deps.store, key)) return "already_sent";
  // A diagnosis that arrives after the resolution was announced would read as a new outage.
  if (key.phase === "firing" && (await wasSent(deps.store, { ...key, phase: "resolved" })))
    return "superseded";
  await notifier.send(notice);
  const at = deps.clock.now();
  await deps.store.transaction(async (tx) => {
    if (!(await markSent(tx, { ...key, cluster: notice.cluster, eventId: event.id, at }))) return;
    await appendAudit(tx, {
      at,
      cluster: notice.cluster,
      actor: `function:${name}`,
      action: `notification.${key.phase}`,
      subject: notice.subject,
      // Never the approval URL: its token is a credential.
      details: {
        eventId: event.id,
        incidentId: notice.incidentId,
        channel: notifier.channel,
        phase: key.phase,
        rootCause: notice.rootCause ? notice.rootCause.reason : null,
        ...(key.remediationId
          ? { remediationId: key.remediationId, remediationAction: notice.remediation?.action ?? null }
          : {}),
      },
      dedupeKey: key.remediationId
        ? `${name}:${notice.incidentId}:${key.phase}:${key.remediationId}:${notifier.channel}`
        : `${name}:${notice.incidentId}:${key.phase}:${notifier.channel}`,
    });
  });
  return "sent";
}

export const incidentNotify = defineFunction({
  name,
  description:
    "Notifies Slack and/or a JSON webhook once per incident when it is diagnosed and when it resolves, and once per remediation proposed (with the approval link), executed, failed or blocked.",
  accepts: [
    DiagnosisCompleted.type,
    IncidentResolved.type,
    RemediationProposed.type,
    RemediationExecuted.type,
    RemediationFailed.type,
    RemediationBlocked.type,
  ],
  emits: [],
  async handle(event, deps): Promise<ProphetEvent[]> {
    const notifiers = deps.notify ?? [];
    if (notifiers.length === 0) return [];
    const notice = await noticeOf(event, deps);
    if (!notice) return [];
    const failed: NotifyError[] = [];
    for (const notifier of notifiers) {
      // The approval URL stays out of log lines: its token is a credential.
      const log = {
        incident: notice.incidentId,
        phase: notice.phase,
        channel: notifier.channel,
        ...(notice.remediation
          ? { remediation: notice.remediation.id, status: notice.remediation.status }
          : {}),
      };
      try {
        const outcome = await sendOnce(notifier, notice, event, deps);
        deps.log.info({ ...log, outcome }, `notification ${notice.phase}: ${outcome}`);
      } catch (err) {
        if (!(err instanceof NotifyError)) throw err;
        deps.log.warn({ ...log, code: err.code, reason: err.message }, "notification failed");
        failed.push(err);
      }
    }
    if (failed.length === 0) return [];
    // 5xx: the platform (or the local bus) redelivers, and the channels already done are skipped.
    throw new ProphetError(
      "delivery_failed",
      `notification for incident ${notice.incidentId} (${notice.phase}) failed: ${failed.map((e) => e.message).join("; ")}`,
      failed.map((e) => ({ path: e.channel, message: e.message })),
    );
  },
});
