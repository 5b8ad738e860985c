/**
 * The embedded backend: PGlite (Postgres 17 compiled to WASM) on a local data directory, on a
 * worker thread of its own (pglite-thread.ts) or on the caller's thread (pglite-session.ts).
 */
import { resolve } from 'node:path';
import type { SqlDriver } from './driver.js';
import { toStoreError } from './driver-errors.js';
import { acquireDataDirLock, type DataDirLock } from './lock.js';
import { openPgliteOnWorker, pgliteWorkerAvailable } from './pglite-thread.js';

/** PGlite's in-memory data directory prefix: no files, no lock. For quick tests only. */
export const MEMORY_DATA_DIR = 'memory://';

/** PGlite has no connection string, so its errors carry no secret to remove. */
const NO_SECRETS: readonly string[] = [];

/** Where the database runs: a worker thread of its own (the default), or the caller's thread. */
export type PgliteThread = 'worker' | 'caller';

/** Options of {@link openPgliteDriver}. */
export interface PgliteDriverOptions {
  /**
   * `worker` (default): PGlite runs on a worker thread of its own (pglite-thread.ts), so the
   * database's work (Postgres compiled to WebAssembly, and PGlite's parsing of every result)
   * does not take turns with the broker's requests on one thread: measured in session 9, it was
   * ~38% of the broker thread's CPU per issued grant over HTTP. `caller`: on the calling thread,
   * as before session 9 (used when the compiled worker is not there, see
   * `pgliteWorkerAvailable`).
   */
  readonly thread?: PgliteThread;
}

/**
 * Locks `dataDir` (electric-sql/pglite#1106: a second process would corrupt it), then opens
 * or initialises the database in it, on a worker thread unless `opts.thread` is `caller`.
 * Throws `StintError('store_locked')` when another live process holds the directory.
 */
export async function openPgliteDriver(dataDir: string, opts: PgliteDriverOptions = {}): Promise<SqlDriver> {
  const inMemory = dataDir.startsWith(MEMORY_DATA_DIR);
  let lock: DataDirLock | undefined;
  try {
    lock = inMemory ? undefined : acquireDataDirLock(dataDir);
  } catch (err) {
    // store_locked passes through; a file system error (e.g. EACCES) becomes store_unavailable.
    throw toStoreError(err, NO_SECRETS);
  }
  const location = inMemory ? dataDir : resolve(dataDir);
  try {
    if ((opts.thread ?? 'worker') === 'worker' && pgliteWorkerAvailable()) return await openPgliteOnWorker(location, lock);
    // Loaded only here: a broker whose database runs on the worker never loads PGlite itself.
    const { openPgliteHere } = await import('./pglite-session.js');
    return await openPgliteHere(location, lock);
  } catch (err) {
    lock?.release();
    throw err;
  }
}

