/**
 * The expiry and revocation worker. Database-backed: every pass claims due rows with
 * `SELECT ... FOR UPDATE SKIP LOCKED`, so several broker replicas on one PostgreSQL share the
 * work without double-processing (issue #2, item 5). Nothing is held in memory between passes:
 * after downtime, the first pass catches up on everything that fell due.
 *
 * A pass:
 *   1. ends active grants past expiry (`grant.expired`), then revokes their credentials;
 *   2. lapses requests nobody decided on, and approvals nobody picked up, in time;
 *   3. retries due revocations (`revoke_failed`, or `revoking` whose lease ran out because the
 *      broker died mid-way) and undoes activations interrupted mid-provisioning.
 * Revocation starts as soon as each claiming transaction has committed (intent before the
 * target is touched), while the next batch is being claimed: grants on one target go through
 * the connector's batch methods together (issue #3, item 5: 1,000 grants expiring at once must
 * be verified dead within 1 s), and every outcome is committed in group commits as soon as its
 * proof is done, so early grants are not held back by late ones.
 */
import type { Grant } from '../core/grant.js';
import { effectiveStatus } from '../core/grant.js';
import { endGrant, lapseExtension, type Transition } from '../core/lifecycle.js';
import { Limiter } from '../core/limiter.js';
import { commitTransitions, inTransaction, type ServiceDeps } from './context.js';
import { describeError, type CredentialService, type RevocationOutcome } from './credential-service.js';

export interface WorkerOptions {
  /** Pause between passes (ms). Expiry is at most this late plus a pass; default 200. */
  readonly pollMs?: number;
  /** Rows claimed per transaction. */
  readonly batchSize?: number;
  /** Revocations run concurrently per pass through connectors without batch methods. */
  readonly concurrency?: number;
  /**
   * Claimed batches whose revocation may be in progress at once; claiming waits beyond that, so
   * a large backlog (after an outage) is not claimed faster than the targets can take it, which
   * would let leases run out before the work starts. Default 8.
   */
  readonly batchesInFlight?: number;
}

export interface PassResult {
  expired: number;
  lapsed: number;
  revoked: number;
  revokeFailed: number;
}

export class ExpiryWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private readonly batchesInFlight: number;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly credentials: CredentialService,
    opts: WorkerOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 200;
    this.batchSize = opts.batchSize ?? 200;
    this.concurrency = opts.concurrency ?? 32;
    this.batchesInFlight = opts.batchesInFlight ?? 8;
  }

  /** Runs passes until `stop()`. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const tick = async (): Promise<void> => {
      this.running = this.runOnce().catch((e: unknown) => this.deps.log.error({ err: describeError(e) }, 'worker pass failed'));
      await this.running;
      this.running = undefined;
      if (!this.stopped) this.timer = setTimeout(() => void tick(), this.pollMs);
    };
    void tick();
  }

  /** Stops after the current pass finishes. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One full pass. Safe to call concurrently with other replicas' passes. */
  async runOnce(): Promise<PassResult> {
    const result: PassResult = { expired: 0, lapsed: 0, revoked: 0, revokeFailed: 0 };
    const revocations = new RevocationRun(this.credentials, this.deps, result, this.concurrency);
    const inFlight = new Set<Promise<void>>();
    /** Starts revoking what a committed claim returned; waits while too many batches run. */
    const revoke = async (grants: readonly Grant[]): Promise<void> => {
      const started = revocations.start(grants);
      inFlight.add(started);
      const done = (): void => void inFlight.delete(started);
      started.then(done, done);
      while (inFlight.size >= this.batchesInFlight) await Promise.race(inFlight);
    };

    try {
      // 1. Expire active grants past their expiry.
      for (;;) {
        const ended = await this.claimAndEnd((tx, now) => tx.claimExpired(now, this.batchSize), (g, now) =>
          endGrant(g, 'expired', 'system', now, undefined, this.credentials.leaseMs),
        );
        result.expired += ended.length;
        await revoke(ended);
        if (ended.length < this.batchSize) break;
      }

      // 2. Lapse undecided requests and unclaimed approvals.
      for (;;) {
        const lapsed = await this.claimAndEnd((tx, now) => tx.claimStalePending(now, this.batchSize), (g, now) =>
          g.kind === 'extension'
            ? lapseExtension(g, now, 'nobody decided on the extension in time')
            : endGrant(g, 'expired', 'system', now, 'nobody decided in time', this.credentials.leaseMs),
        );
        result.lapsed += lapsed.length;
        await revoke(lapsed);
        if (lapsed.length < this.batchSize) break;
      }

      // 3. Due revocation retries, expired leases, interrupted activations: everything due now,
      // so a backlog after an outage is worked off in one pass (docs/operations.md: every due
      // revocation within 60 s of a target's recovery). Claimed rows get a lease (revokeNextAt
      // moves ahead), so the loop ends.
      for (;;) {
        const due = await this.claimCredentialWork();
        await revoke(due);
        if (due.length < this.batchSize) break;
      }
    } finally {
      // Whatever was claimed is revoked (or left to its lease) before the pass ends.
      await Promise.all(inFlight);
      await revocations.flush();
    }
    return result;
  }

  private async claimAndEnd(
    claim: (tx: Parameters<Parameters<ServiceDeps['store']['transaction']>[0]>[0], now: number) => Promise<Grant[]>,
    end: (g: Grant, now: number) => Transition,
  ): Promise<Grant[]> {
    const now = this.deps.clock.now();
    return inTransaction(this.deps, async (tx) => {
      const due = await claim(tx, now);
      const transitions = due.map((g) => end(g, now));
      const records = await commitTransitions(tx, now, transitions.map((transition) => ({ transition })));
      return { value: transitions.map((t) => t.grant), records };
    });
  }

  /** Claims due credential work, renewing each lease so no other replica picks it up meanwhile. */
  private async claimCredentialWork(): Promise<Grant[]> {
    const now = this.deps.clock.now();
    return inTransaction(this.deps, async (tx) => {
      const due = await tx.claimCredentialWork(['provisioning', 'revoking', 'revoke_failed'], now, this.batchSize);
      const writes: { transition: Transition }[] = [];
      for (const g of due) {
        if (g.credential.state === 'provisioning') {
          // The broker died between "intent committed" and "active committed": undo.
          const reason = effectiveStatus(g, now) === 'expired' ? 'expired' : 'revoked';
          writes.push({ transition: endGrant(g, reason, 'system', now, 'activation interrupted; undoing', this.credentials.leaseMs) });
        } else {
          // Lease only: not a state change, so no audit event.
          writes.push({
            transition: { grant: { ...g, credential: { ...g.credential, revokeNextAt: now + this.credentials.leaseMs }, version: g.version + 1 }, events: [] },
          });
        }
      }
      const records = await commitTransitions(tx, now, writes);
      return { value: writes.map((w) => w.transition.grant), records };
    });
  }
}

