// Approval tokens: HMAC-SHA256 over the remediation id and its expiry, so a link in a Slack
// message approves exactly one proposal until it expires. Single use comes from the store: a
// proposal moves to approved/rejected once (store.ts `transition`), after which the token is
// worthless. The key is PROPHET_APPROVAL_KEY, or a random key created once in the store (shared by
// every replica that uses the same database).
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Sql } from "../ports/store.js";
import { setting } from "./store.js";

export async function approvalKey(db: Sql, configured?: string): Promise<string> {
  if (configured) return configured;
  return setting(db, "approval_key", () => randomBytes(32).toString("hex"));
}

export function approvalToken(key: string, remediationId: string, expiresAt: Date): string {
  return createHmac("sha256", key)
    .update(`prophet-approval\n${remediationId}\n${expiresAt.toISOString()}`)
    .digest("base64url");
}

export type TokenCheck = "valid" | "invalid" | "expired";

export function checkToken(
  key: string,
  remediationId: string,
  expiresAt: Date | null,
  token: string,
  now: Date,
): TokenCheck {
  if (!expiresAt) return "invalid";
  const want = Buffer.from(approvalToken(key, remediationId, expiresAt));
  const got = Buffer.from(token);
  if (got.length !== want.length || !timingSafeEqual(got, want)) return "invalid";
  return now.getTime() < expiresAt.getTime() ? "valid" : "expired";
}

/** The token of a quarantine release request: HMAC over every field a person states. */
export function releaseToken(
  key: string,
  r: { namespace: string; pod: string; actor: string; reason: string; expiresAt: string },
): string {
  return createHmac("sha256", key)
    .update(`prophet-release\n${r.namespace}/${r.pod}\n${r.actor}\n${r.reason}\n${r.expiresAt}`)
    .digest("base64url");
}

export function checkReleaseToken(
  key: string,
  r: { namespace: string; pod: string; actor: string; reason: string; expiresAt: string; token: string },
  now: Date,
): TokenCheck {
  const want = Buffer.from(releaseToken(key, r));
  const got = Buffer.from(r.token);
  if (got.length !== want.length || !timingSafeEqual(got, want)) return "invalid";
  return now.getTime() < Date.parse(r.expiresAt) ? "valid" : "expired";
}

export function approvalUrl(baseUrl: string, remediationId: string, token: string): string {
  return `${baseUrl.replace(/\/$/, "")}/approvals/${encodeURIComponent(remediationId)}?token=${token}`;
}
