// The MCP tools, one registry: adding a tool is one file and one line here.
import { getAudit } from "./audit.js";
import { diagnoseTool } from "./diagnose.js";
import { getIncidentTool, listClusters, listIncidentsTool } from "./incidents.js";
import { forecastTool, queryMetrics } from "./metrics.js";
import { networkMap } from "./network.js";
import { listActions, listProposals, proposeRemediationTool } from "./remediation.js";
import { sloStatus } from "./slo.js";
import type { McpTool } from "./tool.js";

export const tools: readonly McpTool[] = [
  listClusters,
  listIncidentsTool,
  getIncidentTool,
  diagnoseTool,
  queryMetrics,
  forecastTool,
  sloStatus,
  networkMap,
  listActions,
  proposeRemediationTool,
  listProposals,
  getAudit,
];
