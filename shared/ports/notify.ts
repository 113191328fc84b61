// The notification port: one message about one incident, in one phase, to one channel (a Slack
// incoming webhook, a generic JSON webhook). Adapters in shared/notify/ turn it into the
// channel's format; failures are NotifyError values saying whether a retry can help.

/** A finding as a notification shows it: no evidence (events and logs stay in Prophet). */
export interface NoticeFinding {
  kind: string;
  namespace: string;
  name: string;
  reason: string;
  message: string;
}

/** The remediation statuses people are told about. */
export type NoticeRemediationStatus = "proposed" | "executed" | "failed" | "blocked";

/** What Prophet proposes, did or could not do about the incident (phase "remediation"). */
export interface NoticeRemediation {
  id: string;
  /** The action's name, e.g. `increase_resources`; null when none was chosen. */
  action: string | null;
  /** `Kind namespace/name`, or "" when there is no target. */
  target: string;
  status: NoticeRemediationStatus;
  /** Gate reason (blocked) or failure code (failed), else null. */
  reason: string | null;
  /** One human sentence: what happened and why. */
  detail: string;
  /** proposed: why a human must decide. */
  reasons: string[];
  /** executed: one line per change. */
  changes: string[];
  /** proposed: the approval page. It carries a single-use token: put it in messages, never in logs. */
  approvalUrl?: string;
  /** proposed: when the approval link stops working (ISO time). */
  expiresAt?: string;
}

export interface IncidentNotice {
  incidentId: string;
  /** firing: sent once the diagnosis is done; resolved: the incident's alert resolved;
   * remediation: a remediation was proposed, executed, failed or blocked (see `remediation`). */
  phase: "firing" | "resolved" | "remediation";
  cluster: string;
  /** Readable alert subject, e.g. `KubePodCrashLooping shop/Pod/cart-7d9f8b6c5-x2kqp`. */
  subject: string;
  alertname: string;
  severity: string;
  /** The diagnosis' explanation (firing) or the alert's summary (resolved). */
  summary: string;
  rootCause: NoticeFinding | null;
  /** The top findings, root cause first (at most five). */
  findings: NoticeFinding[];
  nextSteps: string[];
  /** ISO time of the event that caused the notice. */
  at: string;
  /** Present exactly when phase is "remediation". */
  remediation?: NoticeRemediation;
}

export interface Notifier {
  /** Stable channel name (`slack`, `webhook`): the dedupe key and the audit record use it. */
  readonly channel: string;
  send(notice: IncidentNotice): Promise<void>;
}

export type NotifyErrorCode =
  | "rejected" // the channel refused the message (4xx: no_service, invalid_payload, …)
  | "rate_limited" // 429; retryAfterSeconds when the channel said
  | "unavailable"; // 5xx, connection refused, timeout

export class NotifyError extends Error {
  readonly code: NotifyErrorCode;
  readonly channel: string;
  readonly retryAfterSeconds: number | undefined;
  constructor(
    code: NotifyErrorCode,
    channel: string,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options);
    this.name = "NotifyError";
    this.code = code;
    this.channel = channel;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}
