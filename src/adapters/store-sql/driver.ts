/**
 * The small SQL driver the store is written against. PGlite (Postgres 17 in WASM) and
 * PostgreSQL speak the same SQL, so `sql-store.ts` holds every statement once and only this
 * interface differs between the two backends.
 */

/** A result row as the driver returns it; the store maps rows in `row.ts`. */
export type SqlRow = Record<string, unknown>;

/** Something that runs one parameterised statement ($1, $2, ...). */
export interface SqlExecutor {
  /**
   * Runs one statement and returns its rows. Driver failures are rethrown as `StintError`
   * (`store_unavailable`, or `conflict` for unique violations and serialization failures).
   */
  query(sql: string, params?: readonly unknown[]): Promise<SqlRow[]>;
}

/** A connection source: single statements, transactions, and shutdown. */
export interface SqlDriver extends SqlExecutor {
  readonly kind: 'pglite' | 'postgres';
  /**
   * Runs `fn` inside BEGIN/COMMIT on one connection; rolls back and rethrows `fn`'s own error
   * unchanged when it throws.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Releases every connection (and, for PGlite, the data directory lock). Idempotent. */
  close(): Promise<void>;
}
