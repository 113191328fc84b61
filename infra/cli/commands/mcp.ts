// `prophet mcp`: the MCP server over stdio, for desktop agents (Claude Desktop, IDEs) that start
// it as a child process. It opens the store and the cluster the configuration names, as the
// functions do; logs go to stderr, since stdout carries the protocol. Whoever can start the
// process already holds the configuration, so there is no token: every cluster unless --clusters
// says otherwise. Read-only mode and masking follow PROPHET_MCP_READ_ONLY and PROPHET_MCP_MASK.
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Command } from "commander";
import pino from "pino";
import { z } from "zod";
import { loadConfig } from "../../../shared/config.js";
import { describeIssues, issuesFromZod, ProphetError } from "../../../shared/errors.js";
import { mcpOptions } from "../../../shared/mcp/options.js";
import { createMcpServer } from "../../../shared/mcp/server.js";
import { createDeps } from "../../runtime/deps.js";
import { createLogger } from "../../runtime/logger.js";

const optionsSchema = z.object({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "expected a short lowercase name")
    .default("stdio"),
  clusters: z
    .string()
    .regex(/^(\*|[a-z0-9-]+(,[a-z0-9-]+)*)$/, "expected * or cluster names separated by commas")
    .default("*"),
  readOnly: z.boolean().optional(),
});

export function register(program: Command): void {
  program
    .command("mcp")
    .description("serve Prophet's MCP tools over stdio (for desktop agents); logs go to stderr")
    .option("--id <name>", "the agent's name in the audit log (mcp:<name>)", "stdio")
    .option("--clusters <list>", "clusters it may use: * or names separated by commas", "*")
    .option("--read-only", "refuse propose_remediation (also PROPHET_MCP_READ_ONLY=true)")
    .action(async (raw: unknown) => {
      const parsed = optionsSchema.safeParse(raw);
      if (!parsed.success) {
        const issues = issuesFromZod(parsed.error.issues);
        throw new ProphetError("bad_request", `mcp: ${describeIssues(issues)}`, issues);
      }
      const o = parsed.data;
      const cfg = loadConfig(process.env);
      const log = createLogger(cfg.LOG_LEVEL === "info" ? "warn" : cfg.LOG_LEVEL, {}, pino.destination(2));
      const deps = await createDeps(cfg, { log });
      const setup = mcpOptions(cfg);
      const server = createMcpServer(deps, {
        ...setup,
        readOnly: setup.readOnly || o.readOnly === true,
        principal: { id: o.id, clusters: o.clusters === "*" ? "*" : o.clusters.split(",") },
      });
      const transport = new StdioServerTransport();
      let closing = false;
      const close = async () => {
        if (closing) return;
        closing = true;
        await server.close().catch(() => undefined);
        await deps.close();
      };
      transport.onclose = () => void close();
      process.stdin.once("end", () => void close());
      process.once("SIGINT", () => void close().then(() => process.exit(0)));
      process.once("SIGTERM", () => void close().then(() => process.exit(0)));
      await server.connect(transport);
      log.info({ id: o.id, clusters: o.clusters, readOnly: setup.readOnly }, "MCP server on stdio");
    });
}
