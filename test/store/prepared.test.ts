// The PostgreSQL store runs parameterised queries as named prepared statements, once per connection.
// They must give what unnamed queries give, and survive a table changing under them (a newer
// version's migration during a rolling deploy): the failed transaction drops its connection, so
// the retry prepares afresh instead of failing on every later try. Real PostgreSQL (required
// under CI=true).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../../shared/ports/store.js";
import { openPostgresStore } from "../../shared/store/postgres.js";
import { freshPostgresUrl } from "../support/stores.js";

let store: Store | undefined;
beforeAll(async () => {
  const url = await freshPostgresUrl();
  if (!url) {
    if (process.env.CI === "true")
      throw new Error("CI=true needs PostgreSQL for the prepared-statement tests");
    return;
  }
  // One connection, so every query below meets the statements the earlier ones prepared.
  store = await openPostgresStore(url, { max: 1, warm: 1 });
  await store.query("CREATE TABLE things (id integer PRIMARY KEY, name text NOT NULL)");
});
afterAll(async () => store?.close());

describe("prepared statements", () => {
  it("answers as unnamed queries do, call after call", async () => {
    const db = store;
    if (!db) return expect.fail("no PostgreSQL");
    for (let i = 0; i < 5; i++)
      await db.transaction((tx) => tx.query("INSERT INTO things (id, name) VALUES ($1, $2)", [i, `n${i}`]));
    for (let i = 0; i < 5; i++) {
      const { rows } = await db.query<{ id: number; name: string }>("SELECT * FROM things WHERE id = $1", [
        i,
      ]);
      expect(rows).toEqual([{ id: i, name: `n${i}` }]);
    }
    const all = await db.query<{ n: string }>("SELECT count(*) AS n FROM things WHERE id >= $1", [0]);
    expect(Number(all.rows[0]?.n)).toBe(5);
  });

  it("recovers when a migration changes a table its statements read", async () => {
    const db = store;
    if (!db) return expect.fail("no PostgreSQL");
    const read = () =>
      db.transaction((tx) => tx.query<Record<string, unknown>>("SELECT * FROM things WHERE id = $1", [1]));
    expect((await read()).rows).toEqual([{ id: 1, name: "n1" }]);
    await db.query("ALTER TABLE things ADD COLUMN colour text NOT NULL DEFAULT 'red'");
    // The connection's plan for SELECT * no longer fits: this transaction fails, once.
    await expect(read()).rejects.toThrow(/cached plan must not change result type/);
    expect((await read()).rows).toEqual([{ id: 1, name: "n1", colour: "red" }]);
    expect((await read()).rows).toEqual([{ id: 1, name: "n1", colour: "red" }]);
  });
});
