// Who may use the MCP server over HTTP, and on which clusters. PROPHET_MCP_TOKENS holds entries
// `[id:]token=clusters` separated by commas; clusters is `*` (every cluster) or names joined with
// `|`. The id names the agent in the audit log (`mcp:<id>`); without one it is derived from a
// hash of the token, so the token itself is never written anywhere.
import { createHash, timingSafeEqual } from "node:crypto";
import { z } from "zod";

export interface McpPrincipal {
  /** What the audit log names (`mcp:<id>`); never the token. */
  id: string;
  /** "*" or the clusters this principal may read and act on. */
  clusters: "*" | readonly string[];
}

export interface McpToken extends McpPrincipal {
  /** sha256 of the token: compared in constant time, the token itself is not kept. */
  digest: Buffer;
}

const clusterName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "expected a DNS-label cluster name");
const entrySchema = z
  .string()
  .trim()
  .regex(
    /^(?:([a-z0-9][a-z0-9._-]{0,62}):)?([A-Za-z0-9._~+/-]{16,512})=(.+)$/,
    "expected [id:]token=clusters, the token at least 16 characters of A-Z a-z 0-9 . _ ~ + / -, clusters `*` or names joined with |",
  )
  .transform((entry, ctx): McpToken => {
    const [, id, token = "", clusters = ""] = /^(?:([^:=]+):)?([^=]+)=(.+)$/.exec(entry) ?? [];
    const digest = createHash("sha256").update(token).digest();
    let list: "*" | string[] = "*";
    if (clusters !== "*") {
      list = clusters.split("|").map((c) => c.trim());
      for (const c of list)
        if (!clusterName.safeParse(c).success)
          ctx.addIssue({ code: "custom", message: `"${c}" is not a cluster name (DNS label) or *` });
    }
    return { id: id ?? `token-${digest.toString("hex").slice(0, 8)}`, clusters: list, digest };
  });

/** PROPHET_MCP_TOKENS, parsed: ids and tokens must be unique. */
export const mcpTokensSchema = z
  .string()
  .transform((s) => s.split(",").filter((e) => e.trim() !== ""))
  .pipe(z.array(entrySchema).min(1, "expected at least one [id:]token=clusters entry"))
  .superRefine((tokens, ctx) => {
    const ids = new Set<string>();
    const digests = new Set<string>();
    for (const t of tokens) {
      // zod runs refinements after failed entries too: those stay as strings.
      if (typeof t !== "object") continue;
      if (ids.has(t.id)) ctx.addIssue({ code: "custom", message: `token id ${t.id} is used twice` });
      const d = t.digest.toString("hex");
      if (digests.has(d)) ctx.addIssue({ code: "custom", message: `token ${t.id} is listed twice` });
      ids.add(t.id);
      digests.add(d);
    }
  });

/** The principal of an `Authorization: Bearer …` header; undefined when missing or unknown. */
export function authenticate(
  header: string | undefined,
  tokens: readonly McpToken[],
): McpPrincipal | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!m) return undefined;
  const digest = createHash("sha256").update(m[1]!).digest();
  // Every entry is compared, so the time taken does not tell which one matched.
  let found: McpToken | undefined;
  for (const t of tokens) if (timingSafeEqual(t.digest, digest)) found ??= t;
  return found ? { id: found.id, clusters: found.clusters } : undefined;
}

export function mayRead(p: McpPrincipal, cluster: string): boolean {
  return p.clusters === "*" || p.clusters.includes(cluster);
}
