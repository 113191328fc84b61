import pg from "pg";
import type { Sql, Store } from "../ports/store.js";

// timestamptz → ISO string would lose nothing, but Date is what PGlite returns too; keep Date.
export async function openPostgresStore(url: string): Promise<Store> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // Fail fast with the real reason (bad host, auth) instead of on the first query.
  const client = await pool.connect();
  client.release();
  const query: Sql["query"] = async (text, params) => {
    const res = await pool.query(text, params as unknown[] | undefined);
    return { rows: res.rows };
  };
  return {
    kind: "postgres",
    query,
    async transaction(fn) {
      const c = await pool.connect();
      try {
        await c.query("BEGIN");
        const result = await fn({
          query: async (text, params) => ({
            rows: (await c.query(text, params as unknown[] | undefined)).rows,
          }),
        });
        await c.query("COMMIT");
        return result;
      } catch (err) {
        await c.query("ROLLBACK").catch(() => undefined);
        throw err;
      } finally {
        c.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}
