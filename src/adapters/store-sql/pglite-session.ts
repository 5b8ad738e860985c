/**
 * PGlite on the thread that opens it: the driver that does the work, on the broker's worker
 * thread (pglite-worker.ts) or, with `thread: 'caller'`, on the caller's (pglite.ts). Kept apart
 * from pglite.ts so that a thread that only talks to the worker never loads PGlite itself.
 *
 * PGlite is a single connection. Its `transaction()` and `query()` share one mutex, so
 * transactions run one after another and a statement outside a transaction waits for the open
 * one to finish; the store therefore never issues a store-level query from inside a
 * transaction (see the guard in `sql-store.ts`).
 */
import { PGlite, protocol } from '@electric-sql/pglite';
import type { QueryOptions, SqlDriver, SqlExecutor, SqlRow } from './driver.js';
import { toStoreError } from './driver-errors.js';
import { StintError } from '../../core/errors.js';
import type { DataDirLock } from './lock.js';
import { concatBytes } from './bytes.js';
import { bindExecuteSync } from './pg-bind.js';

/**
 * PGlite writes this text as the data directory's postgresql.conf on every open, replacing the
 * file initdb wrote, so the initdb settings that matter are repeated here. shared_buffers is
 * lowered from initdb's 128MB: measured on this machine, an opened PGlite costs ~300 MB RSS with
 * 128MB, ~200 MB with 32MB and ~165 MB with 8MB, and the broker must stay under 300 MB with
 * 1,000,000 grants (REFERENCE.md section 6; docs/benchmarks.md). The OS page cache still holds
 * the table files, and every hot query is an index probe.
 */
const PGLITE_CONF = [
  'shared_buffers = 8MB',
  'max_wal_size = 1GB',
  'min_wal_size = 80MB',
  'dynamic_shared_memory_type = posix',
  "datestyle = 'iso, mdy'",
  'timezone = UTC',
  'log_timezone = UTC',
  'lc_messages = C',
  'lc_monetary = C',
  'lc_numeric = C',
  'lc_time = C',
  "default_text_search_config = 'pg_catalog.english'",
];

/** Smallest buffer `exchangeWire` collects a response in (it doubles as needed). */
const WIRE_BUFFER_START = 1 << 16;

/** PGlite has no connection string, so its errors carry no secret to remove. */
const NO_SECRETS: readonly string[] = [];
/**
 * Opens the database on this thread; `lock` (held by the caller) is released on close. The
 * worker thread opens its database with this, without a lock: the opening thread holds it.
 */
export async function openPgliteHere(location: string, lock: DataDirLock | undefined): Promise<PgliteDriver> {
  let db: PGlite;
  try {
    db = await PGlite.create(location, { postgresqlconf: PGLITE_CONF });
  } catch (err) {
    throw toStoreError(err, NO_SECRETS);
  }
  return new PgliteDriver(db, lock);
}

/** PGlite on the thread that opened it. */
export class PgliteDriver implements SqlDriver {
  readonly kind = 'pglite' as const;
  readonly offThread = false;
  private closing: Promise<void> | undefined;
  /** Length of the last `exchangeWire` response, to size the next one's buffer. */
  private lastWireLength = 0;
  /** Named statements parsed in this driver's session (PGlite is one session). */
  private readonly prepared = new Set<string>();

  constructor(
    private readonly db: PGlite,
    private readonly lock: DataDirLock | undefined,
  ) {}

  query(sql: string, params: readonly unknown[] = [], options?: QueryOptions): Promise<SqlRow[]> {
    // Outside a transaction a prepared statement is its own (implicit) transaction, committed
    // by its Sync; it takes both of PGlite's locks, as a transaction does, so it never runs
    // inside another caller's open transaction.
    if (options?.prepare !== undefined) return this.db._runExclusiveTransaction(() => this.runPrepared(sql, params, options.prepare!));
    return runQuery(this.db, sql, params);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    // PGlite rolls back and rethrows when the callback throws; remember which error was the
    // callback's own so it is rethrown unchanged, while BEGIN/COMMIT failures get mapped.
    let callbackError: { error: unknown } | undefined;
    try {
      return await this.db.transaction(async (tx) => {
        try {
          return await fn({
            query: (sql, params = [], options?: QueryOptions) =>
              options?.prepare !== undefined ? this.runPrepared(sql, params, options.prepare) : runQuery(tx, sql, params),
          });
        } catch (error) {
          callbackError = { error };
          throw error;
        }
      });
    } catch (err) {
      if (callbackError !== undefined && callbackError.error === err) throw err;
      throw toStoreError(err, NO_SECRETS);
    }
  }

