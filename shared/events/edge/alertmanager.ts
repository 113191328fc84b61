// Alertmanager webhook v4 → one io.prophet.alert.firing|resolved CloudEvent per alert.
import { ProphetError, describeIssues, issuesFromZod } from "../../errors.js";
import { AlertFiring, AlertResolved } from "../catalog.js";
import type { ProphetEvent } from "../envelope.js";
import {
  alertmanagerWebhookSchema,
  type AlertEventData,
  type AlertmanagerAlert,
  type AlertmanagerWebhook,
} from "../schemas/alert.js";

/** Label keys kube-prometheus and kube-state-metrics use for the object an alert is about. */
const kindLabels: ReadonlyArray<[label: string, kind: string]> = [
  ["pod", "Pod"],
  ["deployment", "Deployment"],
  ["statefulset", "StatefulSet"],
  ["daemonset", "DaemonSet"],
  ["job_name", "Job"],
  ["cronjob", "CronJob"],
  ["horizontalpodautoscaler", "HorizontalPodAutoscaler"],
  ["persistentvolumeclaim", "PersistentVolumeClaim"],
  ["service", "Service"],
  ["node", "Node"],
];

export function alertTarget(labels: Record<string, string>): AlertEventData["target"] {
  const target: AlertEventData["target"] = {};
  if (labels.namespace) target.namespace = labels.namespace;
  if (labels.node) target.node = labels.node;
  if (labels.instance) target.instance = labels.instance;
  for (const [label, kind] of kindLabels) {
    const name = labels[label];
    if (name) {
      target.kind = kind;
      target.name = name;
      break;
    }
  }
  return target;
}

/** A subject a person can read in a log line: `KubePodCrashLooping shop/Pod/cart-7d9f`. */
export function alertSubject(alertname: string, t: AlertEventData["target"]): string {
  if (t.kind && t.name) return `${alertname} ${[t.namespace, t.kind, t.name].filter(Boolean).join("/")}`;
  if (t.namespace) return `${alertname} ${t.namespace}`;
  if (t.instance) return `${alertname} ${t.instance}`;
  return alertname;
}

/** Alertmanager writes the zero time for "no end"; keep null instead of year 1. */
function endsAtOrNull(endsAt: string): string | null {
  return endsAt.startsWith("0001-01-01") ? null : endsAt;
}

/** The CloudEvents source of alerts from one Alertmanager. */
export function alertSource(externalURL: string): string {
  return externalURL ? `${externalURL.replace(/\/+$/, "")}/alertmanager` : "/alertmanager";
}

/**
 * The id is fingerprint + startsAt, so Alertmanager's repeated notifications of one firing alert
 * (every repeat_interval, or a retried webhook) are the same event and are processed once. The
 * resolution of that alert is a different event, so it gets a `-resolved` suffix.
 */
export function alertEventId(alert: Pick<AlertmanagerAlert, "fingerprint" | "startsAt" | "status">): string {
  const base = `${alert.fingerprint}-${alert.startsAt}`;
  return alert.status === "resolved" ? `${base}-resolved` : base;
}

/**
 * An alert that Prophet itself raises (slo-check, anomaly-trigger) as the Alertmanager edge would
 * deliver it: the same id (fingerprint-startsAt) and subject, so intake, grouping and idempotency
 * treat it like any Alertmanager alert.
 */
export function raisedAlertEvent(
  source: string,
  data: AlertEventData,
  cluster: string | undefined,
): ProphetEvent<AlertEventData> {
  return {
    specversion: "1.0",
    id: alertEventId(data),
    source,
    type: data.status === "resolved" ? AlertResolved.type : AlertFiring.type,
    subject: alertSubject(data.alertname, data.target),
    time: (data.status === "resolved" ? data.endsAt : data.startsAt) ?? data.startsAt,
    datacontenttype: "application/json",
    ...(cluster ? { cluster } : {}),
    data,
  };
}

/**
 * The data of an alert Prophet raises: what Alertmanager would send for it, with no generator or
 * external URL; its severity from the `severity` label, its target from the labels unless given.
 */
export function raisedAlertData(a: {
  alertname: string;
  fingerprint: string;
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  /** When it resolved (ignored while firing). */
  endsAt: string | null;
  receiver: string;
  groupKey: string;
  target?: AlertEventData["target"];
}): AlertEventData {
  return {
    fingerprint: a.fingerprint,
    status: a.status,
    alertname: a.alertname,
    severity: a.labels.severity ?? "none",
    labels: a.labels,
    annotations: a.annotations,
    startsAt: a.startsAt,
    endsAt: a.status === "resolved" ? a.endsAt : null,
    generatorURL: "",
    target: a.target ?? alertTarget(a.labels),
    receiver: a.receiver,
    groupKey: a.groupKey,
    externalURL: "",
  };
}

export function parseAlertmanagerWebhook(body: unknown): AlertmanagerWebhook {
  const res = alertmanagerWebhookSchema.safeParse(body);
  if (!res.success) {
    const issues = issuesFromZod(res.error.issues);
    throw new ProphetError(
      "invalid_data",
      `not an Alertmanager webhook v4 payload: ${describeIssues(issues)}`,
      issues,
    );
  }
  return res.data;
}

export function fanOutAlertmanagerWebhook(
  body: unknown,
  opts: { cluster?: string; receivedAt: Date },
): ProphetEvent<AlertEventData>[] {
  const hook = parseAlertmanagerWebhook(body);
  const source = alertSource(hook.externalURL);
  return hook.alerts.map((alert) => {
    const labels = alert.labels;
    const alertname = labels.alertname ?? "unknown";
    const target = alertTarget(labels);
    const data: AlertEventData = {
      fingerprint: alert.fingerprint,
      status: alert.status,
      alertname,
      severity: labels.severity ?? "none",
      labels,
      annotations: alert.annotations,
      startsAt: alert.startsAt,
      endsAt: endsAtOrNull(alert.endsAt),
      generatorURL: alert.generatorURL,
      target,
      receiver: hook.receiver,
      groupKey: hook.groupKey,
      externalURL: hook.externalURL,
    };
    const cluster = labels.cluster ?? opts.cluster;
    return {
      specversion: "1.0",
      id: alertEventId(alert),
      source,
      type: alert.status === "firing" ? AlertFiring.type : AlertResolved.type,
      subject: alertSubject(alertname, target),
      time: (alert.status === "resolved" && data.endsAt) || alert.startsAt || opts.receivedAt.toISOString(),
      datacontenttype: "application/json",
      ...(cluster ? { cluster } : {}),
      data,
    };
  });
}

export function looksLikeAlertmanagerWebhook(body: unknown): boolean {
  return (
    typeof body === "object" &&
    body !== null &&
    "alerts" in body &&
    "version" in body &&
    !("specversion" in body)
  );
}
