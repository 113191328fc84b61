// network_map: the service map hubble-quarantine learned from flows (flow_baselines), as nodes and
// edges; edges first seen after learning ended (novel) come first.
import { z } from "zod";
import { Baseline } from "../../flows/baseline.js";
import { serviceGraph } from "../../flows/export.js";
import { clusterOf } from "../context.js";
import { clusterArg, defineTool } from "./tool.js";

const maxEdges = 300;

export const networkMap = defineTool({
  name: "network_map",
  description:
    "The service map learned from Hubble flows: workloads, DNS names and external peers, and the edges between them (port, protocol, rate); novel edges (seen after learning ended) first.",
  input: z.strictObject({
    cluster: clusterArg,
    namespace: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .describe("only edges touching this namespace's workloads"),
    identity: z
      .string()
      .min(1)
      .max(300)
      .optional()
      .describe("only edges touching this workload (namespace/app)"),
    novelOnly: z.boolean().default(false),
  }),
  async run(ctx, args) {
    const cluster = clusterOf(ctx, args.cluster);
    const { rows } = await ctx.deps.store.query<{ baseline: unknown; updated_at: Date | string }>(
      "SELECT baseline, updated_at FROM flow_baselines WHERE cluster = $1",
      [cluster],
    );
    const row = rows[0];
    if (!row)
      return {
        cluster,
        learned: false,
        note: "no flows have been analysed for this cluster yet",
        nodes: [],
        edges: [],
      };
    const json = typeof row.baseline === "string" ? (JSON.parse(row.baseline) as unknown) : row.baseline;
    const graph = serviceGraph(Baseline.fromJSON(json), {
      ...(args.namespace ? { namespace: args.namespace } : {}),
      ...(args.identity ? { identity: args.identity } : {}),
    });
    const edges = graph.edges
      .filter((e) => !args.novelOnly || e.novel)
      .sort((a, b) => Number(b.novel) - Number(a.novel));
    const used = new Set(edges.slice(0, maxEdges).flatMap((e) => [e.from, e.to]));
    return {
      cluster,
      learned: true,
      updatedAt: new Date(row.updated_at),
      nodes: graph.nodes.filter((n) => used.has(n.id)),
      edges: edges.slice(0, maxEdges),
      ...(edges.length > maxEdges
        ? { more: `${edges.length - maxEdges} more edges; filter by namespace or identity` }
        : {}),
    };
  },
});