  /**
   * Runs `sql` as the named prepared statement `name` inside the open transaction: Parse once per
   * session, then only Bind, Execute and Sync, sent as one message. PGlite's `query` parses,
   * describes and binds every statement anew in six protocol calls into the WASM module, each
   * with its own fixed cost; for the group commit's ~370-parameter insert this halved the
   * commit (docs/benchmarks.md, "What changed in session 4"). Rows are not parsed here, so
   * `query` stays the path for every statement that returns any.
   * Parameters go as PostgreSQL reads them: text (numbers and booleans as their decimal and
   * `true`/`false` text), binary for bytes, NULL for null. Rows come back with every value as
   * PostgreSQL's text (or null), not type-parsed: for the few statements that return a count
   * (the verified group commit, audit-append.ts).
   *
   * It takes PGlite's query lock only (`runExclusive`), as `tx.query` does: the transaction's
   * own lock is held by the caller (`transaction()`, or `query` for a statement of its own).
   */
  private async runPrepared(sql: string, params: readonly unknown[], name: string): Promise<SqlRow[]> {
    const { serialize } = protocol;
    const parts: Uint8Array[] = [];
    // Close first (no error when there is none): a statement this Set lost track of is replaced.
    if (!this.prepared.has(name)) parts.push(serialize.close({ type: 'S', name }), serialize.parse({ name, text: sql, types: [] }));
    // Bind/Execute/Sync written in one go (pg-bind.ts): PGlite's serializer was 6% of a grant's CPU.
    parts.push(bindExecuteSync(name, params.map(wireValue), true));
    let messages: readonly { name: string }[];
    try {
      ({ messages } = await this.db.runExclusive(() => this.db.execProtocol(parts.length === 1 ? parts[0]! : concatBytes(parts), { syncToFs: false, throwOnError: false })));
    } catch (err) {
      throw toStoreError(err, NO_SECRETS);
    }
    if (messages.some((m) => m.name === 'parseComplete')) this.prepared.add(name);
    const failed = messages.find((m) => m.name === 'error');
    if (failed !== undefined) throw toStoreError(failed, NO_SECRETS);
    return textRows(messages);
  }

  async exchangeWire(message: Uint8Array): Promise<{ readonly bytes: Uint8Array; readonly length: number }> {
    // Sized after the last response (a reader asks for ranges of one size), with room to spare:
    // a fresh buffer per call (it is handed over), without zeroing a megabyte each time.
    let bytes = new Uint8Array(Math.max(WIRE_BUFFER_START, Math.ceil(this.lastWireLength * 1.25)));
    let length = 0;
    const collect = (chunk: Uint8Array): void => {
      if (length + chunk.length > bytes.length) {
        const grown = new Uint8Array(Math.max(bytes.length * 2, length + chunk.length));
        grown.set(bytes.subarray(0, length));
        bytes = grown;
      }
      // The chunk is a view of PGlite's memory, reused after the callback: copied here.
      bytes.set(chunk, length);
      length += chunk.length;
    };
    try {
      // Both of PGlite's locks, as its own describeQuery takes them: execProtocolRawStream takes
      // none, and no query or transaction may run in between (PGlite is one connection).
      await this.db._runExclusiveTransaction(() =>
        this.db.runExclusive(() => this.db.execProtocolRawStream(message, { syncToFs: false, onRawData: collect })),
      );
    } catch (err) {
      throw toStoreError(err, NO_SECRETS);
    }
    this.lastWireLength = length;
    return { bytes, length };
  }

  close(): Promise<void> {
    this.closing ??= this.db
      .close()
      .catch((err: unknown) => {
        throw toStoreError(err, NO_SECRETS);
      })
      .finally(() => this.lock?.release());
    return this.closing;
  }
}

/**
 * The rows of an extended-protocol answer, each value as its text (Bind asked for no result
 * formats), named by the RowDescription that the portal's Describe brought.
 */
function textRows(messages: readonly { name: string }[]): SqlRow[] {
  const rows: SqlRow[] = [];
  let names: string[] | undefined;
  for (const message of messages) {
    if (message.name === 'rowDescription') names = (message as unknown as { fields: { name: string }[] }).fields.map((f) => f.name);
    else if (message.name === 'dataRow') {
      const fields = (message as unknown as { fields: (string | null)[] }).fields;
      const row: SqlRow = {};
      fields.forEach((value, i) => (row[names?.[i] ?? String(i)] = value));
      rows.push(row);
    }
  }
  return rows;
}

/** One parameter as Bind carries it (see `runPrepared`). */
function wireValue(value: unknown): string | Uint8Array | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  throw new StintError('internal', `a prepared statement parameter of type ${typeof value}`);
}

async function runQuery(
  target: Pick<PGlite, 'query' | 'exec'>,
  sql: string,
  params: readonly unknown[],
): Promise<SqlRow[]> {
  try {
    if (params.length === 0) {
      // Without parameters, the simple query protocol: one round trip through the WASM module
      // instead of PGlite's parse/describe/bind/describe/execute (measured ~120 us less per
      // statement, e.g. the audit head lock of every group commit). Same text-format rows,
      // same type parsers. Every statement of the store is a constant; one statement per call.
      const results = await target.exec(sql);
      if (results.length !== 1) throw new StintError('internal', `expected one statement, got ${results.length}`);
      return results[0]!.rows as SqlRow[];
    }
    const result = await target.query<SqlRow>(sql, [...params]);
    return result.rows;
  } catch (err) {
    throw toStoreError(err, NO_SECRETS);
  }
}
