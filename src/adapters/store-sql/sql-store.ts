/**
 * `Store` and `StoreTx` over the SQL driver. Every statement lives here once and runs unchanged
 * on PGlite and PostgreSQL. Nothing reads a whole table into memory: lists are keyset-paged,
 * claims are bounded by LIMIT, and each query is served by an index from `migrations.ts`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuditEventInput, AuditRecord, EventType } from '../../core/events.js';
import type { CredentialState, Grant, GrantStatus } from '../../core/grant.js';
import { StintError, isStintError } from '../../core/errors.js';
import type { AuditHead, GrantFilter, GrantLiveness, PackedAuditBatch, Page, PageRequest, Store, StoreTx, StoredCheckpoint, WireAuditBatch } from '../../ports/store.js';
import { toHex } from '../../audit/merkle.js';
import type { QueryOptions, SqlDriver, SqlExecutor, SqlRow } from './driver.js';
import { clampPageSize, decodeCursor, encodeCursor } from './cursor.js';
import { migrate } from './migrations.js';
import { readAuditPacked } from './audit-packed.js';
import { readAuditWire } from './audit-wire.js';
import { GrantLivenessCache, SELECT_GRANT_LIVENESS, rowToLiveness, type LivenessWrites } from './liveness.js';
import { insertGrantRows } from './grant-rows.js';
import { lockGrantRows, updateGrantRows } from './grant-batch.js';
import {
  advanceAuditHead,
  chainAuditEntries,
  fitsOneStatement,
  insertAuditRows,
  insertGrantsWithAudit,
  prepareVerifiedGroupCommit,
  runVerifiedGroupCommit,
  lockAuditHead,
} from './audit-append.js';
import { CommittedAuditHead, type AuditHeadRow, type AuditHeadWrites } from './audit-head-cache.js';
import { DOC_PARAM, GRANT_COLUMNS, GRANT_SELECT, VERSION_PARAM, assertStorable, grantToParams, rowToGrant } from './row.js';

/** After a wrong head guess, this many group commits lock the head first before guessing again. */
const LOCKED_COMMITS_AFTER_MISS = 8;

/** A group commit's failure as callers see it: a duplicate grant, or the audit log unavailable. */
function groupCommitError(err: unknown, grants: number): unknown {
  if (isStintError(err) && err.code === 'conflict') return new StintError('conflict', `one of ${grants} new grants already exists`, withReason(err));
  if (isStintError(err) && err.code === 'store_unavailable') return new StintError('audit_unavailable', undefined, withReason(err));
  return err;
}

/** Credential states with pending work; the `grants_credential_work` partial index covers exactly these. */
const CREDENTIAL_WORK_STATES: readonly CredentialState[] = ['provisioning', 'revoking', 'revoke_failed'];

/** Every credential state; claim queries inline states as literals, so only these are accepted. */
const CREDENTIAL_STATES: ReadonlySet<CredentialState> = new Set<CredentialState>([
  'none',
  'provisioning',
  'issued',
  'revoking',
  'revoked',
  'revoke_failed',
]);

/**
 * Expired DPoP proof ids deleted per `rememberDpopJti` call. Each call adds at most one row and
 * removes up to this many expired ones, so any backlog drains and the table stays about as
 * large as the proofs still inside their iat window.
 */
const DPOP_SWEEP_LIMIT = 100;

/**
 * A new (jkt, jti) row, or an expired one taken over: a pair counts as seen only until its
 * `expires_at`, whether or not the sweep has reached it yet. On a live row nothing is written
 * and nothing returned, which is the replay answer; concurrent inserts of one pair serialise
 * on the primary key, so exactly one of them returns a row.
 */
const REMEMBER_DPOP_JTI = `INSERT INTO dpop_jti (expires_at, jkt, jti) VALUES ($1, $2, $3)
  ON CONFLICT (jkt, jti) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE dpop_jti.expires_at < $4
  RETURNING 1 AS remembered`;

