/** The PGlite audit head cache's rules (audit-head-cache.ts), on their own. */
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
});
