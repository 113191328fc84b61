// vitest global setup: real servers the integration tests need, started once on loopback, stopped after.
// Under CI=true a server that cannot start is a failure, never a skip.
import type { TestProject } from "vitest/node";
import { startPostgres, type RunningPostgres } from "./postgres.js";

let pg: RunningPostgres | undefined;

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

export async function setup(project: TestProject): Promise<void> {
  if (process.env.TEST_DATABASE_URL) {
    project.provide("databaseUrl", process.env.TEST_DATABASE_URL);
    return;
  }
  try {
    pg = await startPostgres();
  } catch (err) {
    if (process.env.CI === "true") throw err;
    console.warn(`PostgreSQL could not start: ${(err as Error).message}`);
  }
  if (!pg && process.env.CI === "true") {
    throw new Error("PostgreSQL 15 is required under CI=true (apt-get install -y postgresql)");
  }
  project.provide("databaseUrl", pg?.url ?? "");
}

export async function teardown(): Promise<void> {
  pg?.stop();
}
