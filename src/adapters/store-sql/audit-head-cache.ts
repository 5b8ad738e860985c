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
 * Group commits that write without a transaction (`SqlStore.commitNewGrants`: one statement that
 * verifies the head it chains to) may be in flight, several at once, each chained to the head the
 * one sent before it will leave (`sendUnlockedCommit`). While any is in flight the committed head is
 * unknown here: transactions read the row (on PGlite inside their transaction, so strictly before
 * or after each statement in the database's order) and what they learn is not kept, since a
 * statement queued behind them may move the head after they read it. When the last one answers,
 * the head it left is kept only if every one sent meanwhile wrote what it was chained to and no
 * transaction read or moved the head in between; otherwise the next append reads the row. A wrong
 * guess never writes anything (the statement checks it), so these rules only decide how often the
 * row is read, never what the log holds.
 */
export class CommittedAuditHead {
  private known: AuditHeadRow | undefined;
  /** Unlocked commits sent and not yet answered. */
  private inFlight = 0;
  /** The head the last one sent leaves if all in flight succeed. */
  private tip: AuditHeadRow | undefined;
  /** Since the first of those in flight was sent: one failed, or a transaction read or moved the head. */
  private spoiled = false;

  /** @internal The committed head, when known. */
  get head(): AuditHeadRow | undefined {
    return this.known;
  }

  /** @internal A transaction read the row, or committed a new head. */
  set head(head: AuditHeadRow | undefined) {
    if (this.inFlight > 0) this.spoiled = true;
    else this.known = head;
  }

  /** The head one transaction sees and advances; settle it once with the outcome. */
  openTransaction(trusted = true): AuditHeadWrites {
    return new AuditHeadWrites(this, trusted);
  }

  /** The head to chain the next one-statement commit to, if known: after those in flight, else the committed one. */
  guessForUnlockedCommit(): AuditHeadRow | undefined {
    if (this.inFlight === 0) return this.known;
    return this.spoiled ? undefined : this.tip;
  }

  /** A one-statement commit chained to the guess was sent; it leaves `next` if it succeeds. */
  sendUnlockedCommit(next: AuditHeadRow): void {
    this.known = undefined;
    this.tip = next;
    this.inFlight += 1;
  }

  /** A commit sent with `sendUnlockedCommit(next)` answered: it wrote (`written`), or not or not surely. */
  finishUnlockedCommit(next: AuditHeadRow, written: boolean): void {
    this.inFlight -= 1;
    if (!written) this.spoiled = true;
    if (this.inFlight > 0) return;
    // The last one sent is the last one the database ran (one connection, in order): its head
    // is the log's if nothing spoiled the chain meanwhile.
    this.known = !this.spoiled && next === this.tip ? next : undefined;
    this.tip = undefined;
    this.spoiled = false;
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
