// Cross-site request protection for every state-changing request the host accepts.
//
// Browsers attach Origin (and Sec-Fetch-Site) to every POST, so a POST whose origin is not one of
// the host's own is refused, whatever its path: a page on another site cannot approve, release a
// quarantine or post a fake alert through the operator's browser. Machines (the CLI, Alertmanager,
// a broker) send neither header and are unaffected.
//
// A browser POST to /api/* must also echo the console's session token: the console page sets it
// as an HttpOnly, SameSite=Strict cookie and writes the same value into the page, and the
// console's fetch sends it back in a header. Another origin can neither read the page nor set the
// cookie, so it cannot produce the pair. Tokens are signed with a per-process key, so a token the
// host did not issue is refused even when cookie and header agree.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { ProphetError } from "../../shared/errors.js";

export const csrfCookie = "prophet_csrf";
export const csrfHeader = "x-prophet-csrf";

export interface RequestGuard {
  /** Why a state-changing request must be refused, or undefined when it may proceed. */
  refusal(method: string, path: string, headers: IncomingHttpHeaders): ProphetError | undefined;
  /** Whether this request carries browser markers (then the approver must name themselves). */
  fromBrowser(headers: IncomingHttpHeaders): boolean;
  /** Whether a page may be served for this Host (a DNS-rebound name never gets a token). */
  ownHost(headers: IncomingHttpHeaders): boolean;
  /** The session token for a console page: the request's own when valid, else a new one. */
  session(headers: IncomingHttpHeaders): { token: string; setCookie?: string };
}

function cookies(headers: IncomingHttpHeaders): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/**
 * `origins()` lists the origins the host answers as (its listening address, its loopback names
 * and PROPHET_PUBLIC_URL); it is a function because the port is known only after listening.
 */
export function requestGuard(origins: () => string[]): RequestGuard {
  const key = randomBytes(32);
  const sign = (nonce: string) => createHmac("sha256", key).update(nonce).digest("base64url");
  const valid = (token: string | undefined): token is string => {
    if (!token) return false;
    const [nonce, mac] = token.split(".");
    if (!nonce || !mac) return false;
    const want = Buffer.from(sign(nonce));
    const got = Buffer.from(mac);
    return want.length === got.length && timingSafeEqual(want, got);
  };
  const fromBrowser = (h: IncomingHttpHeaders) =>
    h.origin !== undefined || h["sec-fetch-site"] !== undefined || h.cookie !== undefined;

  return {
    fromBrowser,
    ownHost(h) {
      const host = one(h.host);
      return host !== undefined && origins().some((o) => new URL(o).host === host);
    },
    refusal(method, path, h) {
      if (method === "GET" || method === "HEAD" || method === "OPTIONS") return undefined;
      const site = one(h["sec-fetch-site"]);
      if (site !== undefined && site !== "same-origin" && site !== "none")
        return new ProphetError("forbidden", `cross-site request refused (Sec-Fetch-Site: ${site})`);
      const origin = one(h.origin);
      if (origin !== undefined && !origins().includes(origin))
        return new ProphetError(
          "forbidden",
          `request from origin ${origin} refused: not this host's console`,
        );
      if (path.startsWith("/api/") && fromBrowser(h)) {
        const cookie = cookies(h).get(csrfCookie);
        const header = one(h[csrfHeader]);
        if (!valid(cookie) || header !== cookie)
          return new ProphetError(
            "forbidden",
            "missing or invalid CSRF token: reload the console and try again",
          );
      }
      return undefined;
    },
    session(h) {
      const current = cookies(h).get(csrfCookie);
      if (valid(current)) return { token: current };
      const nonce = randomBytes(18).toString("base64url");
      const token = `${nonce}.${sign(nonce)}`;
      return { token, setCookie: `${csrfCookie}=${token}; Path=/; HttpOnly; SameSite=Strict` };
    },
  };
}

/** The origins a host listening on `hostName:port` answers as. */
export function hostOrigins(hostName: string, port: number, publicUrl: string | undefined): string[] {
  const names = new Set([hostName, "127.0.0.1", "localhost", "[::1]"]);
  if (hostName === "0.0.0.0" || hostName === "::") names.delete(hostName);
  const out = [...names].map((n) => `http://${n.includes(":") && !n.startsWith("[") ? `[${n}]` : n}:${port}`);
  if (publicUrl) out.push(new URL(publicUrl).origin);
  return out;
}
