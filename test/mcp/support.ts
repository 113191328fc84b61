// MCP clients for the specs: the SDK's Client over streamable HTTP (the local host's /mcp, or a
// second endpoint with other options on the same deps) and its results as JSON.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Deps } from "../../shared/function.js";
import type { McpToken } from "../../shared/mcp/access.js";
import { mcpHttpHandler } from "../../shared/mcp/http.js";
import type { McpSetup } from "../../shared/mcp/options.js";

export interface ToolReply {
  isError: boolean;
  text: string;
  /** The JSON of a successful call. */
  json: Record<string, unknown> & { items?: Record<string, unknown>[] };
}

export interface McpClient {
  call(name: string, args?: Record<string, unknown>): Promise<ToolReply>;
  client: Client;
  /** Tool calls made through this client (each must be audited). */
  calls: number;
  close(): Promise<void>;
}

export async function connect(url: string, token?: string): Promise<McpClient> {
  const client = new Client({ name: "prophet-spec", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: token ? { authorization: `Bearer ${token}` } : {} },
  });
  await client.connect(transport);
  const c: McpClient = {
    client,
    calls: 0,
    async call(name, args = {}) {
      c.calls++;
      const r = (await client.callTool({ name, arguments: args })) as {
        isError?: boolean;
        content: { type: string; text?: string }[];
      };
      const text = r.content.map((x) => x.text ?? "").join("\n");
      return {
        isError: r.isError === true,
        text,
        json: r.isError ? {} : (JSON.parse(text) as ToolReply["json"]),
      };
    },
    close: () => client.close(),
  };
  return c;
}

/** A second MCP endpoint over the same deps (other options: read-only, masked, small outputs). */
export async function startEndpoint(
  deps: Deps,
  setup: McpSetup & { tokens: readonly McpToken[] },
): Promise<{ url: string; close(): Promise<void> }> {
  const handle = mcpHttpHandler(deps, setup);
  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
