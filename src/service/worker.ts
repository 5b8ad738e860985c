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
 */
import type { Grant } from '../core/grant.js';
import { effectiveStatus } from '../core/grant.js';
import { endGrant, lapseExtension, type Transition } from '../core/lifecycle.js';
import { commitTransitions, inTransaction, type ServiceDeps } from './context.js';
import { describeError, type CredentialService, type RevocationOutcome } from './credential-service.js';

export interface WorkerOptions {
  /** Pause between passes (ms). Expiry is at most this late plus a pass; default 200. */
  readonly pollMs?: number;
  /** Rows claimed per transaction. */
  readonly batchSize?: number;
  /** Revocations run concurrently per pass. */
  readonly concurrency?: number;
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

  constructor(
    private readonly deps: ServiceDeps,
    private readonly credentials: CredentialService,
    opts: WorkerOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 200;
    this.batchSize = opts.batchSize ?? 200;
    this.concurrency = opts.concurrency ?? 32;
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
    // The grants as the claiming transactions left them: revocation needs no second read.
    const toRevoke = new Map<string, Grant>();
    const queue = (grants: readonly Grant[]): void => {
      for (const g of grants) if (g.credential.state === 'revoking' || g.credential.state === 'revoke_failed') toRevoke.set(g.id, g);
    };

    // 1. Expire active grants past their expiry.
    for (;;) {
      const ended = await this.claimAndEnd((tx, now) => tx.claimExpired(now, this.batchSize), (g, now) =>
        endGrant(g, 'expired', 'system', now, undefined, this.credentials.leaseMs),
      );
      result.expired += ended.length;
      queue(ended);
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
      queue(lapsed);
      if (lapsed.length < this.batchSize) break;
    }

    // 3. Due revocation retries, expired leases, interrupted activations.
    queue(await this.claimCredentialWork());

    await this.revokeAll([...toRevoke.values()], result);
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

  /**
   * Revokes on the targets with `concurrency` lanes and records the outcomes in group commits:
   * whatever finished since the last commit is written in one transaction.
   */
  private async revokeAll(grants: readonly Grant[], result: PassResult): Promise<void> {
    if (grants.length === 0) return;
    const pending: RevocationOutcome[] = [];
    let flushing: Promise<void> = Promise.resolve();
    const flush = (): Promise<void> => {
      flushing = flushing.then(async () => {
        const batch = pending.splice(0, pending.length);
        if (batch.length === 0) return;
        try {
          for (const g of await this.credentials.recordOutcomes(batch)) {
            if (g?.credential.state === 'revoked') result.revoked++;
            else if (g?.credential.state === 'revoke_failed') result.revokeFailed++;
          }
        } catch (e) {
          // Store trouble: the rows stay claimable and a later pass retries them.
          result.revokeFailed += batch.length;
          this.deps.log.error({ grants: batch.length, err: describeError(e) }, 'could not record revocation outcomes');
        }
      });
      return flushing;
    };
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < grants.length) {
        const grant = grants[next++]!;
        // Never throws: target failures come back as outcomes. The recorded state is re-checked
        // under lock when the outcome commits, and revoking on the target is idempotent.
        pending.push(await this.credentials.revokeOnTarget(grant));
        // Commit whenever the previous commit is done: batches grow while the store is busy.
        void flush();
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, grants.length) }, lane));
    await flush();
  }
}
