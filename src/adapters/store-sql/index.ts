/**
 * SQL storage for Stint: one schema and one set of statements over PGlite (embedded default)
 * and PostgreSQL, implementing `Store` from `ports/store.ts`.
 */
export { openExistingStore, openStore, type OpenStoreOptions } from './open-store.js';
export { MEMORY_DATA_DIR } from './pglite.js';
export { DEFAULT_POOL_SIZE } from './postgres.js';
export { MAX_PAGE_SIZE, MIN_PAGE_SIZE } from './cursor.js';
export { lockPathFor, formatLockOwner, type LockOwner } from './lock.js';
export { MIGRATIONS, type Migration } from './migrations.js';
export type { AuditHead, GrantFilter, PackedAuditBatch, Page, PageRequest, Store, StoreTx, StoredCheckpoint, WireAuditBatch } from '../../ports/store.js';
