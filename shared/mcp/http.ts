// Streamable HTTP for the MCP server (stateless: one server and transport per request), behind
// bearer-token auth. No token, or one PROPHET_MCP_TOKENS does not hold: 401 before anything runs.
import type { IncomingMessage, ServerResponse } from "node:http";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { Deps } from "../function.js";
import { authenticate, type McpToken } from "./access.js";
import type { McpSetup } from "./options.js";
import { createMcpServer } from "./server.js";

function refuse(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32001, message }, id: null }));
}

export function mcpHttpHandler(
  deps: Deps,
  setup: McpSetup & { tokens: readonly McpToken[] },
): (req: IncomingMessage, res: ServerResponse, parsedBody?: unknown) => Promise<void> {
  // parsedBody: the JSON body when a framework has read the request already (the Functions
  // Framework's express does); the transport reads the request itself otherwise.
  return async (req, res, parsedBody) => {
    if (req.method !== "POST") {
      refuse(res, 405, "this MCP endpoint is stateless: POST JSON-RPC messages", { allow: "POST" });
      return;
    }
    if (setup.tokens.length === 0) {
      refuse(res, 401, "MCP over HTTP is disabled: set PROPHET_MCP_TOKENS", {
        "www-authenticate": 'Bearer realm="prophet-mcp"',
      });
      return;
    }
    const principal = authenticate(req.headers.authorization, setup.tokens);
    if (!principal) {
      deps.log.warn({ path: "/mcp" }, "MCP request refused: missing or unknown bearer token");
      refuse(res, 401, "a valid bearer token is required (Authorization: Bearer <token>)", {
        "www-authenticate": 'Bearer realm="prophet-mcp", error="invalid_token"',
      });
      return;
    }
    const server = createMcpServer(deps, { ...setup, principal });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, parsedBody);
  };
}
