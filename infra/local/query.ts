// POST /query {"question": "..."} (also /mcp/query, the seeds' path): a question in plain language,
// answered from the MCP tools (shared/mcp/query.ts). With PROPHET_MCP_TOKENS set, a bearer token
// is required and bounds the clusters read, as for /mcp; without tokens only loopback callers are
// answered (like the rest of the local host's /api). Every question is audited.
import type { IncomingMessage } from "node:http";
import { z } from "zod";
import type { Config } from "../../shared/config.js";
import { ProphetError, describeIssues, issuesFromZod } from "../../shared/errors.js";
import type { Deps } from "../../shared/function.js";
import { authenticate, type McpPrincipal } from "../../shared/mcp/access.js";
import { mcpOptions } from "../../shared/mcp/options.js";
import { answerQuestion } from "../../shared/mcp/query.js";
import { recordAudit } from "../../shared/store/audit.js";
import { jsonReply, type HttpReply } from "../runtime/http.js";

const QuerySchema = z.strictObject({
  question: z.string().trim().min(3, "ask a question").max(1_000, "at most 1,000 characters"),
});

const loopback = (addr: string | undefined) =>
  addr === "127.0.0.1" || addr === "::1" || addr === "::ffff:127.0.0.1";

export function queryRoute(deps: Deps, config: Config) {
  const tokens = config.PROPHET_MCP_TOKENS ?? [];
  const options = mcpOptions(config);
  return async (req: IncomingMessage, body: Uint8Array): Promise<HttpReply> => {
    let principal: McpPrincipal | undefined;
    if (tokens.length > 0) principal = authenticate(req.headers.authorization, tokens);
    else if (loopback(req.socket.remoteAddress)) principal = { id: "local", clusters: "*" };
    if (!principal)
      throw new ProphetError(
        "forbidden",
        tokens.length > 0
          ? "a valid bearer token is required (Authorization: Bearer <token>)"
          : "questions are answered on loopback only unless PROPHET_MCP_TOKENS is set",
      );
    let raw: unknown;
    try {
      raw = JSON.parse(Buffer.from(body).toString("utf8") || "{}");
    } catch {
      throw new ProphetError("bad_request", 'expected JSON: {"question": "..."}');
    }
    const parsed = QuerySchema.safeParse(raw);
    if (!parsed.success) {
      const issues = issuesFromZod(parsed.error.issues);
      throw new ProphetError("bad_request", describeIssues(issues), issues);
    }
    // Tool outputs are not masked for the asker (masking protects names from the model, and the
    // model's path is masked by the LLM port itself).
    const { maskKey: _k, ...unmasked } = options;
    const answer = await answerQuestion(
      { deps, principal, options: unmasked },
      parsed.data.question,
      deps.llm ? { llm: deps.llm } : {},
    );
    await recordAudit(deps.store, {
      at: deps.clock.now(),
      cluster: deps.cluster,
      actor: `query:${principal.id}`,
      action: "query.answered",
      subject: parsed.data.question.slice(0, 200),
      details: {
        answeredBy: answer.answeredBy,
        tools: answer.steps.map((s) => ({ tool: s.tool, ok: s.error === undefined })),
        ...(answer.fallback ? { fallback: answer.fallback.slice(0, 300) } : {}),
      },
    });
    return jsonReply(200, answer);
  };
}
