/**
 * Group commit for new grants. Every state change appends to the one audit log under a lock on
 * its head row, so one transaction per request would run the audit append once per grant, one
 * after another. Instead, requests that arrive while a transaction is in flight queue up and
 * commit together: one transaction, the grant rows, and one audit append for all their events.
 * Each caller resolves only after that shared COMMIT, so an acknowledged grant is exactly as
 * durable as before. If a batch fails, its requests are retried one by one, so one bad request
 * never fails the others. (Measured in docs/benchmarks.md: issuance is bound by the audit append.)
 */
import { performance } from 'node:perf_hooks';
import type { AuditEventInput, AuditRecord } from '../core/events.js';
import type { Grant } from '../core/grant.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import type { EventBus } from './context.js';

interface Job {
  readonly grant: Grant;
  readonly events: readonly AuditEventInput[];
  resolve(records: AuditRecord[]): void;
  reject(error: unknown): void;
}

/** Most grants committed together; bounds the transaction's size and the latency of its first caller. */
const MAX_BATCH = 64;

/**
 * Longest a batch waits for more requests before it starts, in milliseconds; the wait is also
 * at most half the last commit's duration (waiting longer than a commit takes costs more than
 * a second commit would). Like PostgreSQL's `commit_delay`, it applies only under concurrency:
 * a batch waits only while it holds fewer requests than were in flight or queued when the last
 * commit ended, because those callers are about to come back. Measured over HTTP on
 * PostgreSQL with 8 keep-alive callers: started at once, batches alternated between 1 grant
 * and 7, or settled at 4 and 4 (each half queued while the other committed), so every WAL
 * flush carried half the grants it could. A lone caller never waits. (That was with three round
 * trips per commit and the broker thread idle meanwhile; since session 7, PostgreSQL takes halves
 * on purpose, `commitsOffThread`, so the broker works while the other half commits.)
 */
const COLLECT_MAX_MS = 2;

/** How the batcher forms batches (see {@link GrantInsertBatcher}). */
export interface GrantBatcherOptions {
  /**
   * The store commits off this thread (`Store.commitsOffThread`: a PostgreSQL server, or PGlite
   * on its worker thread, does the work while this thread waits). Then a batch takes at most half
   * of the callers in flight, and the next batch starts
   * the moment the previous one commits: the other half's requests (policy, state machine, rows,
   * the HTTP answer) are worked on while a batch is in the database, instead of every caller
   * waiting for one commit and the database then waiting for every caller. By default one commit
   * is in flight at a time (on PostgreSQL the audit head row lock serialises them; two in flight
   * measured slower, docs/benchmarks.md). With PGlite on the caller's thread the commit runs on
   * this thread, so there is nothing to overlap: batches wait for the whole round of callers.
   */
  readonly commitsOffThread?: boolean;
  /**
   * How many group commits may be in flight at once (`Store.groupCommitsInFlight`; default 1).
   * With 2, a half that is ready while the other half commits is sent at once, queued behind it
   * in the database, so the database never waits for this thread between two commits.
   */
  readonly commitsInFlight?: number;
}

/**
 * Group commit of new grants, with fair batches. Each caller's promise settles only after the
 * COMMIT of the transaction that holds its grant, or with its own error.
 */
export class GrantInsertBatcher {
  private readonly queue: Job[] = [];
  /** `idle`: nothing queued; `collecting`: a batch is forming; `committing`: a transaction is open. */
  private state: 'idle' | 'collecting' | 'committing' = 'idle';
  /** Requests in the last batch plus those queued when it ended: what the next batch waits for. */
  private concurrency = 1;
  /** How long the last commit took, in ms (bounds the wait). */
  private lastCommitMs = 0;
  private collectTimer: NodeJS.Timeout | undefined;
  /** Group commits sent and not yet settled, and the requests they hold. */
  private inFlight = 0;
  private inFlightJobs = 0;

