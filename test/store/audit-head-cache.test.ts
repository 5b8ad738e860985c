/** The audit head cache's rules (audit-head-cache.ts), on their own; the store's use of them is the conformance suite's. */
import { describe, expect, it } from 'vitest';
import { CommittedAuditHead, type AuditHeadRow } from '../../src/adapters/store-sql/audit-head-cache.js';

const head = (size: number): AuditHeadRow => ({ size, frontier: [String(size).padStart(64, '0')], last_leaf: `leaf-${size}` });

describe('CommittedAuditHead', () => {
  it('knows nothing until a transaction reads the row, then serves what was read', () => {
    const cache = new CommittedAuditHead();
    const tx = cache.openTransaction();
    expect(tx.current()).toBeUndefined();
    tx.read(head(3));
    tx.settle('rolled_back');
    // A read is the committed state whatever the reading transaction did afterwards.
    expect(cache.openTransaction().current()).toEqual(head(3));
  });

  it("shows a transaction its own advanced head, and others only the committed one until it commits", () => {
    const cache = new CommittedAuditHead();
    cache.openTransaction().read(head(1));
    const tx = cache.openTransaction();
    tx.advanced(head(2));
    expect(tx.current()).toEqual(head(2));
    tx.advanced(head(4));
    expect(tx.current()).toEqual(head(4));
    expect(cache.openTransaction().current()).toEqual(head(1));
    tx.settle('committed');
    expect(cache.openTransaction().current()).toEqual(head(4));
  });

  it('keeps the committed head on rollback and forgets it when the COMMIT outcome is unknown', () => {
    const cache = new CommittedAuditHead();
    cache.openTransaction().read(head(1));
    const rolledBack = cache.openTransaction();
    rolledBack.advanced(head(5));
    rolledBack.settle('rolled_back');
    expect(cache.openTransaction().current()).toEqual(head(1));
    const unknown = cache.openTransaction();
    unknown.advanced(head(6));
    unknown.settle('unknown');
    expect(cache.openTransaction().current()).toBeUndefined();
  });

  it('ignores anything after the transaction settled', () => {
    const cache = new CommittedAuditHead();
    const tx = cache.openTransaction();
    tx.advanced(head(2));
    tx.settle('committed');
    tx.advanced(head(9));
    tx.read(head(9));
    tx.settle('committed');
    expect(cache.openTransaction().current()).toEqual(head(2));
  });

  describe('one-statement commits in flight', () => {
    it('chains each to the one sent before it, and keeps the last one’s head when all wrote', () => {
      const cache = new CommittedAuditHead();
      cache.openTransaction().read(head(1));
      expect(cache.guessForUnlockedCommit()).toEqual(head(1));
      const a = head(3);
      cache.sendUnlockedCommit(a);
      // Nobody chains a transaction to the committed head while a statement may move it.
      expect(cache.openTransaction().current()).toBeUndefined();
      expect(cache.guessForUnlockedCommit()).toBe(a);
      const b = head(5);
      cache.sendUnlockedCommit(b);
      expect(cache.guessForUnlockedCommit()).toBe(b);
      cache.finishUnlockedCommit(a, true);
      expect(cache.openTransaction().current()).toBeUndefined();
      cache.finishUnlockedCommit(b, true);
      expect(cache.openTransaction().current()).toBe(b);
    });

    it('keeps nothing a transaction read while a statement was in flight: the statement may run after it', () => {
      const cache = new CommittedAuditHead();
      cache.openTransaction().read(head(1));
      cache.sendUnlockedCommit(head(2));
      // A transaction ahead of the statement in the database reads the head the statement then moves.
      const tx = cache.openTransaction();
      tx.read(head(1));
      tx.settle('rolled_back');
      cache.finishUnlockedCommit(head(2), true);
      expect(cache.openTransaction().current()).toBeUndefined();
      // Nor what a transaction committed meanwhile.
      cache.openTransaction().read(head(2));
      cache.sendUnlockedCommit(head(4));
      const other = cache.openTransaction();
      other.advanced(head(3));
      other.settle('committed');
      cache.finishUnlockedCommit(head(4), false);
      expect(cache.openTransaction().current()).toBeUndefined();
    });

    it('stops chaining after one that did not write, and forgets the head once all answered', () => {
      const cache = new CommittedAuditHead();
      cache.openTransaction().read(head(1));
      cache.sendUnlockedCommit(head(2));
      cache.sendUnlockedCommit(head(3));
      cache.finishUnlockedCommit(head(2), false);
      expect(cache.guessForUnlockedCommit()).toBeUndefined();
      cache.finishUnlockedCommit(head(3), true);
      expect(cache.guessForUnlockedCommit()).toBeUndefined();
      expect(cache.openTransaction().current()).toBeUndefined();
      // Reading the row again starts over.
      cache.openTransaction().read(head(3));
      expect(cache.guessForUnlockedCommit()).toEqual(head(3));
    });
  });
});
