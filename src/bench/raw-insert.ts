/**
 * The issuance benchmark's reference: one single-row INSERT+COMMIT per operation through the
 * store's own driver (`openPgliteDriver` on the caller's thread, see `openRawInsertDriver`;
 * `openPostgresDriver` as the broker opens it), each row carrying a real issued grant's doc. Shared by the in-process reference (issuance.ts) and
 * the same write behind a bare HTTP server (raw-insert-server.ts).
 */
import type { SqlDriver } from '../adapters/store-sql/driver.js';
import { openPgliteDriver } from '../adapters/store-sql/pglite.js';
import { DEFAULT_POOL_SIZE, openPostgresDriver } from '../adapters/store-sql/postgres.js';
import { DOC_PARAM, grantToParams } from '../adapters/store-sql/row.js';
import { timeSortableId } from '../service/context.js';
import { sampleGrant } from './sample-grants.js';

/** The reference table: a primary key and a jsonb doc, like the grants table without its indexes. */
export const RAW_TABLE = `CREATE TABLE IF NOT EXISTS bench_raw_insert (id text COLLATE "C" PRIMARY KEY, doc jsonb NOT NULL)`;
const RAW_INSERT = 'INSERT INTO bench_raw_insert (id, doc) VALUES ($1, $2::jsonb)';

/** The doc column of a freshly issued grant, as the store writes it. */
export function issuedGrantDoc(): string {
  const { grant } = sampleGrant({ id: timeSortableId(Date.now()), createdAt: Date.now(), status: 'active' });
  return grantToParams(grant)[DOC_PARAM - 1] as string;
}

/** Where the reference writes: a PGlite data directory or a PostgreSQL URL. */
export type RawInsertStore = { readonly kind: 'pglite'; readonly dataDir: string } | { readonly kind: 'postgres'; readonly url: string };

/**
 * Opens the store's driver and makes sure the reference table exists. PGlite runs on the
 * caller's thread here, not on the worker thread the broker gives it: a transaction of its own
 * per row is the reference, and on the worker thread each of its statements is a round trip
 * between threads (measured in session 9: 2,744-2,790/s there against 5,333-5,480/s on the
 * caller's thread, BEGIN/INSERT/COMMIT). The reference is the store at its fastest for this
 * write, so the broker's thread choice can only make its own figure better or worse, never
 * the reference slower.
 */
export async function openRawInsertDriver(store: RawInsertStore): Promise<SqlDriver> {
  const driver = store.kind === 'pglite' ? await openPgliteDriver(store.dataDir, { thread: 'caller' }) : await openPostgresDriver(store.url, DEFAULT_POOL_SIZE);
  try {
    await driver.query(RAW_TABLE);
  } catch (err) {
    await driver.close();
    throw err;
  }
  return driver;
}

/** One reference operation: a new row in its own transaction; returns the row's id. */
export async function insertRawRow(driver: SqlDriver, doc: string): Promise<string> {
  const id = timeSortableId(Date.now());
  await driver.transaction((tx) => tx.query(RAW_INSERT, [id, doc]));
  return id;
}
