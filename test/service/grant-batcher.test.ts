/**
 * Group commit of new grants on a real store: concurrent requests share transactions, every
 * caller gets exactly its own audit records, the log stays gapless, and one failing request
 * does not fail the others in its batch.
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/ports/store.js';
import { ManualClock } from '../../src/ports/clock.js';
import { EventBus } from '../../src/service/context.js';
import { GrantInsertBatcher } from '../../src/service/grant-batcher.js';
import { openPgliteStore, openPostgresStore, useSuiteStore } from '../helpers/stores.js';
import { makeGrant } from '../store/fixtures.js';
import type { AuditRecord } from '../../src/core/events.js';
import { verifyAuditLog } from '../../src/audit/verify.js';

describe('GrantInsertBatcher', () => {
  let store: Store;
  useSuiteStore(openPgliteStore, (opened) => (store = opened));

  it('commits concurrent inserts together, hands each caller its records, and isolates a failure', async () => {
    const bus = new EventBus();
    const published: AuditRecord[] = [];
    bus.on('event', (r: AuditRecord) => published.push(r));
    const batcher = new GrantInsertBatcher(store, new ManualClock(), bus);
    const existing = makeGrant();
    await store.transaction((tx) => tx.insertGrant(existing));
    const grants = Array.from({ length: 20 }, () => makeGrant());
    const event = (id: string, n: number) => ({ type: 'grant.requested' as const, actor: 'system', grantId: id, data: { n } });
    const results = await Promise.allSettled([
      ...grants.map((g, i) => batcher.insert(g, [event(g.id, i), event(g.id, i + 100)])),
      batcher.insert(existing, [event(existing.id, -1)]),
    ]);
    const failed = results.filter((r) => r.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect((failed[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'conflict' });
    results.slice(0, 20).forEach((r, i) => {
      expect(r.status).toBe('fulfilled');
      const records = (r as PromiseFulfilledResult<AuditRecord[]>).value;
      expect(records.map((x) => x.grantId)).toEqual([grants[i]!.id, grants[i]!.id]);
      expect(records.map((x) => JSON.parse(x.canonical).data.n)).toEqual([i, i + 100]);
      expect(records[1]!.seq).toBe(records[0]!.seq + 1);
    });
    for (const g of grants) expect(await store.getGrant(g.id)).toEqual(g);
    const head = await store.auditHead();
    const log = await store.readAudit(0, head.size);
    expect(log.map((r) => r.seq)).toEqual(log.map((_, i) => i));
    expect(log.some((r) => JSON.parse(r.canonical).data.n === -1)).toBe(false);
    expect(published.map((r) => r.seq).sort((a, b) => a - b)).toEqual(log.map((r) => r.seq));
  });

  it('fails only the unstorable request of a batch and commits the rest with a gapless log', async () => {
    const batcher = new GrantInsertBatcher(store, new ManualClock(), new EventBus());
    const before = await store.auditHead();
    const good = Array.from({ length: 6 }, () => makeGrant());
    const bad = makeGrant({ reason: 'half \ud800 pair' });
    const event = (id: string) => ({ type: 'grant.requested' as const, actor: 'system', grantId: id, data: {} });
    const results = await Promise.allSettled([...good.slice(0, 3), bad, ...good.slice(3)].map((g) => batcher.insert(g, [event(g.id)])));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect((results[3] as PromiseRejectedResult).reason).toMatchObject({ code: 'invalid_request' });
    for (const g of good) expect(await store.getGrant(g.id)).toEqual(g);
    expect(await store.getGrant(bad.id)).toBeUndefined();
    const log = await store.readAudit(before.size, 100);
    expect(log.map((r) => r.seq)).toEqual(good.map((_, i) => before.size + i));
    expect(new Set(log.map((r) => r.grantId))).toEqual(new Set(good.map((g) => g.id)));
  });

  it('commits the requests of one event-loop turn in one group commit, and each acknowledgement follows its COMMIT', async () => {
    let transactions = 0;
    let committed = 0;
    // The store's group commit (one statement, or a transaction when the head is unknown).
    const counting: Store = Object.create(store, {
      commitNewGrants: {
        value: async (...args: Parameters<Store['commitNewGrants']>) => {
          transactions += 1;
          const result = await store.commitNewGrants(...args);
          committed += 1;
          return result;
        },
      },
    });
    const batcher = new GrantInsertBatcher(counting, new ManualClock(), new EventBus());
    const grants = Array.from({ length: 8 }, () => makeGrant());
    const acknowledged = grants.map((g) =>
      batcher.insert(g, [{ type: 'grant.requested' as const, actor: 'system', grantId: g.id, data: {} }]).then(() => committed),
    );
    expect(await Promise.all(acknowledged)).toEqual(grants.map(() => 1));
    expect(transactions).toBe(1);
    for (const g of grants) expect(await store.getGrant(g.id)).toEqual(g);
  });
});

describe('GrantInsertBatcher with commits off the thread (PostgreSQL)', () => {
  let store: Store;
  useSuiteStore(openPostgresStore, (opened) => (store = opened));

  /**
   * 8 callers in a closed loop (each files its next grant when the last one is committed), as
   * the HTTP clients of the benchmark do; returns the size of every group commit and each
   * caller's records.
   */
  async function closedLoop(commitsOffThread: boolean): Promise<{ sizes: number[]; records: AuditRecord[][] }> {
    const sizes: number[] = [];
    const counting: Store = Object.create(store, {
      commitNewGrants: {
        value: (grants: Parameters<Store['commitNewGrants']>[0], events: Parameters<Store['commitNewGrants']>[1], time: number) => {
          sizes.push(grants.length);
          return store.commitNewGrants(grants, events, time);
        },
      },
    });
    const batcher = new GrantInsertBatcher(counting, new ManualClock(), new EventBus(), { commitsOffThread });
    const records: AuditRecord[][] = [];
    const caller = async (): Promise<void> => {
      for (let round = 0; round < 6; round++) {
        const g = makeGrant();
        const own = await batcher.insert(g, [{ type: 'grant.requested' as const, actor: 'system', grantId: g.id, data: { round } }]);
        expect(own.map((r) => r.grantId)).toEqual([g.id]);
        expect(await store.getGrant(g.id)).toEqual(g);
        records.push(own);
      }
    };
    await Promise.all(Array.from({ length: 8 }, caller));
    return { sizes, records };
  }

  it('commits half of the callers at a time, so the other half is worked on meanwhile; every grant and record lands once', async () => {
    const before = await store.auditHead();
    const split = await closedLoop(true);
    // After the first commit (one request: nothing was known about concurrency yet) the callers
    // settle into two halves that take turns.
    expect(Math.max(...split.sizes.slice(1))).toBeLessThanOrEqual(4);
    expect(split.sizes.reduce((a, b) => a + b, 0)).toBe(48);
    const together = await closedLoop(false);
    // The default (PGlite's way): the whole round of callers in one commit.
    expect(Math.max(...together.sizes)).toBe(8);
    const log = await store.readAudit(before.size, 200);
    expect(log.map((r) => r.seq)).toEqual(log.map((_, i) => before.size + i));
    expect(log).toHaveLength(96);
    const handedOut = [...split.records, ...together.records].flat().map((r) => r.seq);
    expect(new Set(handedOut).size).toBe(96);
  });
});

