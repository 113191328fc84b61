// Helpers for tests that need a real server: outside CI a missing server skips the suite
// with the reason; under CI=true it fails.
import { inject } from "vitest";

export function requireDatabaseUrl(): string | undefined {
  const url = inject("databaseUrl");
  if (!url && process.env.CI === "true")
    throw new Error("no PostgreSQL for the integration tests under CI=true");
  return url || undefined;
}
