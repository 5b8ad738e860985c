/**
 * The store factory: picks the backend, opens it, applies migrations. The broker uses PGlite by
 * default (one process, no server) and PostgreSQL for several replicas.
 */
import { StintError } from '../../core/errors.js';
import type { Store } from '../../ports/store.js';
import type { SqlDriver } from './driver.js';
import { openPgliteDriver, type PgliteThread } from './pglite.js';
import { DEFAULT_POOL_SIZE, openPostgresDriver } from './postgres.js';
import { MIGRATIONS } from './migrations.js';
import { SqlStore } from './sql-store.js';

/** Where the store lives. */
export type OpenStoreOptions =
  /**
   * Embedded PGlite in `dataDir` (locked against other processes), or `memory://` for throwaway
   * tests; on a worker thread of its own unless `thread` is `caller` (pglite.ts).
   */
  | { readonly kind: 'pglite'; readonly dataDir: string; readonly thread?: PgliteThread }
  /** PostgreSQL at `url`, with up to `poolSize` connections (default 10). */
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize?: number };

/**
 * Opens the store and migrates it. Throws `StintError` `store_locked` (PGlite directory held by
 * another live process), `store_unavailable` (database unreachable; the detail never contains
 * the connection string) or `config_invalid` (bad pool size).
 */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const driver = await openDriver(opts);
  const store = new SqlStore(driver);
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}

/**
 * Opens a store that already exists, for reading it (`stint audit verify --store`): nothing is
 * migrated or created. Throws `store_unavailable` when no Stint schema is there or it is not
 * the one this build writes (the broker migrates it on its next start), besides what
 * {@link openStore} throws.
 */
export async function openExistingStore(opts: OpenStoreOptions): Promise<Store> {
  const driver = await openDriver(opts);
  try {
    let version: number;
    try {
      const rows = await driver.query('SELECT max(version) AS version FROM schema_migrations');
      version = Number(rows[0]?.version ?? 0);
    } catch {
      throw new StintError('store_unavailable', 'no Stint store there: it has no schema_migrations table');
    }
    const latest = MIGRATIONS.at(-1)!.version;
    if (version !== latest) {
      throw new StintError(
        'store_unavailable',
        version < latest
          ? `the store's schema is at version ${version}, this stint reads version ${latest}: start the broker once to migrate it`
          : `the store's schema is at version ${version}, newer than this stint (${latest}): use the stint that wrote it`,
      );
    }
  } catch (err) {
    await driver.close().catch(() => undefined);
    throw err;
  }
  return new SqlStore(driver);
}

async function openDriver(opts: OpenStoreOptions): Promise<SqlDriver> {
  if (opts.kind === 'pglite') return openPgliteDriver(opts.dataDir, opts.thread !== undefined ? { thread: opts.thread } : {});
  const poolSize = opts.poolSize ?? DEFAULT_POOL_SIZE;
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) {
    throw new StintError('config_invalid', 'the store pool size must be a positive integer');
  }
  return openPostgresDriver(opts.url, poolSize);
}
