// incident-notify: tells people about an incident once it is diagnosed (firing) and once it
// resolves, one message per incident and phase on each configured channel (Slack, a JSON
// webhook). A channel's "sent" row is written only after it accepted the message; a failed
// channel makes the handler throw a retryable error, and the retry skips channels already done.
// With no channel configured it does nothing at all.
import { DiagnosisCompleted, IncidentResolved, isEvent } from "../../shared/events/catalog.js";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import { ProphetError } from "../../shared/errors.js";
import { defineFunction, type Deps } from "../../shared/function.js";
import { firingNotice, resolvedNotice } from "../../shared/notify/notice.js";
import { markSent, wasSent } from "../../shared/notify/sent.js";
import { NotifyError, type IncidentNotice, type Notifier } from "../../shared/ports/notify.js";
import { appendAudit } from "../../shared/store/audit.js";
import { getIncident } from "../../shared/store/incidents.js";

const name = "incident-notify";

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
  return undefined;
}

/** Sends on one channel unless already done; returns what happened, throws the channel's error. */
async function sendOnce(
  notifier: Notifier,
  notice: IncidentNotice,
  event: ProphetEvent,
  deps: Deps,
): Promise<"sent" | "already_sent" | "superseded"> {
  const key = { incidentId: notice.incidentId, phase: notice.phase, channel: notifier.channel };
  if (await wasSent(deps.store, key)) return "already_sent";
  // A diagnosis that arrives after the resolution was announced would read as a new outage.
  if (notice.phase === "firing" && (await wasSent(deps.store, { ...key, phase: "resolved" })))
    return "superseded";
  await notifier.send(notice);
  const at = deps.clock.now();
  await deps.store.transaction(async (tx) => {
    if (!(await markSent(tx, { ...key, cluster: notice.cluster, eventId: event.id, at }))) return;
    await appendAudit(tx, {
      at,
      cluster: notice.cluster,
      actor: `function:${name}`,
      action: `notification.${notice.phase}`,
      subject: notice.subject,
      details: {
        eventId: event.id,
        incidentId: notice.incidentId,
        channel: notifier.channel,
        phase: notice.phase,
        rootCause: notice.rootCause ? notice.rootCause.reason : null,
      },
      dedupeKey: `${name}:${notice.incidentId}:${notice.phase}:${notifier.channel}`,
    });
  });
  return "sent";
}

export const incidentNotify = defineFunction({
  name,
  description:
    "Notifies Slack and/or a JSON webhook once per incident when it is diagnosed and when it resolves.",
  accepts: [DiagnosisCompleted.type, IncidentResolved.type],
  emits: [],
  async handle(event, deps): Promise<ProphetEvent[]> {
    const notifiers = deps.notify ?? [];
    if (notifiers.length === 0) return [];
    const notice = await noticeOf(event, deps);
    if (!notice) return [];
    const failed: NotifyError[] = [];
    for (const notifier of notifiers) {
      const log = { incident: notice.incidentId, phase: notice.phase, channel: notifier.channel };
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
