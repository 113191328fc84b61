import { createHash } from "node:crypto";
import pg from "pg";
import type { Sql, Store } from "../ports/store.js";

/**
 * A query with parameters runs as a named prepared statement (named by its text), so each
 * connection parses and plans it once rather than on every call: the alert path's dozen
 * statements per alert are then mostly bind-and-execute. Statements without parameters
 * (migrations, BEGIN/COMMIT) go as they are, since several statements in one text cannot be
 * prepared.
 */
const statementNames = new Map<string, string>();
function prepared(text: string, params: readonly unknown[] | undefined): pg.QueryConfig | string {
  if (!params || params.length === 0) return text;
  let name = statementNames.get(text);
  // The texts are the code's own; a runaway set would mean generated SQL, which stays unnamed.
  if (!name && statementNames.size >= 2000) return { text, values: params as unknown[] };
  if (!name) {
    name = `p_${createHash("sha1").update(text).digest("hex").slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return { name, text, values: params as unknown[] };
}

/** "cached plan must not change result type" (0A000), or a prepared statement gone (26000). */
function stalePrepared(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === "26000" || (code === "0A000" && /cached plan/i.test(String((err as Error).message)));
}

// timestamptz → ISO string would lose nothing, but Date is what PGlite returns too; keep Date.
export async function openPostgresStore(
  url: string,
  poolSize: { max: number; warm: number } = { max: 20, warm: 4 },
): Promise<Store> {
  // Alerts of one incident group wait for each other's transactions (an advisory lock per group)
  // holding their connections meanwhile: a pool of 10 then stalled unrelated work during storms.
  // A few connections are opened up front and kept (min), and the others live for a minute idle:
  // a storm's first alerts then do not each wait for a new server process (tens of ms apiece on
  // a busy machine), nor the next storm for the pool to grow again.
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize.max,
    min: Math.min(poolSize.warm, poolSize.max),
    idleTimeoutMillis: 60_000,
  });
  // Fail fast with the real reason (bad host, auth) instead of on the first query.
  const warm = Math.max(1, Math.min(poolSize.warm, poolSize.max));
  const clients = await Promise.all(Array.from({ length: warm }, () => pool.connect()));
  for (const c of clients) c.release();
  const query: Sql["query"] = async (text, params) => {
    const res = await pool.query(prepared(text, params));
    return { rows: res.rows };
  };
  return {
    kind: "postgres",
    query,
    async transaction(fn) {
      const c = await pool.connect();
      let released = false;
      try {
        await c.query("BEGIN");
        const result = await fn({
          query: async (text, params) => ({
            rows: (await c.query(prepared(text, params))).rows,
          }),
        });
        await c.query("COMMIT");
        return result;
      } catch (err) {
        await c.query("ROLLBACK").catch(() => undefined);
        // A statement this connection prepared no longer fits its table (a newer version's
        // migration added a column during a rolling deploy): drop the connection, and with it its
        // prepared statements, so the retry prepares afresh. (pool.query drops a connection on
        // any error by itself.)
        if (stalePrepared(err)) {
          released = true;
          c.release(err as Error);
        }
        throw err;
      } finally {
        if (!released) c.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}