  private readonly commitsOffThread: boolean;
  private readonly commitsInFlight: number;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly bus: EventBus,
    options: GrantBatcherOptions = {},
  ) {
    this.commitsOffThread = options.commitsOffThread ?? false;
    this.commitsInFlight = this.commitsOffThread ? Math.max(1, Math.floor(options.commitsInFlight ?? 1)) : 1;
  }

  /** Inserts a new grant with its events; resolves with the audit records once committed. */
  insert(grant: Grant, events: readonly AuditEventInput[]): Promise<AuditRecord[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ grant, events, resolve, reject });
      if (this.state === 'idle') this.collect();
      else if (this.state === 'collecting' && this.collectTimer !== undefined && this.queue.length >= this.target()) this.start();
      else if (this.state === 'committing' && this.inFlight < this.commitsInFlight && this.queue.length >= this.target()) void this.drain();
    });
  }

  /** How many queued requests the next batch waits for. */
  private target(): number {
    return Math.min(this.commitsOffThread ? Math.ceil(this.concurrency / 2) : this.concurrency, MAX_BATCH);
  }

  /**
   * Forms the next batch. It starts on the next turn of the event loop, not now: the requests
   * that are ready in this turn (other callers resumed by I/O in the same turn) queue first. On
   * PGlite a whole transaction runs in microtasks, so a batch started at once held one grant
   * (measured: 2,286 of 2,288 batches). If it is still smaller than the recent concurrency, it
   * waits a little more (COLLECT_MAX_MS), or until it is as large.
   */
  private collect(): void {
    this.state = 'collecting';
    setImmediate(() => {
      if (this.queue.length >= this.target()) {
        this.start();
        return;
      }
      const wait = Math.min(COLLECT_MAX_MS, this.lastCommitMs / 2);
      if (wait < 0.5) this.start();
      else this.collectTimer = setTimeout(() => this.start(), wait);
    });
  }

  private start(): void {
    if (this.collectTimer !== undefined) clearTimeout(this.collectTimer);
    this.collectTimer = undefined;
    this.state = 'committing';
    void this.drain();
  }

  /** Commits one batch, then forms the next one or goes idle. Never rejects. */
  private async drain(): Promise<void> {
    const batch = this.queue.splice(0, this.commitsOffThread ? Math.max(1, this.target()) : MAX_BATCH);
    this.inFlight += 1;
    this.inFlightJobs += batch.length;
    const started = performance.now();
    let records: AuditRecord[] | undefined;
    try {
      records = await this.commit(batch);
    } catch (error) {
      if (batch.length === 1) batch[0]!.reject(error);
    }
    if (records !== undefined) {
      this.settle(batch, records);
    } else if (batch.length > 1) {
      // One bad request must not fail the others: each is retried in its own transaction.
      for (const job of batch) {
        let own: AuditRecord[];
        try {
          own = await this.commit([job]);
        } catch (e) {
          job.reject(e);
          continue;
        }
        this.settle([job], own);
      }
    }
    this.lastCommitMs = performance.now() - started;
    this.inFlight -= 1;
    this.inFlightJobs -= batch.length;
    this.concurrency = batch.length + this.inFlightJobs + this.queue.length;
    if (this.inFlight > 0) {
      // Another commit is still in flight; it goes on from here when it ends. Meanwhile a ready
      // half may follow it at once.
      if (this.inFlight < this.commitsInFlight && this.queue.length >= this.target()) void this.drain();
      return;
    }
    if (this.queue.length === 0) this.state = 'idle';
    // Off-thread commits: the next half goes to the database at once, while this thread
    // answers the callers just settled (their continuations run after this turn).
    else if (this.commitsOffThread) this.start();
    else this.collect();
  }

  private commit(batch: readonly Job[]): Promise<AuditRecord[]> {
    // The batch's grant rows, their events and the new log head in as few round trips as the
    // store can (on PostgreSQL one statement that checks the head it guessed; sql-store.ts).
    return this.store.commitNewGrants(
      batch.map((job) => job.grant),
      batch.flatMap((job) => job.events),
      this.clock.now(),
    );
  }

  /**
   * Publishes the committed records and hands each job its own (they were appended in job
   * order). A listener that throws fails the callers, as `inTransaction` does for other changes.
   */
  private settle(batch: readonly Job[], records: AuditRecord[]): void {
    try {
      this.bus.publish(records);
    } catch (error) {
      for (const job of batch) job.reject(error);
      return;
    }
    let offset = 0;
    for (const job of batch) {
      job.resolve(records.slice(offset, offset + job.events.length));
      offset += job.events.length;
    }
  }
}
