// Fresh, migrated stores for tests: a new database on the suite's real PostgreSQL, or PGlite.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { Deps } from "../../shared/function.js";
import { SimulatedClock } from "../../shared/ports/clock.js";
import { silentLogger } from "../../shared/ports/log.js";
import type { Store } from "../../shared/ports/store.js";
import { openStore } from "../../shared/store/open.js";
import type { RuntimeDeps } from "../../infra/runtime/deps.js";
import { requireDatabaseUrl } from "../setup/require.js";

let counter = 0;

/** A new, empty database on the test PostgreSQL; undefined if none runs (outside CI). */
export async function freshPostgresUrl(): Promise<string | undefined> {
  const base = requireDatabaseUrl();
  if (!base) return undefined;
  const name = `t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function freshPostgresStore(): Promise<Store | undefined> {
  const url = await freshPostgresUrl();
  return url ? openStore({ databaseUrl: url, dataDir: "unused" }) : undefined;
}

export async function freshPgliteStore(): Promise<{ store: Store; cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "prophet-pglite-"));
  const store = await openStore({ dataDir: dir });
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function testDeps(
  store: Store,
  clock = new SimulatedClock("2026-11-22T09:14:05Z"),
): Deps & { clock: SimulatedClock } {
  return { store, clock, log: silentLogger, cluster: "test" };
}

export function runtimeDeps(
  store: Store,
  clock = new SimulatedClock("2026-11-22T09:14:05Z"),
): RuntimeDeps & { clock: SimulatedClock } {
  return { ...testDeps(store, clock), close: () => store.close() };
}
