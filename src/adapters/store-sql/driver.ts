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
  query(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<SqlRow[]>;
}

/** How to run one statement. */
export interface QueryOptions {
  /**
   * PostgreSQL: run it as the named prepared statement `prepare` (parsed once per connection,
   * then only bound and executed). The name must stand for this exact text, and the set of
   * names must stay small: the server keeps each one per connection. PGlite ignores it.
   */
  readonly prepare?: string;
}

/** A connection source: single statements, transactions, and shutdown. */
export interface SqlDriver extends SqlExecutor {
  readonly kind: 'pglite' | 'postgres';
  /** The database runs its statements off the calling thread (a server, or PGlite on a worker thread). */
  readonly offThread: boolean;
  /**
   * Runs `fn` inside BEGIN/COMMIT on one connection; rolls back and rethrows `fn`'s own error
   * unchanged when it throws.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Releases every connection (and, for PGlite, the data directory lock). Idempotent. */
  close(): Promise<void>;
  /**
   * PGlite only: sends `message` (PostgreSQL frontend messages of the extended query protocol,
   * ending with Sync) to the database as it stands, with no other statement or transaction in
   * between, and returns the backend's response bytes unparsed (a fresh buffer the caller owns;
   * it may be longer than the response, which is `[0, length)`). Errors come back as an
   * ErrorResponse inside the bytes, not as a rejection (src/adapters/store-sql/audit-wire.ts).
   * PGlite parses every result field in JavaScript on the thread that opened it; this lets a
   * bulk reader parse only what it needs, and elsewhere (issue #2, item 13).
   */
  exchangeWire?(message: Uint8Array): Promise<{ readonly bytes: Uint8Array; readonly length: number }>;
}
