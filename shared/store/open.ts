import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Store } from "../ports/store.js";
import { migrate } from "./migrations.js";

export interface StoreConfig {
  databaseUrl?: string;
  /** PGlite data directory when no databaseUrl; "memory" for a throwaway in-memory database. */
  dataDir: string;
  /** PostgreSQL pool: most connections, and how many are opened up front and kept. */
  pool?: { max: number; warm: number };
}

/** Opens PostgreSQL when DATABASE_URL is set, else PGlite on disk; runs pending migrations. */
export async function openStore(cfg: StoreConfig): Promise<Store> {
  let store: Store;
  if (cfg.databaseUrl) {
    const { openPostgresStore } = await import("./postgres.js");
    store = await openPostgresStore(cfg.databaseUrl, cfg.pool);
  } else {
    const { openPgliteStore } = await import("./pglite.js");
    if (cfg.dataDir === "memory") {
      store = await openPgliteStore();
    } else {
      mkdirSync(cfg.dataDir, { recursive: true });
      store = await openPgliteStore(join(cfg.dataDir, "pglite"));
    }
  }
  await migrate(store);
  return store;
}
