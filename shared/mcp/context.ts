// What a tool call runs with: the deployment's ports, who is calling (and the clusters they may
// use), and the server's options. Cluster access is decided here, once, for every tool.
import { ProphetError } from "../errors.js";
import type { Deps } from "../function.js";
import { mayRead, type McpPrincipal } from "./access.js";

export interface McpOptions {
  /** PROPHET_MCP_READ_ONLY: tools that create anything (propose_remediation) are refused. */
  readOnly: boolean;
  /** Set (PROPHET_MCP_MASK): names in outputs are masked with this key (PROPHET_MASK_KEY). */
  maskKey?: string | Uint8Array;
  /** Largest tool output, in characters (PROPHET_MCP_MAX_OUTPUT_CHARS). */
  maxOutputChars: number;
}

export interface ToolContext {
  deps: Deps;
  principal: McpPrincipal;
  options: McpOptions;
}

/** Every cluster the deployment serves: its default one and the registered ones. */
export function servedClusters(deps: Deps): string[] {
  return [...new Set([deps.cluster, ...(deps.clusters?.names() ?? [])])];
}

/** Refuses a cluster outside the principal's (the error names the ones it may use). */
export function checkAccess(ctx: ToolContext, cluster: string): void {
  if (mayRead(ctx.principal, cluster)) return;
  const own = ctx.principal.clusters === "*" ? "*" : ctx.principal.clusters.join(", ");
  throw new ProphetError(
    "forbidden",
    `mcp:${ctx.principal.id} may not use cluster "${cluster}" (its clusters: ${own || "none"})`,
    [{ path: "cluster", message: "outside this token's clusters" }],
  );
}

/** The cluster a tool acts on: the one asked for (checked), else the deployment's default. */
export function clusterOf(ctx: ToolContext, requested: string | undefined): string {
  const cluster = requested ?? ctx.deps.cluster;
  checkAccess(ctx, cluster);
  return cluster;
}

/** Stored rows the principal may see: of `requested` only when given. */
export function rowFilter(ctx: ToolContext, requested: string | undefined): (cluster: string) => boolean {
  if (requested !== undefined) {
    checkAccess(ctx, requested);
    return (c) => c === requested;
  }
  return (c) => mayRead(ctx.principal, c);
}

/**
 * The deps of one cluster, as the invocation scopes an event (shared/invocation/invoke.ts): its
 * own kube and metrics ports, so a tool cannot read another cluster by mistake. A cluster the
 * deployment does not serve is refused.
 */
export function depsFor(ctx: ToolContext, cluster: string): Deps {
  checkAccess(ctx, cluster);
  const { deps } = ctx;
  const dir = deps.clusters;
  if (!dir || cluster === deps.cluster) return deps;
  const ports = dir.ports(cluster);
  if (!ports)
    throw new ProphetError(
      "not_found",
      `cluster "${cluster}" is not served by this deployment (clusters: ${servedClusters(deps).join(", ")})`,
      [{ path: "cluster", message: "not a registered cluster" }],
    );
  const { kube: _kube, metrics: _metrics, ...rest } = deps;
  return {
    ...rest,
    cluster,
    ...(ports.kube ? { kube: ports.kube } : {}),
    ...(ports.metrics ? { metrics: ports.metrics } : {}),
  };
}
