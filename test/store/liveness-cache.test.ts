/**
 * The PGlite store's grant liveness cache (src/adapters/store-sql/liveness.ts), rule by rule.
 * The store-level behaviour (through real transactions on both backends) is in the conformance
 * suite and, over HTTP, in test/oauth/introspection.test.ts; this file pins the interleavings a
 * real store cannot be forced into deterministically (a read racing a commit, a COMMIT that fails).
 */
import { describe, expect, it } from 'vitest';
import { GrantLivenessCache, livenessOf } from '../../src/adapters/store-sql/liveness.js';
import { makeGrant } from './fixtures.js';

const active = makeGrant({ status: 'active' });
const revoked = { ...active, status: 'revoked' as const, version: 2 };

describe('grant liveness cache', () => {
  it('serves a committed write and leaves a rolled-back one untouched', () => {
    const cache = new GrantLivenessCache(10);
    const insert = cache.openTransaction();
    insert.record(active);
    // While the writing transaction is open the grant is a miss: the reader goes to the store.
    expect(cache.get(active.id)).toBeUndefined();
    insert.settle('committed');
    expect(cache.get(active.id)).toStrictEqual(livenessOf(active));

    const rolledBack = cache.openTransaction();
    rolledBack.record(revoked);
    expect(cache.get(active.id)).toBeUndefined();
    rolledBack.settle('rolled_back');
    expect(cache.get(active.id)).toStrictEqual(livenessOf(active));
  });

  it('forgets a grant whose COMMIT failed, since it may have been applied', () => {
    const cache = new GrantLivenessCache(10);
    const insert = cache.openTransaction();
    insert.record(active);
    insert.settle('committed');
    const unknown = cache.openTransaction();
    unknown.record(revoked);
    unknown.settle('unknown');
    expect(cache.get(active.id)).toBeUndefined();
  });

  it('settles once: a second settle and later records change nothing', () => {
    const cache = new GrantLivenessCache(10);
    const tx = cache.openTransaction();
    tx.record(active);
    tx.settle('rolled_back');
    tx.settle('committed');
    tx.record(revoked);
    expect(cache.get(active.id)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('drops a value read before a write began, even when the read returns after the commit', () => {
    const cache = new GrantLivenessCache(10);
    const ticket = cache.readTicket();
    // The read saw the old row (active); meanwhile a transaction ends the grant and commits.
    const tx = cache.openTransaction();
    tx.record(revoked);
    tx.settle('committed');
    cache.fill(active.id, livenessOf(active), ticket);
    expect(cache.get(active.id)).toStrictEqual(livenessOf(revoked));
  });

  it('drops a value read while a writer of the grant is still open', () => {
    const cache = new GrantLivenessCache(10);
    const tx = cache.openTransaction();
    tx.record(revoked);
    cache.fill(active.id, livenessOf(active), cache.readTicket());
    expect(cache.get(active.id)).toBeUndefined();
    tx.settle('rolled_back');
    expect(cache.get(active.id)).toBeUndefined();
  });

  it('installs a value read with no write in between', () => {
    const cache = new GrantLivenessCache(10);
    cache.fill(active.id, livenessOf(active), cache.readTicket());
    expect(cache.get(active.id)).toStrictEqual(livenessOf(active));
  });

  it('keeps a grant a miss until every open writer of it has ended', () => {
    const cache = new GrantLivenessCache(10);
    const first = cache.openTransaction();
    const second = cache.openTransaction();
    first.record(active);
    second.record(revoked);
    first.settle('committed');
    expect(cache.get(active.id)).toBeUndefined();
    second.settle('committed');
    expect(cache.get(active.id)).toStrictEqual(livenessOf(revoked));
  });

  it('holds at most maxEntries, evicting the least recently used', () => {
    const cache = new GrantLivenessCache(3);
    const grants = [1, 2, 3, 4].map(() => makeGrant());
    for (const g of grants.slice(0, 3)) cache.fill(g.id, livenessOf(g), cache.readTicket());
    // Touch the oldest so the second becomes the least recently used.
    expect(cache.get(grants[0]!.id)).toBeDefined();
    const tx = cache.openTransaction();
    tx.record(grants[3]!);
    tx.settle('committed');
    expect(cache.size).toBe(3);
    expect(cache.get(grants[1]!.id)).toBeUndefined();
    for (const g of [grants[0]!, grants[2]!, grants[3]!]) expect(cache.get(g.id)).toStrictEqual(livenessOf(g));
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new GrantLivenessCache(0)).toThrow(RangeError);
    expect(() => new GrantLivenessCache(1.5)).toThrow(RangeError);
  });
});