/**
 * Deletes up to DPOP_SWEEP_LIMIT expired rows. SKIP LOCKED: replicas sweeping at the same time
 * take different rows instead of queueing behind each other's deletes.
 */
const SWEEP_DPOP_JTI = `DELETE FROM dpop_jti WHERE ctid IN (
    SELECT ctid FROM dpop_jti WHERE expires_at < $1 LIMIT ${DPOP_SWEEP_LIMIT} FOR UPDATE SKIP LOCKED
  ) AND expires_at < $1`;

/** Rows per multi-row audit INSERT, well under PostgreSQL's 65,535 bind parameters (7 per row). */
const AUDIT_INSERT_CHUNK = 1000;

const INSERT_GRANT = `INSERT INTO grants (${GRANT_SELECT}) VALUES (${GRANT_COLUMNS.map((_, i) =>
  i + 1 === DOC_PARAM ? `$${i + 1}::jsonb` : `$${i + 1}`,
).join(', ')})`;

// Every column except the key is rewritten; the version check makes the write conditional.
const UPDATE_GRANT = `UPDATE grants SET ${GRANT_COLUMNS.slice(1)
  .map((column, i) => `${column} = $${i + 2}${i + 2 === DOC_PARAM ? '::jsonb' : ''}`)
  .join(', ')} WHERE id = $1 AND version = $${VERSION_PARAM} - 1`;

/** The SQL store. Create it with `openStore`. */
export class SqlStore implements Store {
  readonly kind: 'pglite' | 'postgres';
  readonly commitsOffThread: boolean;
  readonly groupCommitsInFlight: number;
  private closed = false;
  /**
   * Marks code running inside `transaction()`. A store-level call from there would deadlock on
   * PGlite (single connection, electric-sql/pglite mutex) and read outside the transaction on
   * PostgreSQL, so it is refused on both.
   */
  private readonly insideTransaction = new AsyncLocalStorage<{ open: boolean }>();
  /** PGlite: settles when the last transaction begun in this process has settled (`transaction`). */
  private transactionsSettled: Promise<void> = Promise.resolve();
  /**
   * PGlite only: one process holds the data directory (locked), so every grant write passes
   * through `transaction()` here and the cache can change exactly when the commit does
   * (liveness.ts). PostgreSQL may be written by other replicas: it reads every time.
   */
  private readonly liveness: GrantLivenessCache | undefined;
  /** PGlite only, for the same reason: the audit head as last committed (audit-head-cache.ts). */
  private readonly auditHeadCache: CommittedAuditHead | undefined;
  /**
   * PostgreSQL only: the audit head as this process last saw it committed. Only a guess (other
   * replicas append too): `commitNewGrants` writes after it in one statement that checks it.
   */
  private readonly auditHeadGuess: CommittedAuditHead | undefined;
  /** Group commits left to run the locking way after a wrong guess (replicas are appending). */
  private lockedCommitsAfterMiss = 0;
  /** How `commitNewGrants` went (tests, operations): one verified statement, or the locking transaction. */
  readonly groupCommits = { oneStatement: 0, headMoved: 0, locked: 0 };

  /** `Store.readAuditWire`: present when the driver hands out its wire bytes (PGlite). */
  readonly readAuditWire?: (fromSeq: number, limit: number) => Promise<WireAuditBatch>;

  constructor(private readonly driver: SqlDriver) {
    this.kind = driver.kind;
    this.commitsOffThread = driver.offThread;
    // PGlite on its worker runs statements one after another on its one session, so a second
    // group commit waits in its queue, not for a lock; PostgreSQL's go out on one connection in turn.
    this.groupCommitsInFlight = driver.kind === 'pglite' && driver.offThread ? 2 : 1;
    this.liveness = driver.kind === 'pglite' ? new GrantLivenessCache() : undefined;
    this.auditHeadCache = driver.kind === 'pglite' ? new CommittedAuditHead() : undefined;
    this.auditHeadGuess = driver.kind === 'postgres' ? new CommittedAuditHead() : undefined;
    if (driver.exchangeWire !== undefined) {
      this.readAuditWire = async (fromSeq, limit) => {
        this.assertUsable();
        return (await readAuditWire(this.driver, fromSeq, limit))!;
      };
    }
  }

