// Many PromQL expressions as few HTTP requests. Each expression is tagged with a label naming it
// (`label_replace(<expr>, "prophet_q", "<key>", "__name__", ".*")`) and the tagged expressions are
// joined with `or`: the label sets never collide, so the answer holds every expression's series,
// each with its key. Prometheus evaluates the same expressions at the same instant as it would
// one by one, so the values are identical to separate queries (and to recording rules evaluated
// at that instant). A refused batch (one SLO's bad PromQL) is split in halves, by group (SLO),
// until the broken group is alone, so one broken spec never hides the others.
import { MetricsError, type MetricsPort, type Sample, type Series } from "../ports/metrics.js";

export const KEY_LABEL = "prophet_q";

export interface TaggedQuery {
  key: string;
  expr: string;
  /** Queries of one group (one SLO) fail together: a refused batch is split between groups,
   * never inside one, so a broken SLO costs a few requests, not one per query. */
  group?: string;
}

export interface BatchOptions {
  /** Upper bound of one request's PromQL, characters (default 48 KiB). */
  maxChars?: number;
  /** Upper bound of expressions in one request (default 400). */
  maxQueries?: number;
}

export interface BatchResult<T> {
  /** Per key: the expression's series with the key label removed (empty array: no series). */
  values: Map<string, T[]>;
  /** Per key: why the expression could not be evaluated. */
  errors: Map<string, string>;
  /** HTTP requests issued. */
  requests: number;
}

const tag = (q: TaggedQuery) =>
  `label_replace(${q.expr}, "${KEY_LABEL}", "${q.key.replace(/["\\]/g, "")}", "__name__", ".*")`;

function chunks(queries: TaggedQuery[], opts: BatchOptions): TaggedQuery[][] {
  const maxChars = opts.maxChars ?? 48 * 1024;
  const maxQueries = opts.maxQueries ?? 400;
  const out: TaggedQuery[][] = [];
  let cur: TaggedQuery[] = [];
  let chars = 0;
  for (const q of queries) {
    const len = q.expr.length + q.key.length + 60;
    if (cur.length > 0 && (chars + len > maxChars || cur.length >= maxQueries)) {
      out.push(cur);
      cur = [];
      chars = 0;
    }
    cur.push(q);
    chars += len;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

async function runBatched<T extends { labels: Record<string, string> }>(
  queries: TaggedQuery[],
  opts: BatchOptions,
  run: (promql: string) => Promise<T[]>,
): Promise<BatchResult<T>> {
  const result: BatchResult<T> = { values: new Map(), errors: new Map(), requests: 0 };
  const seen = new Set<string>();
  for (const q of queries) {
    if (seen.has(q.key)) throw new Error(`duplicate batch key ${q.key}`);
    seen.add(q.key);
  }
  const go = async (group: TaggedQuery[]): Promise<void> => {
    result.requests++;
    let answer: T[];
    try {
      answer = await run(group.map(tag).join(" or "));
    } catch (err) {
      // A refused query: isolate the expression(s) the server refuses. Anything else (server
      // down, timeout) is the caller's problem for the whole evaluation.
      if (!(err instanceof MetricsError) || err.code !== "bad_query") throw err;
      const groups = [...new Set(group.map((q) => q.group ?? q.key))];
      if (groups.length === 1) {
        for (const q of group) result.errors.set(q.key, err.message);
        return;
      }
      const first = new Set(groups.slice(0, Math.ceil(groups.length / 2)));
      await go(group.filter((q) => first.has(q.group ?? q.key)));
      await go(group.filter((q) => !first.has(q.group ?? q.key)));
      return;
    }
    for (const q of group) result.values.set(q.key, []);
    for (const s of answer) {
      const key = s.labels[KEY_LABEL];
      if (key === undefined) continue;
      const labels = { ...s.labels };
      delete labels[KEY_LABEL];
      result.values.get(key)?.push({ ...s, labels });
    }
  };
  for (const group of chunks(queries, opts)) await go(group);
  return result;
}

/** Instant values of many expressions at `at`. */
export function batchInstant(
  metrics: MetricsPort,
  queries: TaggedQuery[],
  at: Date,
  opts: BatchOptions = {},
): Promise<BatchResult<Sample>> {
  return runBatched(queries, opts, (q) => metrics.instant(q, at));
}

/** Range values of many expressions over the same range and step. */
export function batchRange(
  metrics: MetricsPort,
  queries: TaggedQuery[],
  start: Date,
  end: Date,
  stepSeconds: number,
  opts: BatchOptions = {},
): Promise<BatchResult<Series>> {
  return runBatched(queries, opts, (q) => metrics.range(q, start, end, stepSeconds));
}
