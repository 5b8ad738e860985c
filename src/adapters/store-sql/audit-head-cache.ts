/**
 * The audit log head as the last committed append left it, kept in memory by a PGlite store.
 *
 * Every append reads the head (size, frontier, last leaf) to chain its entries. On PostgreSQL
 * that read locks the row (`SELECT ... FOR UPDATE`), which is what serialises appends across
 * replicas. On PGlite one process holds the data directory (locked, electric-sql/pglite#1106)
 * and PGlite runs one transaction at a time, so every append goes through this process's
 * `SqlStore.transaction()` and the head can be known without asking: the read cost ~0.4 ms of
 * every group commit (docs/benchmarks.md, "Issuance").
 *
 * The rules, as for the grant liveness cache (liveness.ts):
 * - A transaction's own appends see the head it advanced (`advanced`), never the cache.
 * - Its head becomes the cached one only when COMMIT returned (`committed`); a rollback keeps
 *   the cached head; a COMMIT whose outcome is unknown forgets it, so the next append reads
 *   the row again.
 * - An empty cache is filled by reading the row inside a transaction (nothing else writes it).
 */
import type { SqlRow } from './driver.js';

/** The head row's three values, as `lockAuditHead` returns them. */
export interface AuditHeadRow extends SqlRow {
  readonly size: number | string;
  readonly frontier: readonly string[];
  readonly last_leaf: string;
}

/** The committed head of one PGlite store. */
export class CommittedAuditHead {
  /** @internal */
  head: AuditHeadRow | undefined;

  /** The head one transaction sees and advances; settle it once with the outcome. */
  openTransaction(trusted = true): AuditHeadWrites {
    return new AuditHeadWrites(this, trusted);
  }
}

/** One transaction's view of the head. */
export class AuditHeadWrites {
  private pending: AuditHeadRow | undefined;
  private settled = false;

  /**
   * @param trusted false where other processes may append too (PostgreSQL): the head is then
   * only recorded, as a guess for `SqlStore.commitNewGrants` to verify, and never used in place
   * of reading the row.
   */
  constructor(
    private readonly committed: CommittedAuditHead,
    private readonly trusted = true,
  ) {}

  /** The head this transaction appends after, if known without reading the row. */
  current(): AuditHeadRow | undefined {
    return this.trusted ? (this.pending ?? this.committed.head) : this.pending;
  }

  /** The row was read in this transaction before it appended: it is the committed head. */
  read(head: AuditHeadRow): void {
    if (this.pending === undefined && !this.settled) this.committed.head = head;
  }

  /** This transaction's append statement succeeded and moved the head to `head`. */
  advanced(head: AuditHeadRow): void {
    if (!this.settled) this.pending = head;
  }

  /** `committed`: COMMIT returned; `rolled_back`: never reached COMMIT; `unknown`: COMMIT failed. */
  settle(outcome: 'committed' | 'rolled_back' | 'unknown'): void {
    if (this.settled) return;
    this.settled = true;
    if (outcome === 'committed' && this.pending !== undefined) this.committed.head = this.pending;
    else if (outcome === 'unknown') this.committed.head = undefined;
  }
}
