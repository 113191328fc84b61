// Approval routes of the local host.
//   GET  /approvals/<id>?token=…   a confirmation page (a GET never changes anything: chat apps
//                                   prefetch links)
//   POST /approvals/<id>           {token, verdict: approve|reject, actor?, comment?} (JSON or form)
//   GET  /api/approvals            proposals waiting for a human
//   GET  /api/remediations[/<id>]  decisions, their gate verdicts and results
//   POST /api/approvals/<id>/approve|reject   the operator API behind `prophet approvals`: the host
//                                   signs the token itself (loopback only, like the rest of /api)
//                                   From a browser (the console) the request must pass the host's
//                                   CSRF guard (infra/console/csrf.ts) and name a person: the
//                                   verdict is recorded as user:<name>.
//   GET  /api/quarantines          pods under quarantine (label, remediation, expiry)
//   POST /api/quarantines/<ns>/<pod>/release   {actor, reason}: `prophet quarantine release`; the
//                                   host signs an io.prophet.quarantine.release.requested
// Every verdict becomes an io.prophet.remediation.reviewed event for llm-remediation, which checks
// the token, records the verdict once, re-runs the gate and executes — the same path a serverless
// deployment takes when the event arrives from elsewhere.
import { createHash } from "node:crypto";
import { RemediationReviewed } from "../../shared/events/catalog.js";
import type { ProphetEvent } from "../../shared/events/envelope.js";
import type { RemediationReviewedData } from "../../shared/events/schemas/remediation.js";
import { ProphetError } from "../../shared/errors.js";
import { approvalKey, approvalToken, releaseToken } from "../../shared/remediation/approvals.js";
import { QuarantineReleaseRequested } from "../../shared/events/catalog.js";
import type { QuarantineReleaseRequestData } from "../../shared/events/schemas/flows.js";
import { QUARANTINE_EXPIRES } from "../../shared/remediation/actions/quarantine-pod.js";
import { quarantinedPods, REMEDIATION_ID } from "../../shared/flows/release.js";
import { defaultRemediationSettings } from "../../shared/remediation/settings.js";
import { getRemediation, listRemediations, type Remediation } from "../../shared/remediation/store.js";
import { listAudit } from "../../shared/store/audit.js";
import type { InvocationContext } from "../../shared/invocation/invoke.js";
import { dispatchEvents, errorReply, jsonReply, type HttpReply } from "../runtime/http.js";
import type { LocalBus } from "./bus.js";

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function page(rem: Remediation, token: string): string {
  const a = rem.decision.action;
  const open = rem.status === "proposed";
  return `<!doctype html><html><head><meta charset="utf-8"><title>Prophet approval ${escape(rem.id)}</title></head>
<body style="font-family:sans-serif;max-width:48rem;margin:2rem auto">
<h1>${escape(rem.action ?? "no action")} on ${escape(rem.targetKey ?? "")}</h1>
<p><b>Status:</b> ${escape(rem.status)}${rem.expiresAt ? ` · expires ${escape(rem.expiresAt.toISOString())}` : ""}</p>
<p><b>Root cause:</b> ${escape(rem.decision.rootCause)}</p>
<p><b>Why this action:</b> ${escape(a?.rationale ?? "")}</p>
<p><b>Parameters:</b> <code>${escape(JSON.stringify(rem.params ?? {}))}</code></p>
<p><b>Decided by:</b> ${escape(rem.decider)} (confidence ${rem.confidence})</p>
<p><b>Needs approval because:</b> ${escape(rem.gate.approvalReasons.join("; "))}</p>
${
  open
    ? `<form method="post"><input type="hidden" name="token" value="${escape(token)}">
<label>Your name <input name="actor" required></label>
<button name="verdict" value="approve">Approve</button> <button name="verdict" value="reject">Reject</button></form>`
    : "<p>This proposal is no longer waiting for a decision.</p>"
}
</body></html>`;
}