describe('GrantInsertBatcher with two group commits in flight (PGlite on its worker thread)', () => {
  let store: Store;
  useSuiteStore(openPgliteStore, (opened) => (store = opened));

  it('sends a ready half behind the one committing, chained to the head it leaves; every grant and record lands once, in one gapless log', async () => {
    expect(store.groupCommitsInFlight).toBe(2);
    const before = await store.auditHead();
    let inFlight = 0;
    let mostInFlight = 0;
    const counting: Store = Object.create(store, {
      commitNewGrants: {
        value: async (...args: Parameters<Store['commitNewGrants']>) => {
          mostInFlight = Math.max(mostInFlight, ++inFlight);
          try {
            return await store.commitNewGrants(...args);
          } finally {
            inFlight -= 1;
          }
        },
      },
    });
    const batcher = new GrantInsertBatcher(counting, new ManualClock(), new EventBus(), { commitsOffThread: true, commitsInFlight: 2 });
    const handedOut: AuditRecord[] = [];
    // 8 callers in a closed loop; in the later rounds each also appends an event of its own now
    // and then in a transaction, which must read the row while statements are in flight and
    // never break the chain.
    const caller = async (n: number): Promise<void> => {
      for (let round = 0; round < 8; round++) {
        const g = makeGrant();
        const own = await batcher.insert(g, [
          { type: 'grant.requested' as const, actor: 'system', grantId: g.id, data: { n, round } },
          { type: 'grant.activated' as const, actor: 'system', grantId: g.id, data: {} },
        ]);
        expect(own.map((r) => r.grantId)).toEqual([g.id, g.id]);
        expect(own[1]!.seq).toBe(own[0]!.seq + 1);
        handedOut.push(...own);
        if (round >= 5 && round % 3 === n % 3) handedOut.push(...(await store.transaction((tx) => tx.appendAudit([{ type: 'auth.failed' as const, actor: 'system', data: { n, round } }], 0))));
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, n) => caller(n)));
    expect(mostInFlight).toBe(2);
    // Chained one-statement commits wrote in the rounds without transactions beside them; a
    // transaction's append made the statement queued behind it write nothing (then the lock).
    const stats = (store as unknown as { groupCommits: { oneStatement: number; headMoved: number; locked: number } }).groupCommits;
    expect(stats.oneStatement).toBeGreaterThanOrEqual(8);
    expect(stats.headMoved).toBeGreaterThanOrEqual(1);
    const head = await store.auditHead();
    const log = await store.readAudit(before.size, head.size - before.size + 1);
    expect(log.map((r) => r.seq)).toEqual(log.map((_, i) => before.size + i));
    expect(new Set(handedOut.map((r) => r.seq)).size).toBe(handedOut.length);
    expect(log).toHaveLength(handedOut.length);
    // The log verifies end to end: canonical entries, every one chained to the one before it, no gaps.
    const report = await verifyAuditLog(store);
    expect(report).toMatchObject({ ok: true });
  });
});
