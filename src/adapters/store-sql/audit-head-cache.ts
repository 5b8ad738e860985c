/**
 * The audit log head as the last committed append left it, kept in memory by a store.
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

/**
 * The committed head of one store: exact on PGlite (trusted), a guess on PostgreSQL.
 *
 * A group commit that writes without a transaction (`SqlStore.commitNewGrants`, one statement
 * that verifies the head it chains to) takes the head out while it runs (`takeForUnlockedCommit`):
 * the statement is queued behind whatever the database runs first, so until it answers nobody
 * may chain to the head it started from. A transaction that appends meanwhile reads the row
 * (on PGlite inside its transaction, so strictly before or after the statement). The commit's
 * new head is put back only if nobody set one since (`finishUnlockedCommit`): whoever did wrote
 * after it, since a write before it makes its check fail.
 */
export class CommittedAuditHead {
  private known: AuditHeadRow | undefined;
  /** Counts every change of `head`. */
  private version = 0;

  /** @internal */
  get head(): AuditHeadRow | undefined {
    return this.known;
  }

  /** @internal */
  set head(head: AuditHeadRow | undefined) {
    this.known = head;
    this.version += 1;
  }

  /** The head one transaction sees and advances; settle it once with the outcome. */
  openTransaction(trusted = true): AuditHeadWrites {
    return new AuditHeadWrites(this, trusted);
  }

  /** The head to chain a one-statement commit to, taken out until `finishUnlockedCommit`; none if unknown. */
  takeForUnlockedCommit(): { readonly guess: AuditHeadRow; readonly version: number } | undefined {
    const guess = this.known;
    if (guess === undefined) return undefined;
    this.head = undefined;
    return { guess, version: this.version };
  }

  /** The one-statement commit taken at `version` wrote `head` (or failed: `undefined`). */
  finishUnlockedCommit(version: number, head: AuditHeadRow | undefined): void {
    if (head !== undefined && this.version === version) this.head = head;
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
