// Cloud API failures as errors a person can act on: which cloud, which account, subscription or
// project, and which permission is missing. Each SDK reports failures its own way; the sources
// classify them into these kinds.
import { ProphetError } from "../../errors.js";

export type Cloud = "EKS" | "AKS" | "GKE";

export interface CloudCall {
  cloud: Cloud;
  /** Where the call went, e.g. `account 123456789012, region eu-west-1` or `project shop-prod`. */
  scope: string;
  /** What the call does, e.g. `ListClusters`. */
  operation: string;
  /** The IAM permission / RBAC action the call needs. */
  permission: string;
}

export type FailureKind =
  "forbidden" | "unauthorized" | "network" | "not_found" | "invalid_response" | "other";

export function cloudFailure(
  call: CloudCall,
  kind: FailureKind,
  detail: string,
  cause?: unknown,
): ProphetError {
  const where = `${call.cloud} ${call.operation} (${call.scope})`;
  const opts = cause === undefined ? undefined : { cause };
  switch (kind) {
    case "forbidden":
      return new ProphetError(
        "forbidden",
        `${where}: access denied; the identity needs the permission ${call.permission}. ${detail}`.trim(),
        [],
        opts,
      );
    case "unauthorized":
      return new ProphetError(
        "invalid_config",
        `${where}: the credentials were rejected even after refreshing them; log in again. ${detail}`.trim(),
        [],
        opts,
      );
    case "network":
      return new ProphetError("delivery_failed", `${where}: the API is unreachable: ${detail}`, [], opts);
    case "not_found":
      return new ProphetError("not_found", `${where}: not found: ${detail}`, [], opts);
    case "invalid_response":
      return new ProphetError("handler_failed", `${where}: unexpected response: ${detail}`, [], opts);
    default:
      return new ProphetError("handler_failed", `${where}: ${detail}`, [], opts);
  }
}

/** Network-level failures (no HTTP answer), as Node and undici report them. */
export function isNetworkError(err: unknown): boolean {
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e && typeof e === "object" && !seen.has(e)) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (
      typeof code === "string" &&
      /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|UND_ERR_\w+)$/.test(
        code,
      )
    )
      return true;
    const name = (e as { name?: unknown }).name;
    if (name === "TimeoutError" || name === "AbortError") return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

export function networkDetail(err: unknown): string {
  const seen = new Set<unknown>();
  let e: unknown = err;
  let msg = err instanceof Error ? err.message : String(err);
  while (e && typeof e === "object" && !seen.has(e)) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z]+$/.test(code))
      return `${code} ${(e as Error).message ?? ""}`.trim();
    msg = (e as Error).message ?? msg;
    e = (e as { cause?: unknown }).cause;
  }
  return msg;
}