/**
 * Outcomes gathered before a group commit: a commit starts once this many are pending, once no
 * revocation of the pass is still running, or {@link GROUP_LINGER_MS} after the oldest pending
 * one arrived. Why not commit each outcome as soon as the previous commit is done: proofs finish
 * one every few ms (one login attempt each), about as fast as a one-grant commit, so commits
 * stayed at one grant each and their fixed cost (transaction, audit head, WAL write) took the
 * Node thread the login attempts need (measured: 1,000 one-grant commits on PGlite, ~4-5 ms
 * each under load, docs/benchmarks.md). The linger bounds what an early outcome waits.
 */
const GROUP_MIN = 64;
const GROUP_LINGER_MS = 100;

/**
 * The revocations of one pass: grants handed in (from committed claims) are revoked on their
 * targets, batched per target where the connector can, and their outcomes are committed in group
 * commits of what has finished (see {@link GROUP_MIN}), one commit at a time.
 */
class RevocationRun {
  private readonly pending: RevocationOutcome[] = [];
  private flushing: Promise<void> = Promise.resolve();
  /** Grants handed in whose outcome is not known yet. */
  private running = 0;
  private linger: NodeJS.Timeout | undefined;
  /** Lanes for connectors without batch methods, shared by every batch of the pass. */
  private readonly lanes: Limiter;
  private readonly seen = new Set<string>();

  constructor(
    private readonly credentials: CredentialService,
    private readonly deps: ServiceDeps,
    private readonly result: PassResult,
    concurrency: number,
  ) {
    this.lanes = new Limiter(concurrency);
  }

  /** Revokes the grants among `grants` whose credential is being revoked; resolves when all outcomes are queued. */
  async start(grants: readonly Grant[]): Promise<void> {
    const batches = new Map<string, Grant[]>();
    const single: Grant[] = [];
    for (const g of grants) {
      if ((g.credential.state !== 'revoking' && g.credential.state !== 'revoke_failed') || this.seen.has(g.id)) continue;
      this.seen.add(g.id);
      this.running += 1;
      const key = this.credentials.batchKey(g);
      if (key === undefined) single.push(g);
      else batches.set(key, [...(batches.get(key) ?? []), g]);
    }
    const emit = (o: RevocationOutcome): void => this.record(o);
    await Promise.all([
      ...[...batches.values()].map((batch) => this.credentials.revokeManyOnTarget(batch, emit)),
      // Never throws: target failures come back as outcomes. The recorded state is re-checked
      // under lock when the outcome commits, and revoking on the target is idempotent.
      ...single.map((g) => this.lanes.run(async () => emit(await this.credentials.revokeOnTarget(g)))),
    ]);
  }

  private record(outcome: RevocationOutcome): void {
    this.pending.push(outcome);
    this.running -= 1;
    if (this.pending.length >= GROUP_MIN || this.running <= 0) void this.flush();
    else this.linger ??= setTimeout(() => void this.flush(), GROUP_LINGER_MS);
  }

  /** Commits what is pending once the previous commit is done; resolves when all queued outcomes are committed. */
  flush(): Promise<void> {
    clearTimeout(this.linger);
    this.linger = undefined;
    this.flushing = this.flushing.then(async () => {
      const batch = this.pending.splice(0, this.pending.length);
      if (batch.length === 0) return;
      try {
        for (const g of await this.credentials.recordOutcomes(batch)) {
          if (g?.credential.state === 'revoked') this.result.revoked++;
          else if (g?.credential.state === 'revoke_failed') this.result.revokeFailed++;
        }
      } catch (e) {
        // Store trouble: the rows stay claimable and a later pass retries them.
        this.result.revokeFailed += batch.length;
        this.deps.log.error({ grants: batch.length, err: describeError(e) }, 'could not record revocation outcomes');
      }
    });
    return this.flushing;
  }
}