  async migrate(): Promise<void> {
    this.assertUsable();
    await migrate(this.driver);
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    this.assertUsable();
    if (this.auditHeadCache === undefined) return this.runTransaction(fn);
    // PGlite runs one transaction at a time anyway; here each one also starts only once the one
    // before it has settled the caches (liveness, audit head) with its outcome, so a transaction
    // never chains to a head that an earlier one has already moved in the database but not yet
    // here (with the database on its worker thread, answers arrive as messages).
    const previous = this.transactionsSettled;
    let settled!: () => void;
    this.transactionsSettled = new Promise<void>((resolve) => (settled = resolve));
    try {
      await previous;
      return await this.runTransaction(fn);
    } finally {
      settled();
    }
  }

  private async runTransaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const marker = { open: true };
    const writes = this.liveness?.openTransaction();
    const head = this.auditHeadCache?.openTransaction() ?? this.auditHeadGuess?.openTransaction(false);
    let reachedCommit = false;
    try {
      const result = await this.insideTransaction.run(marker, () =>
        this.driver.transaction(async (executor) => {
          const guarded = new GuardedExecutor(executor);
          try {
            const result = await fn(new SqlStoreTx(guarded, writes, head));
            if (guarded.failed) {
              // The database aborted the transaction at the failed statement; COMMIT would
              // silently roll back. Report it instead of pretending the work was saved.
              throw new StintError('internal', 'a statement failed inside the transaction; nothing was saved', {
                internalReason: 'transaction callback swallowed a store error and returned normally',
              });
            }
            reachedCommit = true;
            return result;
          } finally {
            guarded.end();
            marker.open = false;
          }
        }),
      );
      // Before the caller hears "committed": introspection answers from the new state at once.
      writes?.settle('committed');
      head?.settle('committed');
      return result;
    } catch (err) {
      // A failed COMMIT may still have been applied: forget those grants rather than guess.
      writes?.settle(reachedCommit ? 'unknown' : 'rolled_back');
      head?.settle(reachedCommit ? 'unknown' : 'rolled_back');
      throw err;
    }
  }

  /**
   * The group commit of new grants. When this process knows the head (on PGlite exactly, on
   * PostgreSQL the one it last committed), one statement checks that head and writes everything
   * (audit-append.ts `prepareVerifiedGroupCommit`): one round trip instead of BEGIN with the
   * head lock, the insert, and COMMIT; on PGlite on its worker thread, one message, during which
   * the database waits for nothing on the broker's thread. When another replica or transaction
   * appended meanwhile, that statement writes nothing, and the batch goes the locking way (as it
   * does for the next few batches, since others are then appending too).
   */
  async commitNewGrants(grants: readonly Grant[], events: readonly AuditEventInput[], time: number): Promise<AuditRecord[]> {
    this.assertUsable();
    const heads = this.auditHeadGuess ?? this.auditHeadCache;
    if (heads !== undefined && this.lockedCommitsAfterMiss > 0) this.lockedCommitsAfterMiss -= 1;
    else if (heads !== undefined && fitsOneStatement(grants.length, events.length)) {
      if (!Number.isSafeInteger(time)) throw new StintError('internal', 'audit time must be integer epoch milliseconds');
      const guess = heads.guessForUnlockedCommit();
      if (guess !== undefined) {
        // Chained and announced before it is sent, so the next batch can be chained after it.
        const commit = prepareVerifiedGroupCommit(grants, events, time, guess);
        heads.sendUnlockedCommit(commit.head);
        // As in a transaction (SqlStoreTx.insertGrants): the liveness cache learns of the rows
        // only once the statement has committed them.
        const writes = this.liveness?.openTransaction();
        for (const grant of grants) writes?.record(grant);
        let written: boolean;
        try {
          written = await runVerifiedGroupCommit(this.driver, commit);
        } catch (err) {
          // Committed or not is unknown for some failures: the head is forgotten (the next
          // append reads the row) and the liveness cache forgets these grants.
          heads.finishUnlockedCommit(commit.head, false);
          writes?.settle('unknown');
          throw groupCommitError(err, grants.length);
        }
        heads.finishUnlockedCommit(commit.head, written);
        if (written) {
          writes?.settle('committed');
          this.groupCommits.oneStatement += 1;
          return commit.records;
        }
        writes?.settle('rolled_back');
        this.groupCommits.headMoved += 1;
        this.lockedCommitsAfterMiss = LOCKED_COMMITS_AFTER_MISS;
      }
    }
    this.groupCommits.locked += 1;
    // The same errors either way: a new grant that cannot be written with its audit events fails
    // closed as audit_unavailable, whichever path its batch took (the one-statement path above
    // maps them alike; which one a batch takes depends on timing, not on the request).
    try {
      return await this.transaction((tx) => tx.insertGrantsWithAudit(grants, events, time));
    } catch (err) {
      throw groupCommitError(err, grants.length);
    }
  }

  async getGrant(id: string): Promise<Grant | undefined> {
    this.assertUsable();
    const rows = await this.driver.query(`SELECT ${GRANT_SELECT} FROM grants WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : rowToGrant(rows[0]);
  }

  async grantLiveness(id: string): Promise<GrantLiveness | undefined> {
    this.assertUsable();
    const cache = this.liveness;
    const hit = cache?.get(id);
    if (hit !== undefined) return hit;
    const ticket = cache?.readTicket();
    const rows = await this.driver.query(SELECT_GRANT_LIVENESS, [id]);
    if (rows[0] === undefined) return undefined;
    const liveness = rowToLiveness(rows[0]);
    if (ticket !== undefined) cache?.fill(id, liveness, ticket);
    return liveness;
  }

  async listGrants(filter: GrantFilter, page: PageRequest): Promise<Page<Grant>> {
    this.assertUsable();
    const limit = clampPageSize(page.limit);
    const params: unknown[] = [];
    const where: string[] = [];
    const bind = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    if (filter.tenant !== undefined) where.push(`tenant = ${bind(filter.tenant)}`);
    if (filter.status !== undefined) where.push(`status = ${bind(filter.status)}`);
    if (filter.target !== undefined) where.push(`target = ${bind(filter.target)}`);
    if (filter.principal !== undefined) where.push(`principal = ${bind(filter.principal)}`);
    if (filter.kind !== undefined) where.push(`kind = ${bind(filter.kind)}`);
    if (filter.parentId !== undefined) where.push(`parent_id = ${bind(filter.parentId)}`);
    if (filter.needsReview !== undefined) where.push(filter.needsReview ? 'needs_review' : 'NOT needs_review');
    if (page.cursor !== undefined) where.push(`id < ${bind(decodeCursor(page.cursor))}`);
    // One extra row tells whether another page follows without a COUNT.
    const sql = `SELECT ${GRANT_SELECT} FROM grants${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id DESC LIMIT ${bind(limit + 1)}`;
    const rows = await this.driver.query(sql, params);
    const items = rows.slice(0, limit).map(rowToGrant);
    const last = items[items.length - 1];
    return rows.length > limit && last !== undefined ? { items, nextCursor: encodeCursor(last.id) } : { items };
  }

  async countByStatus(): Promise<Partial<Record<GrantStatus, number>>> {
    this.assertUsable();
    const rows = await this.driver.query('SELECT status, count(*) AS n FROM grants GROUP BY status');
    const counts: Partial<Record<GrantStatus, number>> = {};
    for (const row of rows) counts[row.status as GrantStatus] = Number(row.n);
    return counts;
  }

  async credentialHolders(target: string): Promise<string[]> {
    this.assertUsable();
    const rows = await this.driver.query(
      `SELECT id FROM grants WHERE target = $1 AND credential_state IN ('provisioning', 'issued', 'revoking', 'revoke_failed')`,
      [target],
    );
    return rows.map((row) => String(row.id));
  }

  async nextDueAt(): Promise<number | undefined> {
    this.assertUsable();
    // Each min() is one probe of its partial index; LEAST ignores the NULLs of empty sets.
    const rows = await this.driver.query(`SELECT LEAST(
        (SELECT min(expires_at) FROM grants WHERE status = 'active'),
        (SELECT min(decision_deadline) FROM grants WHERE status IN ('pending_approval', 'approved')),
        (SELECT min(revoke_next_at) FROM grants WHERE ${credentialStateIn(CREDENTIAL_WORK_STATES)})
      ) AS due`);
    const due = rows[0]?.due;
    return due === null || due === undefined ? undefined : Number(due);
  }

  async auditHead(): Promise<AuditHead> {
    this.assertUsable();
    const rows = await this.driver.query('SELECT size, frontier FROM audit_head WHERE id = 1');
    const head = requireHead(rows[0]);
    return { size: Number(head.size), frontier: head.frontier as string[] };
  }

  async readAudit(fromSeq: number, limit: number): Promise<AuditRecord[]> {
    this.assertUsable();
    if (limit <= 0) return [];
    const rows = await this.driver.query(
      `SELECT seq, time, type, actor, grant_id, canonical, leaf_hash FROM audit_events
        WHERE seq >= $1 AND seq < $2 ORDER BY seq`,
      [fromSeq, fromSeq + limit],
    );
    return rows.map(rowToAuditRecord);
  }

  async readAuditPacked(fromSeq: number, limit: number): Promise<PackedAuditBatch> {
    this.assertUsable();
    return readAuditPacked(this.driver, fromSeq, limit);
  }

  async readLeafHashes(from: number, to: number): Promise<Uint8Array[]> {
    this.assertUsable();
    if (to <= from) return [];
    const rows = await this.driver.query('SELECT leaf_hash FROM audit_events WHERE seq >= $1 AND seq < $2 ORDER BY seq', [
      from,
      to,
    ]);
    return rows.map((row) => new Uint8Array(row.leaf_hash as Uint8Array));
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | undefined> {
    this.assertUsable();
    const rows = await this.driver.query(
      'SELECT size, root_hash, note, created_at FROM audit_checkpoints ORDER BY size DESC LIMIT 1',
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return {
      size: Number(row.size),
      rootHash: row.root_hash as string,
      note: row.note as string,
      createdAt: Number(row.created_at),
    };
  }

  async rememberDpopJti(jkt: string, jti: string, expiresAt: number, now: number): Promise<boolean> {
    this.assertUsable();
    assertStorable(jkt, 'dpop jkt');
    assertStorable(jti, 'dpop jti');
    if (!Number.isSafeInteger(expiresAt) || !Number.isSafeInteger(now)) {
      throw new StintError('internal', 'DPoP proof id times must be integer epoch milliseconds');
    }
    // Sweep first: when the answer is "remembered", nothing can fail after it.
    await this.driver.query(SWEEP_DPOP_JTI, [now]);
    const rows = await this.driver.query(REMEMBER_DPOP_JTI, [expiresAt, jkt, jti, now]);
    return rows.length === 1;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.driver.close();
  }

  private assertUsable(): void {
    if (this.closed) throw new StintError('store_unavailable', 'the store is closed');
    if (this.insideTransaction.getStore()?.open === true) {
      throw new StintError('internal', 'a store method was called inside a transaction; use the transaction handle');
    }
  }
}

/** The statements of one open transaction. */
class SqlStoreTx implements StoreTx {
  constructor(
    private readonly sql: GuardedExecutor,
    /** The liveness cache's record of this transaction's grant writes (PGlite only). */
    private readonly writes: LivenessWrites | undefined,
    /** This transaction's view of the cached audit head (PGlite only). */
    private readonly head: AuditHeadWrites | undefined,
  ) {}

  async insertGrant(grant: Grant): Promise<void> {
    try {
      await this.sql.query(INSERT_GRANT, grantToParams(grant));
      this.writes?.record(grant);
    } catch (err) {
      if (isStintError(err) && err.code === 'conflict') {
        throw new StintError('conflict', `grant ${grant.id} already exists`, withReason(err));
      }
      throw err;
    }
  }

  async insertGrants(grants: readonly Grant[]): Promise<void> {
    if (grants.length === 0) return;
    try {
      await insertGrantRows(this.sql, grants);
      for (const grant of grants) this.writes?.record(grant);
    } catch (err) {
      if (isStintError(err) && err.code === 'conflict') {
        throw new StintError('conflict', `one of ${grants.length} new grants already exists`, withReason(err));
      }
      throw err;
    }
  }

  async lockGrant(id: string): Promise<Grant | undefined> {
    const rows = await this.sql.query(`SELECT ${GRANT_SELECT} FROM grants WHERE id = $1 FOR UPDATE`, [id]);
    return rows[0] === undefined ? undefined : rowToGrant(rows[0]);
  }

  async updateGrant(grant: Grant): Promise<void> {
    const rows = await this.sql.query(`${UPDATE_GRANT} RETURNING id`, grantToParams(grant));
    if (rows.length === 0) {
      throw new StintError('conflict', `grant ${grant.id} changed concurrently; retry`, {
        internalReason: `no row with id ${grant.id} and version ${grant.version - 1}`,
      });
    }
    // Only a write that happened is recorded: a caught version conflict must not reach the cache.
    this.writes?.record(grant);
  }

  lockGrants(ids: readonly string[]): Promise<Map<string, Grant>> {
    return lockGrantRows(this.sql, ids);
  }

  async updateGrants(grants: readonly Grant[]): Promise<void> {
    if (grants.length === 0) return;
    try {
      await updateGrantRows(this.sql, grants);
    } catch (err) {
      // Earlier rows of the batch may be written already: unlike a caught `updateGrant`
      // conflict, this transaction must not commit (it would keep half a batch).
      if (isStintError(err) && err.code === 'conflict') this.sql.failed = true;
      throw err;
    }
    // Like updateGrant: only writes that happened reach the liveness cache.
    for (const grant of grants) this.writes?.record(grant);
  }

  claimExpired(now: number, limit: number): Promise<Grant[]> {
    return this.claim(`status = 'active' AND expires_at <= $1`, 'expires_at', now, limit);
  }

  claimStalePending(now: number, limit: number): Promise<Grant[]> {
    return this.claim(`status IN ('pending_approval', 'approved') AND decision_deadline <= $1`, 'decision_deadline', now, limit);
  }

  claimCredentialWork(states: readonly CredentialState[], now: number, limit: number): Promise<Grant[]> {
    if (states.length === 0) return Promise.resolve([]);
    return this.claim(`${credentialStateIn(states)} AND revoke_next_at <= $1`, 'revoke_next_at', now, limit);
  }

  async appendAudit(events: readonly AuditEventInput[], time: number): Promise<AuditRecord[]> {
    if (events.length === 0) return [];
    if (!Number.isSafeInteger(time)) throw new StintError('internal', 'audit time must be integer epoch milliseconds');
    try {
      return await this.appendLocked(events, time);
    } catch (err) {
      if (isStintError(err) && err.code === 'store_unavailable') {
        throw new StintError('audit_unavailable', undefined, withReason(err));
      }
      throw err;
    }
  }

  async insertGrantsWithAudit(grants: readonly Grant[], events: readonly AuditEventInput[], time: number): Promise<AuditRecord[]> {
    if (!Number.isSafeInteger(time)) throw new StintError('internal', 'audit time must be integer epoch milliseconds');
    try {
      const records = await insertGrantsWithAudit(this.sql, grants, events, time, this, this.head);
      // Like insertGrant: the liveness cache learns of the rows when this transaction commits.
      for (const grant of grants) this.writes?.record(grant);
      return records;
    } catch (err) {
      throw groupCommitError(err, grants.length);
    }
  }

  async saveCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    // A newer note for the same size replaces the older one; a different root for the same
    // size would mean two inconsistent checkpoints and is refused.
    const rows = await this.sql.query(
      `INSERT INTO audit_checkpoints (size, root_hash, note, created_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (size) DO UPDATE SET note = EXCLUDED.note, created_at = EXCLUDED.created_at
        WHERE audit_checkpoints.root_hash = EXCLUDED.root_hash
        RETURNING size`,
      [checkpoint.size, checkpoint.rootHash, checkpoint.note, checkpoint.createdAt],
    );
    if (rows.length === 0) {
      throw new StintError('conflict', `a checkpoint of size ${checkpoint.size} with a different root already exists`);
    }
  }

  /**
   * Locks the head row (serialising appends across all replicas), builds each entry chained to
   * its predecessor, inserts them and advances the head (audit-append.ts).
   */
  private async appendLocked(events: readonly AuditEventInput[], time: number): Promise<AuditRecord[]> {
    const chained = chainAuditEntries(await lockAuditHead(this.sql, this.head), events, time);
    for (let start = 0; start < chained.entries.length; start += AUDIT_INSERT_CHUNK) {
      await insertAuditRows(this.sql, chained.entries.slice(start, start + AUDIT_INSERT_CHUNK));
    }
    await advanceAuditHead(this.sql, chained, this.head);
    return chained.entries.map((entry) => entry.record);
  }

  private async claim(due: string, order: string, now: number, limit: number): Promise<Grant[]> {
    const take = Math.trunc(limit);
    if (!(take > 0)) return [];
    const rows = await this.sql.query(
      `SELECT ${GRANT_SELECT} FROM grants WHERE ${due} ORDER BY ${order} LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [now, take],
    );
    return rows.map(rowToGrant);
  }
}

/**
 * A transaction's executor that remembers a failed statement (after which PostgreSQL aborts
 * the transaction) and refuses use after the transaction has ended, when a pooled connection
 * may already serve someone else.
 */
class GuardedExecutor implements SqlExecutor {
  failed = false;
  private ended = false;

  constructor(private readonly inner: SqlExecutor) {}

  async query(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<SqlRow[]> {
    if (this.ended) throw new StintError('internal', 'the transaction has already ended');
    try {
      return await this.inner.query(sql, params, options);
    } catch (err) {
      this.failed = true;
      throw err;
    }
  }

  end(): void {
    this.ended = true;
  }
}

/**
 * `credential_state IN ('a', 'b')` with literal states. Literals (not `= ANY($n)`) let the
 * planner prove the `grants_credential_work` partial-index predicate; states are checked against
 * the closed list first, so nothing else can reach the SQL text.
 */
function credentialStateIn(states: readonly CredentialState[]): string {
  for (const state of states) {
    if (!CREDENTIAL_STATES.has(state)) throw new StintError('internal', `unknown credential state ${JSON.stringify(state)}`);
  }
  return `credential_state IN (${[...new Set(states)].map((s) => `'${s}'`).join(', ')})`;
}

function requireHead(row: SqlRow | undefined): SqlRow {
  // Migration 1 inserts the row; it can only be missing if someone deleted it by hand.
  if (row === undefined) throw new StintError('audit_unavailable', 'the audit log head is missing');
  return row;
}

function rowToAuditRecord(row: SqlRow): AuditRecord {
  return {
    seq: Number(row.seq),
    time: Number(row.time),
    type: row.type as EventType,
    actor: row.actor as string,
    ...(row.grant_id !== null ? { grantId: row.grant_id as string } : {}),
    canonical: row.canonical as string,
    leafHash: toHex(row.leaf_hash as Uint8Array),
  };
}

function withReason(err: StintError): { internalReason?: string } {
  return err.internalReason === undefined ? {} : { internalReason: err.internalReason };
}
