// The web console as the local host mounts it: GET / for a browser (Accept: text/html) is the
// page, /console/* its files, /api/console/* its read API. State changes go through the host's
// existing operator API, behind the request guard (csrf.ts).
import type { IncomingHttpHeaders } from "node:http";
import type { Deps } from "../../shared/function.js";
import type { HttpReply } from "../runtime/http.js";
import { consoleApi } from "./api.js";
import type { RequestGuard } from "./csrf.js";
import { consolePage } from "./page.js";
import { consoleAsset } from "./static.js";

const pageHeaders = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  // No framing (the approve button cannot be click-jacked) and only this host's own code runs.
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-frame-options": "DENY",
};

export function wantsHtml(headers: IncomingHttpHeaders): boolean {
  return (headers.accept ?? "").includes("text/html");
}

export function consoleRoutes(deps: Deps, guard: RequestGuard) {
  const api = consoleApi(deps);
  return async function handle(
    method: string,
    url: URL,
    headers: IncomingHttpHeaders,
  ): Promise<HttpReply | undefined> {
    if (method === "GET" && url.pathname === "/" && wantsHtml(headers)) {
      if (!guard.ownHost(headers))
        return {
          status: 421,
          headers: { "content-type": "text/plain; charset=utf-8" },
          body: "This host does not answer to that name: open the URL the host printed, or set PROPHET_PUBLIC_URL.\n",
        };
      const session = guard.session(headers);
      return {
        status: 200,
        headers: { ...pageHeaders, ...(session.setCookie ? { "set-cookie": session.setCookie } : {}) },
        body: consolePage({ csrfToken: session.token, cluster: deps.cluster }),
      };
    }
    if (method === "GET" && url.pathname.startsWith("/console/")) {
      return consoleAsset(decodeURIComponent(url.pathname.slice("/console/".length)));
    }
    return api(method, url);
  };
}
