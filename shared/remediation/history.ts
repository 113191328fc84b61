// What worked before: every decision stores its incident's pattern and a feature-hashed embedding
// of it; a new incident reads the most similar past remediations (with their assessed scores) so
// the planner can demote actions that did not help and the LLM sees the history.
//
// Similarity is an exact cosine search in SQL (unnest of two real[] arrays), which runs unchanged
// on PostgreSQL 15 and PGlite and is fast enough for the tens of thousands of rows a cluster
// accumulates; see docs/decisions/0006-remediation.md for why pgvector is not used yet.
import { createHash } from "node:crypto";
import type { Finding } from "../diagnosis/finding.js";
import type { Sql } from "../ports/store.js";
import type { DecisionInput, HistoryEntry } from "./decision.js";

export const embeddingDims = 64;

/** The words that make two incidents "the same problem": alert, kind, reason, owner kind, exit code. */
export function patternOf(input: Pick<DecisionInput, "alertname" | "rootCause">): string {
  const f: Finding | null = input.rootCause;
  const parts = [`alert:${input.alertname}`];
  if (f) {
    parts.push(`kind:${f.kind}`, `reason:${f.reason}`);
    const owner = f.parent?.split("/")[0];
    if (owner) parts.push(`owner:${owner}`);
    const exit = /exit code (\d+)/i.exec(f.message)?.[1];
    if (exit) parts.push(`exit:${exit}`);
  } else parts.push("reason:none");
  return parts.join(" ");
}

/** Signed feature hashing of the pattern's tokens and token pairs, L2-normalised. */
export function embed(pattern: string): number[] {
  const v = new Array<number>(embeddingDims).fill(0);
  const tokens = pattern.split(/\s+/).filter(Boolean);
  const features = [...tokens, ...tokens.slice(1).map((t, i) => `${tokens[i]}|${t}`)];
  for (const f of features) {
    const h = createHash("sha1").update(f).digest();
    const i = h.readUInt16BE(0) % embeddingDims;
    v[i]! += h[2]! & 1 ? 1 : -1;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => Math.round((x / norm) * 1e6) / 1e6);
}

/** The most similar past remediations that chose an action, most similar first. */
export async function similarRemediations(
  db: Sql,
  cluster: string,
  embedding: number[],
  opts: { limit?: number; minSimilarity?: number; excludeIncident?: string } = {},
): Promise<HistoryEntry[]> {
  const { rows } = await db.query<{
    incident_id: string;
    pattern: string;
    action: string;
    status: string;
    score: number | null;
    sim: number;
  }>(
    `SELECT incident_id, pattern, action, status, score, sim FROM (
       SELECT r.incident_id, r.pattern, r.action, r.status, r.score, r.created_at,
         (SELECT sum(a * b) FROM unnest(r.embedding, $2::real[]) AS t(a, b)) AS sim
       FROM remediations r
       WHERE r.cluster = $1 AND r.action IS NOT NULL
         AND r.status IN ('executed', 'failed', 'rejected', 'blocked')
         AND r.incident_id <> $4
     ) s WHERE sim >= $3 ORDER BY sim DESC, created_at DESC LIMIT $5`,
    [cluster, embedding, opts.minSimilarity ?? 0.5, opts.excludeIncident ?? "", opts.limit ?? 10],
  );
  return rows.map((r) => ({
    incidentId: r.incident_id,
    similarity: Math.round(Number(r.sim) * 1000) / 1000,
    pattern: r.pattern,
    action: r.action,
    outcome: r.status as HistoryEntry["outcome"],
    ...(r.score !== null ? { score: Number(r.score) } : {}),
  }));
}

/** Mean assessed score per action over the history (actions never assessed are absent). */
export function scoresByAction(history: readonly HistoryEntry[]): Map<string, { mean: number; n: number }> {
  const acc = new Map<string, { sum: number; n: number }>();
  for (const h of history) {
    const score = h.outcome === "failed" ? 0 : h.score;
    if (score === undefined) continue;
    const a = acc.get(h.action) ?? { sum: 0, n: 0 };
    a.sum += score;
    a.n += 1;
    acc.set(h.action, a);
  }
  return new Map([...acc].map(([k, v]) => [k, { mean: v.sum / v.n, n: v.n }]));
}
