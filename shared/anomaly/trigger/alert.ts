// The alert an anomaly raises, built the way slo-check builds its burn alerts: an
// io.prophet.alert.firing/resolved with the Alertmanager edge's id (fingerprint-startsAt) and
// subject, so it becomes an incident like any Alertmanager alert and flows through diagnosis and
// remediation. Its labels carry what the remediation planner and the policy gate need:
// prophet_anomaly_action, prophet_remediation (the action to prefer), prophet_require_approval.
import { raisedAlertData, raisedAlertEvent } from "../../events/edge/alertmanager.js";
import type { ProphetEvent } from "../../events/envelope.js";
import { fingerprint } from "../../events/fingerprint.js";
import type { AlertEventData } from "../../events/schemas/alert.js";
import type { AnomalyRule } from "../../remediation/policy-source.js";
import type { Workload } from "./pods.js";
import type { Component, RaisedAlarm } from "./series.js";

export const ANOMALY_ALERTNAME = "ProphetAnomaly";

/** spec.remediation, else the older spec.action in registry terms. */
export function remediationOf(rule: Pick<AnomalyRule, "remediation" | "action">): string | undefined {
  if (rule.remediation) return rule.remediation;
  switch (rule.action) {
    case "restart":
      return "restart_pod";
    case "scale":
      return "scale_deployment";
    case "alert":
      return "notify_only";
    default:
      return undefined;
  }
}

/** Which resource a metric is about, for increase_resources. */
export function resourceOf(metric: string): "memory" | "cpu" | undefined {
  if (/memory/i.test(metric)) return "memory";
  if (/cpu/i.test(metric)) return "cpu";
  return undefined;
}

const workloadLabel: Record<string, string> = {
  Deployment: "deployment",
  StatefulSet: "statefulset",
  DaemonSet: "daemonset",
};

export function anomalyAlertLabels(
  rule: AnomalyRule,
  seriesLabels: Record<string, string>,
  component: Component,
  workload: Workload | null,
  outlier: string | null,
): Record<string, string> {
  const { __name__: _name, ...series } = seriesLabels;
  const labels: Record<string, string> = {
    ...series,
    alertname: ANOMALY_ALERTNAME,
    severity: component === "projected-limit" ? "critical" : "warning",
    prophet_anomaly_action: rule.id,
    prophet_anomaly_detector: component,
  };
  const kindLabel = workload ? workloadLabel[workload.kind] : undefined;
  if (workload && kindLabel) labels[kindLabel] ??= workload.name;
  const remediation = remediationOf(rule);
  if (remediation) labels.prophet_remediation = remediation;
  if (rule.requireApproval) labels.prophet_require_approval = "true";
  const resource = resourceOf(rule.metric);
  if (resource) labels.prophet_anomaly_resource = resource;
  if (outlier) labels.prophet_anomaly_outlier = outlier;
  if (rule.scale?.replicas !== undefined) labels.prophet_anomaly_scale_replicas = String(rule.scale.replicas);
  if (rule.scale?.by !== undefined) labels.prophet_anomaly_scale_by = String(rule.scale.by);
  return labels;
}

export function raiseAlarm(labels: Record<string, string>, startsAt: Date): RaisedAlarm {
  return {
    alertname: labels.alertname ?? ANOMALY_ALERTNAME,
    fingerprint: fingerprint(labels),
    startsAt: startsAt.toISOString(),
    labels,
  };
}

export function anomalyAlertData(
  alarm: RaisedAlarm,
  status: "firing" | "resolved",
  summary: string,
  endsAt: Date | null,
): AlertEventData {
  return raisedAlertData({
    fingerprint: alarm.fingerprint,
    status,
    alertname: alarm.alertname,
    labels: alarm.labels,
    annotations: {
      title: `Anomaly in ${alarm.labels.prophet_anomaly_action ?? "an AnomalyAction"}`,
      summary,
    },
    startsAt: alarm.startsAt,
    endsAt: (endsAt ?? new Date()).toISOString(),
    receiver: "anomaly-trigger",
    groupKey: `anomaly:${alarm.labels.prophet_anomaly_action ?? ""}`,
  });
}

/** The alert as the Alertmanager edge would deliver it: same id and subject. */
export function anomalyAlertEvent(
  source: string,
  data: AlertEventData,
  cluster: string | undefined,
): ProphetEvent<AlertEventData> {
  return raisedAlertEvent(source, data, cluster);
}
