// The sandbox's Alertmanager: groups the evaluator's firing and resolved alerts by alertname and
// namespace and POSTs webhook v4 payloads, with Alertmanager's timing on the simulated clock —
// group_wait before a new group's first notification, group_interval between updates, and
// repeat_interval for re-sending an unchanged group. A group is sent when its firing set gained an
// alert or an alert resolved; resolved alerts leave the group once a notification carried them.
import type { AlertState } from "./evaluator.js";

export interface WebhookAlert {
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface WebhookPayload {
  version: "4";
  groupKey: string;
  truncatedAlerts: number;
  status: "firing" | "resolved";
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WebhookAlert[];
}

export interface NotifierOptions {
  url?: string;
  groupBy?: string[];
  groupWaitMs?: number;
  groupIntervalMs?: number;
  repeatIntervalMs?: number;
  receiver?: string;
  /** Shown as externalURL and the base of generatorURL (the sandbox's Prometheus). */
  externalUrl?: string;
  /** Delivery port; default: fetch POST with a JSON body. Rejections are retried at the next flush. */
  post?: (url: string, payload: WebhookPayload) => Promise<void>;
  onError?: (err: unknown) => void;
}

interface Group {
  key: string;
  labels: Record<string, string>;
  alerts: Map<string, WebhookAlert>;
  nextFlush: number;
  lastFiring: Set<string>;
  lastResolved: Set<string>;
  lastSentAt?: number;
  /** A POST for this group has not finished: later flushes wait for it, as Alertmanager's do. */
  sending?: boolean;
}

const ZERO_TIME = "0001-01-01T00:00:00Z";

async function postJson(url: string, payload: WebhookPayload): Promise<void> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(payload),
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`webhook ${url} answered ${res.status}`);
}

export class AlertNotifier {
  private readonly groups = new Map<string, Group>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly groupBy: string[];
  /** Every payload handed to the webhook, oldest first (the last 200). */
  readonly sent: WebhookPayload[] = [];
  url: string | undefined;

  constructor(private readonly opts: NotifierOptions = {}) {
    this.url = opts.url;
    this.groupBy = opts.groupBy ?? ["alertname", "namespace"];
  }

  /** Takes the evaluator's current alerts and sends what is due at `nowMs`. */
  update(nowMs: number, alerts: AlertState[]): void {
    for (const a of alerts) {
      if (a.state === "pending") continue;
      const groupLabels = Object.fromEntries(
        this.groupBy.filter((l) => a.labels[l] !== undefined).map((l) => [l, a.labels[l] ?? ""]),
      );
      const key = groupKey(groupLabels);
      let g = this.groups.get(key);
      if (!g) {
        if (a.state === "inactive") continue; // resolved before it was ever notified
        g = {
          key,
          labels: groupLabels,
          alerts: new Map(),
          nextFlush: nowMs + (this.opts.groupWaitMs ?? 30_000),
          lastFiring: new Set(),
          lastResolved: new Set(),
        };
        this.groups.set(key, g);
      }
      const resolved = a.state === "inactive";
      if (resolved && !g.alerts.has(a.fingerprint)) continue;
      g.alerts.set(a.fingerprint, {
        status: resolved ? "resolved" : "firing",
        labels: a.labels,
        annotations: a.annotations,
        startsAt: new Date(a.firedAt ?? a.activeAt).toISOString(),
        endsAt: resolved ? new Date(a.resolvedAt ?? nowMs).toISOString() : ZERO_TIME,
        generatorURL: `${this.opts.externalUrl ?? ""}/graph?g0.expr=${encodeURIComponent(a.expr)}&g0.tab=1`,
        fingerprint: a.fingerprint,
      });
    }
    for (const g of this.groups.values()) if (nowMs >= g.nextFlush) this.flush(g, nowMs);
  }

  /** Resolves when every webhook POST started so far has finished. */
  async idle(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  private flush(g: Group, nowMs: number): void {
    if (g.sending) return;
    g.nextFlush = nowMs + (this.opts.groupIntervalMs ?? 60_000);
    const alerts = [...g.alerts.values()].sort((a, b) => a.fingerprint.localeCompare(b.fingerprint));
    const firing = new Set(alerts.filter((a) => a.status === "firing").map((a) => a.fingerprint));
    const resolved = new Set(alerts.filter((a) => a.status === "resolved").map((a) => a.fingerprint));
    const changed =
      [...firing].some((f) => !g.lastFiring.has(f)) ||
      [...resolved].some((f) => !g.lastResolved.has(f)) ||
      (firing.size === 0 && g.lastFiring.size > 0);
    const repeat =
      g.lastSentAt !== undefined && nowMs - g.lastSentAt >= (this.opts.repeatIntervalMs ?? 3_600_000);
    if (!alerts.length) {
      this.groups.delete(g.key);
      return;
    }
    if (!this.url || !(changed || repeat)) return;
    const payload = this.payload(g, alerts);
    g.sending = true;
    this.sent.push(payload);
    if (this.sent.length > 200) this.sent.shift();
    const done = (this.opts.post ?? postJson)(this.url, payload).then(
      () => {
        g.lastFiring = firing;
        g.lastResolved = resolved;
        g.lastSentAt = nowMs;
        for (const f of resolved) if (g.alerts.get(f)?.status === "resolved") g.alerts.delete(f);
        if (!g.alerts.size) this.groups.delete(g.key);
      },
      (err: unknown) =>
        (this.opts.onError ?? ((e) => process.emitWarning(`sandbox alerts: ${String(e)}`)))(err),
    );
    this.inflight.add(done);
    void done.finally(() => {
      g.sending = false;
      this.inflight.delete(done);
    });
  }

  private payload(g: Group, alerts: WebhookAlert[]): WebhookPayload {
    const common = (pick: (a: WebhookAlert) => Record<string, string>) => {
      const [first, ...rest] = alerts.map(pick);
      return Object.fromEntries(
        Object.entries(first ?? {}).filter(([k, v]) => rest.every((r) => r[k] === v)),
      );
    };
    return {
      version: "4",
      groupKey: `{}:${g.key}`,
      truncatedAlerts: 0,
      status: alerts.some((a) => a.status === "firing") ? "firing" : "resolved",
      receiver: this.opts.receiver ?? "prophet",
      groupLabels: g.labels,
      commonLabels: common((a) => a.labels),
      commonAnnotations: common((a) => a.annotations),
      externalURL: this.opts.externalUrl ?? "",
      alerts,
    };
  }
}

/** Alertmanager's group key: the group labels as a sorted `{name="value", …}` set. */
function groupKey(labels: Record<string, string>): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `{${parts.join(", ")}}`;
}
