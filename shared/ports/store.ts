/** The store port: SQL over PostgreSQL (node-postgres) or PGlite, same statements on both. */
export interface Sql {
  query<R extends object = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

export interface Store extends Sql {
  readonly kind: "postgres" | "pglite";
  /** Runs fn in one transaction; rolls back if it throws. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
