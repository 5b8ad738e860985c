/**
 * The store factory: picks the backend, opens it, applies migrations. The broker uses PGlite by
 * default (one process, no server) and PostgreSQL for several replicas.
 */
import { StintError } from '../../core/errors.js';
import type { Store } from '../../ports/store.js';
import type { SqlDriver } from './driver.js';
import { openPgliteDriver } from './pglite.js';
import { DEFAULT_POOL_SIZE, openPostgresDriver } from './postgres.js';
import { SqlStore } from './sql-store.js';

/** Where the store lives. */
export type OpenStoreOptions =
  /** Embedded PGlite in `dataDir` (locked against other processes), or `memory://` for throwaway tests. */
  | { readonly kind: 'pglite'; readonly dataDir: string }
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

async function openDriver(opts: OpenStoreOptions): Promise<SqlDriver> {
  if (opts.kind === 'pglite') return openPgliteDriver(opts.dataDir);
  const poolSize = opts.poolSize ?? DEFAULT_POOL_SIZE;
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) {
    throw new StintError('config_invalid', 'the store pool size must be a positive integer');
  }
  return openPostgresDriver(opts.url, poolSize);
}
