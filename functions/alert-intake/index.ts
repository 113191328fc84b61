// alert-intake: every Alertmanager alert opens, joins or updates an incident, recorded in the audit
// log in the same transaction. Alerts about one workload (node, SLO, …) arriving together are
// grouped into one incident (docs/decisions/0009), so only a new incident is announced
// (alert-diagnosis consumes io.prophet.incident.opened, once per incident), and its resolution
// once its last alert resolves.
import {
  AlertFiring,
  AlertResolved,
  IncidentOpened,
  IncidentResolved,
  isEvent,
} from "../../shared/events/catalog.js";
import { makeEvent } from "../../shared/events/emit.js";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import type { IncidentEventData } from "../../shared/events/schemas/incident.js";
import { defineFunction, functionSource } from "../../shared/function.js";
import { appendAudit } from "../../shared/store/audit.js";
import { recordAlert, type Incident } from "../../shared/store/incidents.js";

const name = "alert-intake";
const source = functionSource(name);

function incidentData(i: Incident): IncidentEventData {
  return {
    incidentId: i.id,
    fingerprint: i.fingerprint,
    alertname: i.alertname,
    severity: i.severity,
    status: i.status,
    summary: i.summary,
    labels: i.labels,
    annotations: i.annotations,
    target: i.target,
    startsAt: i.startsAt.toISOString(),
    resolvedAt: i.resolvedAt ? i.resolvedAt.toISOString() : null,
    alerts: i.alerts,
    alertnames: i.alertnames,
  };
}

export const alertIntake = defineFunction({
  name,
  description: "Records Alertmanager alerts as incidents in the store and the audit log.",
  accepts: [AlertFiring.type, AlertResolved.type],
  emits: [IncidentOpened.type, IncidentResolved.type],
  async handle(event, deps): Promise<ProphetEvent[]> {
    if (!isEvent(event, AlertFiring) && !isEvent(event, AlertResolved)) return [];
    const alert = event.data;
    const cluster = event.cluster ?? deps.cluster;
    const now = deps.clock.now();
    const subject = event.subject ?? alert.alertname;
    const { incident, change } = await deps.store.transaction(async (tx) => {
      const result = await recordAlert(tx, cluster, alert, subject, now);
      await appendAudit(tx, {
        at: now,
        cluster,
        actor: `function:${name}`,
        action: `alert.${alert.status}`,
        subject,
        details: {
          eventId: event.id,
          incidentId: result.incident.id,
          change: result.change,
          alertname: alert.alertname,
          severity: alert.severity,
          fingerprint: alert.fingerprint,
          startsAt: alert.startsAt,
        },
        dedupeKey: `${name}:${event.source}:${event.id}`,
      });
      return result;
    });
    deps.log.info({ incident: incident.id, change, subject, cluster }, `alert ${alert.status}: ${change}`);
    const opts = { cause: event, source, subject, time: now };
    if (change === "opened") return [makeEvent(IncidentOpened, incidentData(incident), opts)];
    if (change === "resolved") return [makeEvent(IncidentResolved, incidentData(incident), opts)];
    return [];
  },
});
