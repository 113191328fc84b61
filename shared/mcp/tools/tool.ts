// One MCP tool: a name, what it is for, a zod schema for its arguments and a function over the
// call's context. Arguments are parsed here, so a bad one is an error naming the field.
import { z } from "zod";
import { ProphetError, describeIssues, issuesFromZod } from "../../errors.js";
import type { ToolContext } from "../context.js";

export interface McpTool {
  name: string;
  description: string;
  /** JSON Schema of the arguments, for tools/list. */
  inputSchema: Record<string, unknown>;
  /** Changes nothing anywhere (every tool but propose_remediation). */
  readOnly: boolean;
  /** The cluster named in the arguments, for the audit entry. */
  clusterOf(args: unknown): string | undefined;
  call(ctx: ToolContext, args: unknown): Promise<unknown>;
}

/** An optional cluster argument, shared by every tool. */
export const clusterArg = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "expected a cluster name (DNS label)")
  .optional()
  .describe("the cluster (default: the deployment's own); see list_clusters");

export function defineTool<S extends z.ZodObject>(def: {
  name: string;
  description: string;
  input: S;
  readOnly?: boolean;
  run(ctx: ToolContext, args: z.infer<S>): Promise<unknown>;
}): McpTool {
  const schema = z.toJSONSchema(def.input, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  delete schema.$schema;
  return {
    name: def.name,
    description: def.description,
    inputSchema: schema,
    readOnly: def.readOnly ?? true,
    clusterOf(args) {
      const c = (args as { cluster?: unknown } | undefined)?.cluster;
      return typeof c === "string" ? c : undefined;
    },
    async call(ctx, raw) {
      const parsed = def.input.safeParse(raw ?? {});
      if (!parsed.success) {
        const issues = issuesFromZod(parsed.error.issues);
        throw new ProphetError(
          "bad_request",
          `invalid arguments for ${def.name}: ${describeIssues(issues)}`,
          issues,
        );
      }
      return def.run(ctx, parsed.data);
    },
  };
}
