// The MCP server: Prophet's tools and resources for external agents, over any transport (streamable
// HTTP on the local host, stdio for `prophet mcp`). One server per principal: every call is
// checked against the principal's clusters, audited as `mcp:<id>`, bounded in size and, when
// configured, masked. Tools are served through the protocol's own tools/list and tools/call so
// every call — a bad argument included — passes through one place that audits it.
import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
} from "@modelcontextprotocol/sdk/types.js";
import { asProphetError } from "../errors.js";
import type { Deps } from "../function.js";
import { recordAudit } from "../store/audit.js";
import { listIncidents } from "../store/incidents.js";
import type { McpPrincipal } from "./access.js";
import { boundJson } from "./bound.js";
import { rowFilter, type McpOptions, type ToolContext } from "./context.js";
import type { NameMask } from "./mask.js";
import { incidentDetail, incidentFindings } from "./tools/incidents.js";
import { tools } from "./tools/index.js";

export interface McpServerOptions extends McpOptions {
  principal: McpPrincipal;
  /** Shared by every server of one process, so tokens issued earlier can be passed back. */
  mask?: NameMask;
}

/** Code-built text that masking would only garble (the action catalogue). */
const unmasked = new Set(["list_actions"]);
const maxAuditedArgs = 2_000;

function auditedArgs(args: unknown): unknown {
  const text = JSON.stringify(args ?? {});
  return text.length <= maxAuditedArgs ? args : { clipped: `${text.slice(0, maxAuditedArgs)}…` };
}

export function createMcpServer(deps: Deps, opts: McpServerOptions): McpServer {
  const server = new McpServer(
    { name: "prophet", version: "0.1.0" },
    {
      capabilities: { tools: { listChanged: false } },
      instructions:
        "Prophet diagnoses Kubernetes incidents and remediates them through a policy gate. Read with list_incidents, get_incident, diagnose, query_metrics, forecast, slo_status and network_map; propose_remediation only proposes — a person approves every action.",
    },
  );
  const ctx: ToolContext = { deps, principal: opts.principal, options: opts };
  const actor = `mcp:${opts.principal.id}`;
  const mask = opts.maskKey ? opts.mask : undefined;
  const show = (name: string, value: unknown) =>
    mask && !unmasked.has(name) ? mask.maskOutput(value) : value;

  async function audit(action: string, cluster: string | undefined, details: Record<string, unknown>) {
    await recordAudit(deps.store, {
      at: deps.clock.now(),
      cluster: cluster ?? deps.cluster,
      actor,
      action,
      subject: String(details.tool ?? details.uri ?? ""),
      details,
    }).catch((err: unknown) =>
      deps.log.error({ err: (err as Error).message }, "MCP audit entry not written"),
    );
  }

  server.server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: tools.map((t) => ({
      name: t.name,
      description: t.description,
      inputSchema: t.inputSchema as { type: "object" },
      annotations: { readOnlyHint: t.readOnly, destructiveHint: false, openWorldHint: false },
    })),
  }));

  server.server.setRequestHandler(CallToolRequestSchema, async (req): Promise<CallToolResult> => {
    const { name, arguments: raw } = req.params;
    const tool = tools.find((t) => t.name === name);
    if (!tool) {
      await audit("mcp.tool.unknown", undefined, { tool: name, outcome: "error", error: "unknown tool" });
      throw new McpError(
        ErrorCode.InvalidParams,
        `no tool ${name}; tools: ${tools.map((t) => t.name).join(", ")}`,
      );
    }
    const args: unknown = mask ? mask.unmaskInput(raw ?? {}) : (raw ?? {});
    const cluster = tool.clusterOf(args);
    try {
      const bounded = boundJson(show(name, await tool.call(ctx, args)), opts.maxOutputChars);
      await audit(`mcp.tool.${name}`, cluster, {
        tool: name,
        arguments: auditedArgs(raw),
        outcome: "ok",
        chars: bounded.text.length,
        ...(bounded.truncated ? { truncated: true } : {}),
      });
      return { content: [{ type: "text", text: bounded.text }] };
    } catch (err) {
      const e = asProphetError(err);
      if (e.status >= 500) deps.log.warn({ tool: name, err: e.message }, "MCP tool failed");
      const shown = show(name, { error: e.code, message: e.message, issues: e.issues }) as {
        error: string;
        message: string;
      };
      await audit(`mcp.tool.${name}`, cluster, {
        tool: name,
        arguments: auditedArgs(raw),
        outcome: "error",
        error: e.code,
        message: e.message.slice(0, 500),
      });
      return { isError: true, content: [{ type: "text", text: `${shown.error}: ${shown.message}` }] };
    }
  });

  const read = async (uri: URL, name: string, load: () => Promise<unknown>) => {
    try {
      const text = boundJson(show(name, await load()), opts.maxOutputChars).text;
      await audit("mcp.resource.read", undefined, { uri: uri.href, outcome: "ok" });
      return { contents: [{ uri: uri.href, mimeType: "application/json", text }] };
    } catch (err) {
      const e = asProphetError(err);
      await audit("mcp.resource.read", undefined, { uri: uri.href, outcome: "error", error: e.code });
      throw new McpError(e.status === 404 ? -32002 : ErrorCode.InvalidParams, `${e.code}: ${e.message}`);
    }
  };
  const listed = async () => {
    const keep = rowFilter(ctx, undefined);
    const rows = (await listIncidents(deps.store, { limit: 200 }))
      .filter((i) => keep(i.cluster))
      .slice(0, 50);
    return rows.map((i) => ({ id: i.id, description: `${i.status} ${i.alertname} (${i.cluster})` }));
  };
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? (v[0] ?? "") : (v ?? ""));

  server.registerResource(
    "incident-findings",
    new ResourceTemplate("prophet://incidents/{id}/findings", {
      list: async () => ({
        resources: (await listed()).map((i) => ({
          uri: `prophet://incidents/${i.id}/findings`,
          name: `${i.id} findings`,
          description: i.description,
          mimeType: "application/json",
        })),
      }),
    }),
    {
      title: "Findings of an incident",
      description: "What the diagnosis found, with evidence",
      mimeType: "application/json",
    },
    (uri, vars) =>
      read(uri, "incident_findings", () => incidentFindings(ctx, decodeURIComponent(one(vars.id)))),
  );
  server.registerResource(
    "incident",
    new ResourceTemplate("prophet://incidents/{id}", {
      list: async () => ({
        resources: (await listed()).map((i) => ({
          uri: `prophet://incidents/${i.id}`,
          name: i.id,
          description: i.description,
          mimeType: "application/json",
        })),
      }),
    }),
    {
      title: "Incident",
      description: "An incident with its alerts, diagnosis, findings and remediations",
      mimeType: "application/json",
    },
    (uri, vars) => read(uri, "incident", () => incidentDetail(ctx, decodeURIComponent(one(vars.id)))),
  );
  return server;
}
