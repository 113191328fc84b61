// Errors are values with a code a program can branch on and a message a person can act on.
// HTTP edges map `status` to the response; `retryable` tells a platform whether redelivery can help.

export type ErrorCode =
  | "bad_request"
  | "payload_too_large"
  | "invalid_event"
  | "invalid_data"
  | "unknown_type"
  | "unsupported_type"
  | "in_progress"
  | "handler_failed"
  | "delivery_failed"
  | "invalid_config"
  | "not_found"
  | "forbidden"
  | "conflict";

const statusOf: Record<ErrorCode, number> = {
  bad_request: 400,
  payload_too_large: 413,
  invalid_event: 400,
  invalid_data: 400,
  unknown_type: 400,
  unsupported_type: 400,
  in_progress: 409,
  handler_failed: 500,
  delivery_failed: 502,
  invalid_config: 500,
  not_found: 404,
  forbidden: 403,
  conflict: 409,
};

export interface ErrorIssue {
  path: string;
  message: string;
}

export class ProphetError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly issues: ErrorIssue[];
  constructor(code: ErrorCode, message: string, issues: ErrorIssue[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ProphetError";
    this.code = code;
    this.status = statusOf[code];
    this.issues = issues;
  }
  /** 4xx errors are the sender's: redelivering the same input cannot succeed. */
  get retryable(): boolean {
    return this.status >= 500 || this.code === "in_progress";
  }
  toJSON(): { error: ErrorCode; message: string; issues?: ErrorIssue[] } {
    return this.issues.length
      ? { error: this.code, message: this.message, issues: this.issues }
      : { error: this.code, message: this.message };
  }
}

export function asProphetError(err: unknown): ProphetError {
  if (err instanceof ProphetError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ProphetError("handler_failed", message, [], { cause: err });
}

/** Turns zod issues into `path: message` pairs naming the field, e.g. `data.alerts.0.fingerprint`. */
export function issuesFromZod(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
  prefix = "",
): ErrorIssue[] {
  return issues.map((i) => {
    const path = [prefix, ...i.path.map(String)].filter((p) => p !== "").join(".");
    return { path: path || "(root)", message: i.message };
  });
}

export function describeIssues(issues: ErrorIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join("; ");
}
