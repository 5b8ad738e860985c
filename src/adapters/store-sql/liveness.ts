/**
 * Grant liveness for RFC 7662 introspection (issue #2, item 13): the narrow read every backend
 * serves, and the bounded in-process cache the PGlite store keeps in front of it.
 *
 * Why a cache is correct on PGlite only: one process holds the data directory (it is locked,
 * electric-sql/pglite#1106, REFERENCE.md section 1), so every change to a grant goes through
 * this process's `SqlStore.transaction()`, which updates the cache at the moment the commit
 * returns. On PostgreSQL another replica may commit at any time, so that store reads every time.
 *
 * The cache rules, each needed for "inactive the instant the grant ends":
 * - A committed write replaces the entry before the committing `transaction()` call resolves.
 * - A rolled-back transaction leaves the entry as it was; a COMMIT whose outcome is unknown (the
 *   COMMIT statement itself failed) deletes it, so the next read goes to the store.
 * - While a transaction that wrote a grant is open, that grant is a miss (the read then waits
 *   for PGlite's single connection, i.e. for the commit or rollback, and sees the outcome).
 * - A value read from the store is installed only if no write began or ended anywhere while the
 *   read was in flight (a global epoch): a read that raced a commit can never put an older value
 *   back over the committed one.
 * - Bounded: at most `maxEntries`, least recently used evicted first, so memory does not grow
 *   with the number of stored grants (docs/benchmarks.md, the 1,000,000-grant RSS goal).
 * Expiry is not cached as a decision: the entry holds `expiresAt`/`decisionDeadline` and the
 * caller applies `isLive` with its clock on every read, as it would to a row.
 */
import type { Grant, GrantStatus } from '../../core/grant.js';
import type { GrantLiveness } from '../../ports/store.js';
import type { SqlRow } from './driver.js';

/** The narrow read: only the columns introspection needs, `task` taken out of the jsonb doc. */
export const SELECT_GRANT_LIVENESS = `SELECT status, expires_at, decision_deadline, tenant, principal, doc->>'task' AS task
  FROM grants WHERE id = $1`;

/**
 * Entries the PGlite store keeps. An entry is ~0.3 KB (id, three short strings, three numbers),
 * so the cache stays under ~3-4 MB however many grants are stored; 10,000 covers every grant a
 * single broker can have live at once in the benchmarks and far more than resource servers
 * introspect concurrently.
 */
export const DEFAULT_LIVENESS_CACHE_ENTRIES = 10_000;

/** The liveness of `row`, selected with `SELECT_GRANT_LIVENESS`. */
export function rowToLiveness(row: SqlRow): GrantLiveness {
  return {
    status: row.status as GrantStatus,
    ...(row.expires_at !== null ? { expiresAt: Number(row.expires_at) } : {}),
    ...(row.decision_deadline !== null ? { decisionDeadline: Number(row.decision_deadline) } : {}),
    tenant: row.tenant as string,
    principal: row.principal as string,
    task: row.task as string,
  };
}

/** The liveness of a grant as it is being written (the same fields the row maps back to). */
export function livenessOf(grant: Grant): GrantLiveness {
  return {
    status: grant.status,
    ...(grant.expiresAt !== undefined ? { expiresAt: grant.expiresAt } : {}),
    ...(grant.decisionDeadline !== undefined ? { decisionDeadline: grant.decisionDeadline } : {}),
    tenant: grant.tenant,
    principal: grant.principal,
    task: grant.task,
  };
}

/** The bounded liveness cache of one PGlite store. See the file comment for its rules. */
export class GrantLivenessCache {
  private readonly entries = new Map<string, GrantLiveness>();
  /** Grant id -> number of open transactions that wrote it. */
  private readonly writing = new Map<string, number>();
  /** Advances whenever a write begins or ends; a fill is installed only if it did not move. */
  private epoch = 0;

  constructor(readonly maxEntries: number = DEFAULT_LIVENESS_CACHE_ENTRIES) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
  }

  /** Entries held now (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  /** The cached liveness, or undefined (a miss: read the store and `fill`). */
  get(id: string): GrantLiveness | undefined {
    if (this.writing.has(id)) return undefined;
    const hit = this.entries.get(id);
    if (hit !== undefined) {
      // Least recently used order: a hit moves to the end.
      this.entries.delete(id);
      this.entries.set(id, hit);
    }
    return hit;
  }

  /** Take before reading the store; pass to `fill` with what the read returned. */
  readTicket(): number {
    return this.epoch;
  }

  /** Installs a value read from the store, unless a write began or ended since `ticket`. */
  fill(id: string, liveness: GrantLiveness, ticket: number): void {
    if (ticket !== this.epoch || this.writing.has(id)) return;
    this.put(id, liveness);
  }

  /** The write set of one transaction; settle it exactly once with its outcome. */
  openTransaction(): LivenessWrites {
    return new LivenessWrites(this);
  }

  /** @internal A transaction wrote `id` (its first write of that grant). */
  beginWrite(id: string): void {
    this.epoch += 1;
    this.writing.set(id, (this.writing.get(id) ?? 0) + 1);
  }

  /**
   * @internal The transaction that wrote `id` ended: `committed` installs `value`, `rolled_back`
   * leaves the entry as it was, `unknown` drops it.
   */
  endWrite(id: string, outcome: 'committed' | 'rolled_back' | 'unknown', value: GrantLiveness): void {
    this.epoch += 1;
    const open = (this.writing.get(id) ?? 1) - 1;
    if (open > 0) this.writing.set(id, open);
    else this.writing.delete(id);
    if (outcome === 'committed') this.put(id, value);
    else if (outcome === 'unknown') this.entries.delete(id);
  }

  private put(id: string, liveness: GrantLiveness): void {
    this.entries.delete(id);
    this.entries.set(id, liveness);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }
}

/** The grants one transaction wrote, with the liveness each will have once it commits. */
export class LivenessWrites {
  private readonly written = new Map<string, GrantLiveness>();
  private settled = false;

  constructor(private readonly cache: GrantLivenessCache) {}

  /** Call after a grant write statement succeeded inside the transaction. */
  record(grant: Grant): void {
    if (this.settled) return;
    if (!this.written.has(grant.id)) this.cache.beginWrite(grant.id);
    this.written.set(grant.id, livenessOf(grant));
  }

  /**
   * The transaction's outcome: `committed` (COMMIT returned), `rolled_back` (the callback threw,
   * so it never reached COMMIT) or `unknown` (COMMIT itself failed: it may have been applied).
   */
  settle(outcome: 'committed' | 'rolled_back' | 'unknown'): void {
    if (this.settled) return;
    this.settled = true;
    for (const [id, value] of this.written) this.cache.endWrite(id, outcome, value);
  }
}
