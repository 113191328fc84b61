// The MCP server's options from the configuration (shared/config.ts).
import { randomBytes } from "node:crypto";
import type { Config } from "../config.js";
import { actionNames } from "../remediation/actions/index.js";
import type { McpOptions } from "./context.js";
import { createNameMask, type NameMask } from "./mask.js";
import { tools } from "./tools/index.js";

export interface McpSetup extends McpOptions {
  mask?: NameMask;
}

export function mcpOptions(
  cfg: Pick<
    Config,
    "PROPHET_MCP_READ_ONLY" | "PROPHET_MCP_MASK" | "PROPHET_MASK_KEY" | "PROPHET_MCP_MAX_OUTPUT_CHARS"
  >,
): McpSetup {
  // The LLM's key, so an agent and a prompt see the same token for a name; random without one.
  const key = cfg.PROPHET_MCP_MASK ? (cfg.PROPHET_MASK_KEY ?? randomBytes(32)) : undefined;
  return {
    readOnly: cfg.PROPHET_MCP_READ_ONLY,
    maxOutputChars: cfg.PROPHET_MCP_MAX_OUTPUT_CHARS,
    ...(key
      ? { maskKey: key, mask: createNameMask(key, { keep: [...actionNames, ...tools.map((t) => t.name)] }) }
      : {}),
  };
}