function parseBody(body: Uint8Array, contentType: string | undefined): Record<string, string> {
  const text = Buffer.from(body).toString("utf8");
  if ((contentType ?? "").includes("application/x-www-form-urlencoded"))
    return Object.fromEntries(new URLSearchParams(text));
  if (!text.trim()) return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === "object" && v !== null && !Array.isArray(v)) return v as Record<string, string>;
  } catch {
    // fall through
  }
  throw new ProphetError("bad_request", "expected a JSON object or a form body");
}

export interface ApprovalRoutesOptions {
  ctx: Omit<InvocationContext, "sink">;
  bus: LocalBus;
}

export function approvalRoutes(opts: ApprovalRoutesOptions) {
  const { ctx, bus } = opts;
  const deps = ctx.deps;
  const settings = deps.remediation ?? defaultRemediationSettings;

  async function review(
    id: string,
    data: Omit<RemediationReviewedData, "remediationId">,
  ): Promise<HttpReply> {
    const rem = await getRemediation(deps.store, id);
    const event: ProphetEvent<RemediationReviewedData> = {
      specversion: "1.0",
      // One verdict per token: a double click is a duplicate, not a second review.
      id: `review-${id}-${data.verdict}-${createHash("sha256").update(data.token).digest("hex").slice(0, 12)}`,
      source: "/prophet/approvals",
      type: RemediationReviewed.type,
      time: deps.clock.now().toISOString(),
      datacontenttype: "application/json",
      // The remediation runs on the cluster it was decided for.
      ...(rem ? { cluster: rem.cluster } : {}),
      data: { remediationId: id, ...data },
    };
    const results = await dispatchEvents([event], bus.route, { ...ctx, sink: bus });
    const after = await getRemediation(deps.store, id);
    return jsonReply(200, { results, remediation: after ? summary(after) : null });
  }

  return async function handle(
    method: string,
    url: URL,
    readBody: () => Promise<Uint8Array>,
    contentType: string | undefined,
    /** The request came from a browser (it already passed the host's CSRF guard). */
    browser = false,
  ): Promise<HttpReply | undefined> {
    try {
      if (method === "GET" && url.pathname === "/api/approvals") {
        const items = await listRemediations(deps.store, { status: ["proposed"] });
        return jsonReply(200, { items: items.map(summary) });
      }
      if (method === "GET" && url.pathname === "/api/remediations") {
        const status = url.searchParams.get("status");
        const items = await listRemediations(deps.store, {
          ...(status ? { status: status.split(",") as Remediation["status"][] } : {}),
          limit: Number(url.searchParams.get("limit") ?? 100),
        });
        return jsonReply(200, { items: items.map(summary) });
      }
      const one = /^\/api\/remediations\/([^/]+)$/.exec(url.pathname);
      if (method === "GET" && one) {
        const rem = await getRemediation(deps.store, decodeURIComponent(one[1]!));
        if (!rem) throw new ProphetError("not_found", "no such remediation");
        const audit = await listAudit(deps.store, { limit: 1000, remediationId: rem.id });
        return jsonReply(200, { ...rem, audit });
      }
      const operator = /^\/api\/approvals\/([^/]+)\/(approve|reject)$/.exec(url.pathname);
      if (method === "POST" && operator) {
        const id = decodeURIComponent(operator[1]!);
        const rem = await getRemediation(deps.store, id);
        if (!rem) throw new ProphetError("not_found", `no remediation ${id}`);
        if (!rem.expiresAt) throw new ProphetError("conflict", `remediation ${id} is ${rem.status}`);
        const body = parseBody(await readBody(), contentType);
        const key = await approvalKey(deps.store, settings.approvalKey);
        return review(id, {
          verdict: operator[2] as "approve" | "reject",
          token: approvalToken(key, id, rem.expiresAt),
          actor: browser ? personOf(body) : String(body.actor ?? "cli"),
          ...(body.comment ? { comment: String(body.comment).slice(0, 1000) } : {}),
        });
      }
      if (method === "GET" && url.pathname === "/api/quarantines") {
        if (!deps.kube) throw new ProphetError("invalid_config", "no cluster configured");
        const pods = await quarantinedPods({ deps, source: "/prophet/operator", actor: "operator" });
        return jsonReply(200, {
          items: pods.map((p) => ({
            namespace: p.metadata.namespace ?? "",
            pod: p.metadata.name,
            remediationId: p.metadata.annotations?.[REMEDIATION_ID] ?? null,
            expires: p.metadata.annotations?.[QUARANTINE_EXPIRES] ?? null,
          })),
        });
      }
      const release = /^\/api\/quarantines\/([^/]+)\/([^/]+)\/release$/.exec(url.pathname);
      if (method === "POST" && release) {
        const body = parseBody(await readBody(), contentType);
        const reason = String(body.reason ?? "").trim();
        if (!reason)
          throw new ProphetError("bad_request", "reason is required: say why the quarantine can end");
        const now = deps.clock.now();
        const unsigned = {
          namespace: decodeURIComponent(release[1]!),
          pod: decodeURIComponent(release[2]!),
          actor: browser ? personOf(body) : String(body.actor ?? "cli").slice(0, 200),
          reason: reason.slice(0, 2000),
          expiresAt: new Date(now.getTime() + 10 * 60_000).toISOString(),
        };
        const key = await approvalKey(deps.store, settings.approvalKey);
        const token = releaseToken(key, unsigned);
        const event: ProphetEvent<QuarantineReleaseRequestData> = {
          specversion: "1.0",
          id: `release-${createHash("sha256").update(token).digest("hex").slice(0, 24)}`,
          source: "/prophet/operator",
          type: QuarantineReleaseRequested.type,
          subject: `${unsigned.namespace}/${unsigned.pod}`,
          time: now.toISOString(),
          datacontenttype: "application/json",
          data: { ...unsigned, token },
        };
        const results = await dispatchEvents([event], bus.route, { ...ctx, sink: bus });
        return jsonReply(200, { results, released: `${unsigned.namespace}/${unsigned.pod}` });
      }
      const link = /^\/approvals\/([^/]+)$/.exec(url.pathname);
      if (link && method === "GET") {
        const rem = await getRemediation(deps.store, decodeURIComponent(link[1]!));
        if (!rem) throw new ProphetError("not_found", "no such remediation");
        return {
          status: 200,
          headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
          body: page(rem, url.searchParams.get("token") ?? ""),
        };
      }
      if (link && method === "POST") {
        const body = parseBody(await readBody(), contentType);
        const verdict = body.verdict;
        if (verdict !== "approve" && verdict !== "reject")
          throw new ProphetError("bad_request", 'verdict must be "approve" or "reject"');
        const token = String(body.token ?? url.searchParams.get("token") ?? "");
        if (token.length < 16) throw new ProphetError("forbidden", "an approval token is required");
        return review(decodeURIComponent(link[1]!), {
          verdict,
          token,
          actor: `user:${String(body.actor ?? "unknown").slice(0, 100)}`,
          ...(body.comment ? { comment: String(body.comment).slice(0, 1000) } : {}),
        });
      }
      return undefined;
    } catch (err) {
      return errorReply(err);
    }
  };
}

/** A browser's verdict is a person's: the name they gave, as user:<name>. */
function personOf(body: Record<string, string>): string {
  const name = String(body.actor ?? "")
    .trim()
    .replace(/^user:/, "")
    .slice(0, 100);
  if (!name) throw new ProphetError("bad_request", "actor is required: say who you are");
  return `user:${name}`;
}

export function summary(r: Remediation) {
  return {
    id: r.id,
    incidentId: r.incidentId,
    status: r.status,
    reason: r.reason,
    action: r.action,
    target: r.target,
    params: r.params,
    decider: r.decider,
    confidence: r.confidence,
    mode: r.mode,
    policy: r.policyId,
    rootCause: r.decision.rootCause,
    rationale: r.decision.action?.rationale ?? null,
    approvalReasons: r.gate.approvalReasons,
    gate: { verdict: r.gate.verdict, reason: r.gate.reason, detail: r.gate.detail },
    expiresAt: r.expiresAt?.toISOString() ?? null,
    decidedBy: r.decidedBy,
    createdAt: r.createdAt.toISOString(),
    executedAt: r.executedAt?.toISOString() ?? null,
    changes: r.result?.changes ?? [],
    verify: r.result?.verify ?? null,
    score: r.score,
  };
}
