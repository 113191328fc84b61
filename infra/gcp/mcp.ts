// The MCP server as its own function: a Functions Framework HTTP target (`mcp`) for Cloud Run,
// Cloud Functions gen2 and Knative (the image's FUNCTION_TARGET=mcp; bundle dist/gcp/mcp/). The
// same server as the local host's /mcp: bearer tokens from PROPHET_MCP_TOKENS (none: every request
// is 401), read-only mode, masking and bounded outputs from the same variables, every call audited
// in the deployment's store. Stateless: one MCP server per request, so any instance answers.
import type { Request, Response } from "@google-cloud/functions-framework";
import { loadConfig, type Config } from "../../shared/config.js";
import { asProphetError } from "../../shared/errors.js";
import { mcpHttpHandler } from "../../shared/mcp/http.js";
import { mcpOptions } from "../../shared/mcp/options.js";
import { createDeps, type RuntimeDeps } from "../runtime/deps.js";

type Handler = (req: Request, res: Response, parsedBody?: unknown) => Promise<void>;

export function mcpFunctionsFrameworkTarget(
  opts: { config?: Config; deps?: () => Promise<RuntimeDeps> } = {},
): (req: Request, res: Response) => Promise<void> {
  let handler: Promise<Handler> | undefined;
  const make = async (): Promise<Handler> => {
    const cfg = opts.config ?? loadConfig(process.env);
    const deps = await (opts.deps ? opts.deps() : createDeps(cfg));
    return mcpHttpHandler(deps, { ...mcpOptions(cfg), tokens: cfg.PROPHET_MCP_TOKENS ?? [] });
  };
  return async (req, res) => {
    // A failed cold start (bad configuration, no database) is answered, and tried again next time.
    handler ??= make().catch((err: unknown) => {
      handler = undefined;
      throw err;
    });
    try {
      await (
        await handler
      )(req, res, req.body);
    } catch (err) {
      const e = asProphetError(err);
      if (!res.headersSent)
        res.status(e.status >= 400 ? e.status : 500).json({ error: e.code, message: e.message });
    }
  };
}
