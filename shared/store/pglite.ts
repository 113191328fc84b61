// PGlite: PostgreSQL compiled to WASM, the embedded default store. Loaded with a dynamic import so
// functions deployed against a real PostgreSQL never pay for it at cold start.
import type { Sql, Store } from "../ports/store.js";

/** dataDir undefined = in memory (slow to open: ~2 s; a reopened data dir takes ~0.4 s). */
export async function openPgliteStore(dataDir?: string): Promise<Store> {
  const { PGlite } = await import("@electric-sql/pglite");
  const db = dataDir ? new PGlite(dataDir) : new PGlite();
  await db.waitReady;
  // PGlite is one connection: statements from concurrent callers are queued by PGlite itself, and
  // a transaction holds the connection until it ends.
  return {
    kind: "pglite",
    async query(text, params) {
      const res = params?.length
        ? await db.query(text, params)
        : await db.exec(text).then((r) => r.at(-1) ?? { rows: [] });
      return { rows: res.rows as never[] };
    },
    async transaction(fn) {
      return db.transaction(async (tx) =>
        fn({
          query: async (text, params) => {
            const res = params?.length
              ? await tx.query(text, params)
              : await tx.exec(text).then((r) => r.at(-1) ?? { rows: [] });
            return { rows: res.rows as never[] };
          },
        } satisfies Sql),
      );
    },
    async close() {
      await db.close();
    },
  };
}
