// get_audit: the hash-chained audit log, newest first, only the rows of the caller's clusters.
import { z } from "zod";
import { listAudit } from "../../store/audit.js";
import { rowFilter } from "../context.js";
import { clusterArg, defineTool } from "./tool.js";

export const getAudit = defineTool({
  name: "get_audit",
  description:
    "The audit log (hash-chained), newest first: every incident, decision, gate verdict, approval, action and MCP tool call with its actor.",
  input: z.strictObject({
    cluster: clusterArg,
    remediationId: z.string().min(1).max(100).optional(),
    subject: z.string().min(1).max(500).optional(),
    actor: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("e.g. mcp:ops, function:llm-remediation, user:alice"),
    action: z.string().min(1).max(200).optional().describe("prefix, e.g. remediation. or mcp.tool"),
    limit: z.number().int().min(1).max(200).default(50),
  }),
  async run(ctx, args) {
    const keep = rowFilter(ctx, args.cluster);
    const rows = await listAudit(ctx.deps.store, {
      limit: 2_000,
      ...(args.subject ? { subject: args.subject } : {}),
      ...(args.remediationId ? { remediationId: args.remediationId } : {}),
    });
    const items = rows
      .filter(
        (r) =>
          keep(r.cluster) &&
          (!args.actor || r.actor === args.actor) &&
          (!args.action || r.action.startsWith(args.action)),
      )
      .slice(0, args.limit)
      .map((r) => ({
        seq: r.seq,
        at: r.at,
        cluster: r.cluster,
        actor: r.actor,
        action: r.action,
        subject: r.subject,
        details: r.details,
        hash: r.hash,
      }));
    return { count: items.length, items };
  },
});
