/**
 * The store conformance suite: one set of cases, run against every real backend (PGlite on
 * disk, on its worker thread and on the caller's thread, and PostgreSQL in a fresh database).
 * A backend is correct when it passes all of them.
 */
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { openStore, MIGRATIONS } from '../../src/adapters/store-sql/index.js';
import { leafHash, frontierRoot, fromHex, rootFromLeaves, toHex } from '../../src/audit/merkle.js';
import { readAuditFast, unpackAuditBatch } from '../../src/audit/packed-batch.js';
import { decodeWireBatch, wireRecords } from '../../src/audit/wire-batch.js';
import type { AuditEventInput, AuditRecord } from '../../src/core/events.js';
import type { Grant } from '../../src/core/grant.js';
import type { GrantFilter, GrantLiveness, Store, StoreTx } from '../../src/ports/store.js';
import { PGlite } from '@electric-sql/pglite';
import { createTestDatabase, freshPgliteDataDir, storeBackends, type OpenedStore } from '../helpers/stores.js';
import { grantArbitrary, makeGrant, nextGrantId, rejectsWith } from './fixtures.js';

const NOW = Date.UTC(2026, 0, 5, 12, 0, 0);

/** A promise with its resolve function, to hold one transaction open while another runs. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function insertAll(store: Store, grants: readonly Grant[]): Promise<void> {
  await store.transaction(async (tx) => {
    for (const grant of grants) await tx.insertGrant(grant);
  });
}

/** Two PostgreSQL stores (replicas) on one fresh database, closed and dropped after the test. */
async function twoReplicas(): Promise<[Store, Store]> {
  const db = await createTestDatabase();
  const [a, b] = await Promise.all([openStore({ kind: 'postgres', url: db.url }), openStore({ kind: 'postgres', url: db.url })]);
  onTestFinished(async () => {
    await a.close();
    await b.close();
    await db.drop();
  });
  return [a, b];
}

function event(n: number, grantId?: string): AuditEventInput {
  return { type: 'grant.requested', actor: `workload:a${n}`, ...(grantId ? { grantId } : {}), tenant: 'acme', data: { n } };
}

/** Every page of a listing, with the cursors seen. */
async function listAll(store: Store, filter: GrantFilter, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await store.listGrants(filter, { limit, ...(cursor !== undefined ? { cursor } : {}) });
    pages += 1;
    expect(page.items.length).toBeLessThanOrEqual(limit);
    if (page.nextCursor !== undefined) expect(page.items.length).toBe(limit);
    ids.push(...page.items.map((g) => g.id));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return { ids, pages };
}

/**
 * A new store whose `dpop_jti` rows can be counted behind its back: over a second connection on
 * PostgreSQL, by opening the data directory directly on PGlite (which first closes the store,
 * so count last).
 */
async function openWithDpopRowCount(
  name: 'pglite' | 'postgres',
): Promise<{ store: Store; countDpopRows(): Promise<number>; cleanup(): Promise<void> }> {
  if (name === 'postgres') {
    const db = await createTestDatabase();
    const store = await openStore({ kind: 'postgres', url: db.url });
    return {
      store,
      countDpopRows: async () => {
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        try {
          const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM dpop_jti');
          return Number(rows[0]?.n);
        } finally {
          await client.end();
        }
      },
      cleanup: async () => {
        await store.close();
        await db.drop();
      },
    };
  }
  const dir = await freshPgliteDataDir();
  const store = await openStore({ kind: 'pglite', dataDir: dir.dataDir });
  return {
    store,
    countDpopRows: async () => {
      await store.close();
      const raw = await PGlite.create(dir.dataDir);
      try {
        const result = await raw.query<{ n: number }>('SELECT count(*)::int AS n FROM dpop_jti');
        return Number(result.rows[0]?.n);
      } finally {
        await raw.close();
      }
    },
    cleanup: async () => {
      await store.close();
      dir.cleanup();
    },
  };
}

describe.each(storeBackends())('store conformance: $label', (backend) => {
  let shared: OpenedStore;

  /** A new empty store for cases that need to see the whole table; removed after the case. */
  async function freshStore(): Promise<Store> {
    const opened = await backend.open();
    onTestFinished(() => opened.cleanup());
    return opened.store;
  }

  beforeAll(async () => {
    shared = await backend.open();
  });
  afterAll(async () => {
    await shared?.cleanup();
  });

  it('reports its kind, and runs where the backend says (no silent fallback to the caller’s thread)', () => {
    expect(shared.store.kind).toBe(backend.name);
    expect(shared.store.commitsOffThread).toBe(backend.offThread);
  });

  describe('grants', () => {
    it('round-trips any grant exactly through insert, get and lock', async () => {
      const store = shared.store;
      await fc.assert(
        fc.asyncProperty(grantArbitrary(), async (generated) => {
          const grant = { ...generated, id: nextGrantId() };
          await insertAll(store, [grant]);
          expect(await store.getGrant(grant.id)).toStrictEqual(grant);
          const locked = await store.transaction((tx) => tx.lockGrant(grant.id));
          expect(locked).toStrictEqual(grant);
        }),
        { numRuns: 60 },
      );
    });

    it('keeps absent optional fields absent', async () => {
      const grant = makeGrant({ status: 'requested', credential: { state: 'none', revokeAttempts: 0 } });
      const { activatedAt: _a, expiresAt: _e, ...minimal } = grant;
      await insertAll(shared.store, [minimal]);
      const stored = await shared.store.getGrant(minimal.id);
      expect(stored).toStrictEqual(minimal);
      expect(Object.keys(stored ?? {}).sort()).toEqual(Object.keys(minimal).sort());
      expect(Object.keys(stored?.credential ?? {}).sort()).toEqual(['revokeAttempts', 'state']);
    });

    it('returns undefined for an unknown id', async () => {
      expect(await shared.store.getGrant('no-such-grant')).toBeUndefined();
      expect(await shared.store.transaction((tx) => tx.lockGrant('no-such-grant'))).toBeUndefined();
    });

    it('refuses text PostgreSQL cannot store exactly, and stores nothing', async () => {
      const withNul = makeGrant({ task: 'drop\u0000table' });
      await rejectsWith(insertAll(shared.store, [withNul]), 'invalid_request');
      const withSurrogate = makeGrant({ reason: 'half \ud800 pair' });
      await rejectsWith(insertAll(shared.store, [withSurrogate]), 'invalid_request');
      expect(await shared.store.getGrant(withNul.id)).toBeUndefined();
      expect(await shared.store.getGrant(withSurrogate.id)).toBeUndefined();
    });

    it('refuses a second grant with the same id as a conflict', async () => {
      const grant = makeGrant();
      await insertAll(shared.store, [grant]);
      await rejectsWith(insertAll(shared.store, [{ ...grant, task: 'other' }]), 'conflict');
      expect((await shared.store.getGrant(grant.id))?.task).toBe(grant.task);
    });

    it('inserts a batch of grants in one call exactly as one by one', async () => {
      const store = shared.store;
      await fc.assert(
        fc.asyncProperty(fc.array(grantArbitrary(), { minLength: 1, maxLength: 12 }), async (generated) => {
          const grants = generated.map((g) => ({ ...g, id: nextGrantId() }));
          await store.transaction((tx) => tx.insertGrants(grants));
          for (const grant of grants) expect(await store.getGrant(grant.id)).toStrictEqual(grant);
        }),
        { numRuns: 15 },
      );
      await store.transaction((tx) => tx.insertGrants([]));
    });

    it('inserts a batch larger than one statement holds', async () => {
      const grants = Array.from({ length: 1_201 }, () => makeGrant());
      await shared.store.transaction((tx) => tx.insertGrants(grants));
      const sampled = [grants[0]!, grants[499]!, grants[500]!, grants[1_000]!, grants[1_200]!];
      for (const grant of sampled) expect(await shared.store.getGrant(grant.id)).toStrictEqual(grant);
    });

    it('inserts none of a batch holding a duplicate or an unstorable grant', async () => {
      const store = shared.store;
      const existing = makeGrant();
      await insertAll(store, [existing]);
      const fresh = [makeGrant(), makeGrant()];
      await rejectsWith(store.transaction((tx) => tx.insertGrants([fresh[0]!, { ...existing, task: 'other' }, fresh[1]!])), 'conflict');
      const twice = makeGrant();
      await rejectsWith(store.transaction((tx) => tx.insertGrants([twice, twice])), 'conflict');
      const unstorable = makeGrant({ task: 'drop\u0000table' });
      await rejectsWith(store.transaction((tx) => tx.insertGrants([fresh[0]!, unstorable])), 'invalid_request');
      for (const grant of [...fresh, twice, unstorable]) expect(await store.getGrant(grant.id)).toBeUndefined();
      expect((await store.getGrant(existing.id))?.task).toBe(existing.task);
    });

    it('updates only when the version is exactly the stored version + 1', async () => {
      const store = shared.store;
      const v1 = makeGrant({ status: 'pending_approval', decisionDeadline: NOW });
      await insertAll(store, [v1]);
      const v2: Grant = { ...v1, status: 'active', version: 2, expiresAt: NOW + 60_000, approvals: [{ approver: 'alice', verdict: 'approve', at: NOW }] };
      await store.transaction((tx) => tx.updateGrant(v2));
      expect(await store.getGrant(v1.id)).toStrictEqual(v2);

      const staleWrite: Grant = { ...v1, status: 'denied', version: 2 };
      await rejectsWith(store.transaction((tx) => tx.updateGrant(staleWrite)), 'conflict');
      await rejectsWith(store.transaction((tx) => tx.updateGrant({ ...v2, version: 4 })), 'conflict');
      await rejectsWith(store.transaction((tx) => tx.updateGrant({ ...v2, version: 2 })), 'conflict');
      await rejectsWith(store.transaction((tx) => tx.updateGrant(makeGrant({ version: 2 }))), 'conflict');
      expect(await store.getGrant(v1.id)).toStrictEqual(v2);
    });

    it('lets exactly one of two concurrent writers of the same version win', async () => {
      const store = shared.store;
      const v1 = makeGrant();
      await insertAll(store, [v1]);
      const writers = ['completed', 'revoked'].map((status) =>
        store.transaction((tx) => tx.updateGrant({ ...v1, status: status as Grant['status'], version: 2 })),
      );
      const outcomes = await Promise.allSettled(writers);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const [failure] = outcomes.filter((o) => o.status === 'rejected');
      expect((failure as PromiseRejectedResult).reason).toMatchObject({ code: 'conflict' });
      const stored = await store.getGrant(v1.id);
      expect(stored?.version).toBe(2);
      expect(['completed', 'revoked']).toContain(stored?.status);
    });

    it('updates a batch of grants in one call exactly as one by one', async () => {
      const store = shared.store;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(grantArbitrary(), grantArbitrary()), { minLength: 1, maxLength: 12 }),
          async (pairs) => {
            // The same old rows and the same new values, written once per grant and once as a batch.
            const one = pairs.map(([before, after]) => ({ before: { ...before, id: nextGrantId(), version: 1 }, after }));
            const batch = pairs.map(([before, after]) => ({ before: { ...before, id: nextGrantId(), version: 1 }, after }));
            await insertAll(store, [...one.map((p) => p.before), ...batch.map((p) => p.before)]);
            const next = (p: { before: Grant; after: Grant }): Grant => ({ ...p.after, id: p.before.id, version: 2 });
            await store.transaction(async (tx) => {
              for (const p of one) await tx.updateGrant(next(p));
            });
            await store.transaction((tx) => tx.updateGrants(batch.map(next)));
            for (let i = 0; i < pairs.length; i++) {
              const byOne = await store.getGrant(one[i]!.before.id);
              const byBatch = await store.getGrant(batch[i]!.before.id);
              expect(byBatch).toStrictEqual(next(batch[i]!));
              expect(byBatch).toStrictEqual({ ...byOne, id: batch[i]!.before.id });
            }
          },
        ),
        { numRuns: 15 },
      );
      await store.transaction((tx) => tx.updateGrants([]));
    });

    it('writes a grant listed twice in one batch as two successive updates', async () => {
      const store = shared.store;
      const v1 = makeGrant();
      await insertAll(store, [v1]);
      const v2: Grant = { ...v1, status: 'expired', version: 2 };
      const v3: Grant = { ...v2, credential: { state: 'revoked', revokeAttempts: 1 }, version: 3 };
      await store.transaction((tx) => tx.updateGrants([v2, v3]));
      expect(await store.getGrant(v1.id)).toStrictEqual(v3);
      await rejectsWith(store.transaction((tx) => tx.updateGrants([{ ...v3, version: 4 }, { ...v3, version: 4 }])), 'conflict');
      expect(await store.getGrant(v1.id)).toStrictEqual(v3);
    });

    it('writes nothing of a batch holding one stale version, and names that grant', async () => {
      const store = shared.store;
      const grants = Array.from({ length: 40 }, () => makeGrant());
      await insertAll(store, grants);
      const updated = grants.map((g) => ({ ...g, status: 'expired' as const, version: 2 }));
      // Version 3 where the stored one is 1: the 24th grant moved on since it was read.
      const stale = { ...updated[23]!, version: 3 };
      const batch = updated.map((g, i) => (i === 23 ? stale : g));
      const failure = await store.transaction((tx) => tx.updateGrants(batch)).catch((e: unknown) => e);
      expect(failure).toMatchObject({ code: 'conflict' });
      expect((failure as Error).message).toContain(stale.id);
      // A missing grant is a conflict too, as for updateGrant.
      await rejectsWith(store.transaction((tx) => tx.updateGrants([...updated, makeGrant({ version: 2 })])), 'conflict');
      for (const grant of grants) expect(await store.getGrant(grant.id)).toStrictEqual(grant);
    });

    it('refuses to commit a transaction that swallowed a batch conflict', async () => {
      const store = shared.store;
      const [first, second] = [makeGrant(), makeGrant()];
      await insertAll(store, [first!, second!]);
      await rejectsWith(
        store.transaction(async (tx) => {
          await tx.updateGrants([{ ...first!, task: 'changed', version: 2 }, { ...second!, version: 5 }]).catch(() => undefined);
        }),
        'internal',
      );
      expect(await store.getGrant(first!.id)).toStrictEqual(first);
    });

    it('updates a batch larger than the bind parameter limit allows in one statement', async () => {
      // 18 parameters per row: 3,700 rows would be 66,600, over PostgreSQL's 65,535.
      const grants = Array.from({ length: 3_700 }, () => makeGrant());
      await shared.store.transaction((tx) => tx.insertGrants(grants));
      const updated = grants.map((g, i) => ({ ...g, status: 'expired' as const, endedAt: g.createdAt + i, version: 2 }));
      await shared.store.transaction((tx) => tx.updateGrants(updated));
      for (const i of [0, 499, 500, 1_999, 3_640, 3_641, 3_699]) expect(await shared.store.getGrant(grants[i]!.id)).toStrictEqual(updated[i]);
      const staleLast = updated.map((g, i) => ({ ...g, version: i === 3_699 ? 2 : 3 }));
      await rejectsWith(shared.store.transaction((tx) => tx.updateGrants(staleLast)), 'conflict');
      for (const i of [0, 500, 3_699]) expect(await shared.store.getGrant(grants[i]!.id)).toStrictEqual(updated[i]);
    });

    it('locks exactly the existing grants among many ids', async () => {
      const store = shared.store;
      const grants = Array.from({ length: 30 }, () => makeGrant());
      await insertAll(store, grants);
      const unknown = ['no-such-1', 'no-such-2'];
      const ids = [unknown[0]!, ...grants.map((g) => g.id).reverse(), grants[3]!.id, unknown[1]!];
      const locked = await store.transaction((tx) => tx.lockGrants(ids));
      expect([...locked.keys()].sort()).toEqual(grants.map((g) => g.id).sort());
      for (const grant of grants) expect(locked.get(grant.id)).toStrictEqual(await store.transaction((tx) => tx.lockGrant(grant.id)));
      expect((await store.transaction((tx) => tx.lockGrants([]))).size).toBe(0);
      expect((await store.transaction((tx) => tx.lockGrants(unknown))).size).toBe(0);
      const many = Array.from({ length: 5_000 }, (_, i) => (i === 4_321 ? grants[0]!.id : `no-such-${i}`));
      expect([...(await store.transaction((tx) => tx.lockGrants(many))).keys()]).toEqual([grants[0]!.id]);
    });

    it('holds the batch lock until commit: a second locker waits for the first', async () => {
      const store = shared.store;
      const grants = [makeGrant(), makeGrant(), makeGrant()];
      await insertAll(store, grants);
      const held = deferred();
      const locked = deferred();
      const first = store.transaction(async (tx) => {
        const rows = await tx.lockGrants(grants.map((g) => g.id));
        locked.resolve();
        await held.promise;
        await tx.updateGrants([...rows.values()].map((g) => ({ ...g, status: 'revoked' as const, version: g.version + 1 })));
      });
      await locked.promise;
      // PGlite has one connection (transactions queue); PostgreSQL blocks on the row locks.
      const second = store.transaction((tx) => tx.lockGrants([grants[2]!.id, grants[0]!.id]));
      held.resolve();
      await first;
      const seen = await second;
      expect([...seen.values()].map((g) => [g.status, g.version])).toEqual([
        ['revoked', 2],
        ['revoked', 2],
      ]);
    });
  });

  describe('grant liveness (introspection read)', () => {
    /** What grantLiveness must return for a stored grant: the six fields, absent ones absent. */
    const livenessOfStored = (g: Grant): GrantLiveness => ({
      status: g.status,
      ...(g.expiresAt !== undefined ? { expiresAt: g.expiresAt } : {}),
      ...(g.decisionDeadline !== undefined ? { decisionDeadline: g.decisionDeadline } : {}),
      tenant: g.tenant,
      principal: g.principal,
      task: g.task,
    });

    it('reads exactly the liveness fields of any stored grant', async () => {
      const store = shared.store;
      await fc.assert(
        fc.asyncProperty(grantArbitrary(), async (generated) => {
          const grant = { ...generated, id: nextGrantId() };
          await insertAll(store, [grant]);
          // Twice: the second read may be served from the PGlite store's cache.
          expect(await store.grantLiveness(grant.id)).toStrictEqual(livenessOfStored(grant));
          expect(await store.grantLiveness(grant.id)).toStrictEqual(livenessOfStored((await store.getGrant(grant.id))!));
        }),
        { numRuns: 40 },
      );
    });

    it('returns undefined for an unknown id, and for a grant whose insert rolled back', async () => {
      expect(await shared.store.grantLiveness('no-such-grant')).toBeUndefined();
      const grant = makeGrant();
      await shared.store
        .transaction(async (tx) => {
          await tx.insertGrant(grant);
          throw new Error('roll back');
        })
        .catch(() => undefined);
      expect(await shared.store.grantLiveness(grant.id)).toBeUndefined();
    });

    it('shows a committed change as soon as transaction() resolves, and never a rolled-back one', async () => {
      const store = shared.store;
      const v1 = makeGrant({ status: 'active', expiresAt: NOW + 60_000 });
      await insertAll(store, [v1]);
      expect(await store.grantLiveness(v1.id)).toMatchObject({ status: 'active', expiresAt: NOW + 60_000 });

      // Written, then rolled back: the previous state stays.
      const revoked: Grant = { ...v1, status: 'revoked', endReason: 'revoked', endedAt: NOW, version: 2 };
      const boom = new Error('boom');
      const thrown = await store
        .transaction(async (tx) => {
          await tx.updateGrant(revoked);
          throw boom;
        })
        .catch((e: unknown) => e);
      expect(thrown).toBe(boom);
      expect(await store.grantLiveness(v1.id)).toMatchObject({ status: 'active' });

      // A version conflict the callback caught wrote nothing, so the commit changes nothing.
      await store.transaction(async (tx) => {
        await tx.updateGrant({ ...revoked, version: 3 }).catch(() => undefined);
      });
      expect(await store.grantLiveness(v1.id)).toMatchObject({ status: 'active' });

      // Committed: visible to the very next read.
      await store.transaction((tx) => tx.updateGrant(revoked));
      expect(await store.grantLiveness(v1.id)).toStrictEqual(livenessOfStored(revoked));
    });

    it('serves every read after a committing writer resolved from the commit, whatever ran beside it', async () => {
      const store = shared.store;
      const v1 = makeGrant({ status: 'active' });
      await insertAll(store, [v1]);
      const completed: Grant = { ...v1, status: 'completed', endReason: 'completed', endedAt: NOW, version: 2 };
      // Reads queued before, beside and after a committing writer: whatever order the backend
      // runs them in, once the writer has resolved every later read sees the commit.
      const before = store.grantLiveness(v1.id);
      const writer = store.transaction((tx) => tx.updateGrant(completed));
      const beside = store.grantLiveness(v1.id);
      await writer;
      await Promise.all([before, beside]);
      expect(await store.grantLiveness(v1.id)).toMatchObject({ status: 'completed' });
      expect(['active', 'completed']).toContain((await before)?.status);
    });
  });

  describe('transactions', () => {
    it('commits and returns the callback value', async () => {
      const grant = makeGrant();
      const result = await shared.store.transaction(async (tx) => {
        await tx.insertGrant(grant);
        return 'done';
      });
      expect(result).toBe('done');
      expect(await shared.store.getGrant(grant.id)).toStrictEqual(grant);
    });

    it('rolls back grant and audit writes together and rethrows the same error', async () => {
      const store = shared.store;
      const headBefore = await store.auditHead();
      const grant = makeGrant();
      const boom = new Error('boom');
      const thrown = await store
        .transaction(async (tx) => {
          await tx.insertGrant(grant);
          await tx.appendAudit([event(1, grant.id), event(2, grant.id)], NOW);
          throw boom;
        })
        .catch((e: unknown) => e);
      expect(thrown).toBe(boom);
      expect(await store.getGrant(grant.id)).toBeUndefined();
      expect(await store.auditHead()).toEqual(headBefore);
      expect(await store.readAudit(headBefore.size, 10)).toEqual([]);
      expect(await store.readLeafHashes(headBefore.size, headBefore.size + 10)).toEqual([]);
    });

    it('reports a failed statement whose error the callback swallowed, and commits nothing', async () => {
      const store = shared.store;
      const existing = makeGrant();
      await insertAll(store, [existing]);
      const sibling = makeGrant();
      await rejectsWith(
        store.transaction(async (tx) => {
          await tx.insertGrant(sibling);
          await tx.insertGrant(existing).catch(() => undefined);
        }),
        'internal',
      );
      expect(await store.getGrant(sibling.id)).toBeUndefined();
    });

    it('refuses store-level calls from inside a transaction instead of deadlocking', async () => {
      const store = shared.store;
      const grant = makeGrant();
      await store.transaction(async (tx) => {
        await tx.insertGrant(grant);
        await rejectsWith(store.getGrant(grant.id), 'internal');
        await rejectsWith(store.grantLiveness(grant.id), 'internal');
        await rejectsWith(store.transaction(async () => undefined), 'internal');
      });
      expect(await store.getGrant(grant.id)).toStrictEqual(grant);
    });

    it('refuses a transaction handle used after its transaction ended', async () => {
      let leaked: StoreTx | undefined;
      await shared.store.transaction(async (tx) => {
        leaked = tx;
      });
      await rejectsWith(leaked!.lockGrant('anything'), 'internal');
    });
  });

  describe('listing', () => {
    it('pages through every filter with no duplicates or gaps and counts by status', async () => {
      const store = await freshStore();
      expect(await store.countByStatus()).toEqual({});
      expect(await store.listGrants({}, { limit: 10 })).toEqual({ items: [] });
      const statuses: Grant['status'][] = ['active', 'expired', 'pending_approval', 'revoked', 'revoke_failed'];
      const parent = makeGrant({ tenant: 'acme' });
      const grants: Grant[] = [parent];
      for (let i = 1; i < 250; i++) {
        const breakGlass = i % 9 === 0;
        grants.push(
          makeGrant({
            tenant: i % 5 === 0 ? 'globex' : 'acme',
            principal: `workload:bot-${i % 4}`,
            target: `db-${i % 3}`,
            status: statuses[i % statuses.length]!,
            breakGlass,
            ...(breakGlass && i % 2 === 0 ? { review: { reviewer: 'sec', outcome: 'justified' as const, notes: 'ok', at: NOW } } : {}),
            ...(i % 11 === 0 ? { kind: 'extension' as const, parentId: parent.id } : {}),
          }),
        );
      }
      // Insert in shuffled order: the listing order must come from the ids, not insertion.
      const shuffled = [...grants].sort((a, b) => (a.id.split('').reverse().join('') < b.id.split('').reverse().join('') ? -1 : 1));
      for (let i = 0; i < shuffled.length; i += 50) await insertAll(store, shuffled.slice(i, i + 50));

      const filters: [GrantFilter, (g: Grant) => boolean][] = [
        [{}, () => true],
        [{ tenant: 'acme' }, (g) => g.tenant === 'acme'],
        [{ tenant: 'acme', status: 'active' }, (g) => g.tenant === 'acme' && g.status === 'active'],
        [{ tenant: 'acme', principal: 'workload:bot-1' }, (g) => g.tenant === 'acme' && g.principal === 'workload:bot-1'],
        [{ tenant: 'globex', target: 'db-2' }, (g) => g.tenant === 'globex' && g.target === 'db-2'],
        [{ needsReview: true }, (g) => g.breakGlass && g.review === undefined],
        [{ tenant: 'acme', needsReview: false }, (g) => g.tenant === 'acme' && !(g.breakGlass && g.review === undefined)],
        [{ kind: 'extension' }, (g) => g.kind === 'extension'],
        [{ parentId: parent.id }, (g) => g.parentId === parent.id],
        [{ tenant: 'acme', status: 'revoked', target: 'db-0', principal: 'workload:bot-2' }, (g) =>
          g.tenant === 'acme' && g.status === 'revoked' && g.target === 'db-0' && g.principal === 'workload:bot-2'],
      ];
      for (const [filter, matches] of filters) {
        const expected = grants.filter(matches).map((g) => g.id).sort().reverse();
        expect(expected.length, JSON.stringify(filter)).toBeGreaterThan(0);
        for (const limit of [7, 500]) {
          const { ids, pages } = await listAll(store, filter, limit);
          expect(ids, JSON.stringify({ filter, limit })).toEqual(expected);
          expect(pages).toBe(Math.max(1, Math.ceil(expected.length / limit)));
        }
      }
      const first = await store.listGrants({ tenant: 'acme' }, { limit: 3 });
      expect((await store.listGrants({ tenant: 'acme' }, { limit: 3 })).items).toStrictEqual(first.items);
      expect(first.items[0]).toStrictEqual(grants.filter((g) => g.tenant === 'acme').at(-1));

      const counts: Partial<Record<Grant['status'], number>> = {};
      for (const g of grants) counts[g.status] = (counts[g.status] ?? 0) + 1;
      expect(await store.countByStatus()).toEqual(counts);
    });

    it('keeps paging stable while new grants arrive', async () => {
      const store = shared.store;
      const tenant = 'stable-paging';
      const grants = Array.from({ length: 30 }, () => makeGrant({ tenant }));
      await insertAll(store, grants);
      const firstPage = await store.listGrants({ tenant }, { limit: 10 });
      await insertAll(store, [makeGrant({ tenant }), makeGrant({ tenant })]);
      const seen = firstPage.items.map((g) => g.id);
      let cursor = firstPage.nextCursor;
      while (cursor !== undefined) {
        const page = await store.listGrants({ tenant }, { limit: 10, cursor });
        seen.push(...page.items.map((g) => g.id));
        cursor = page.nextCursor;
      }
      expect(seen).toEqual(grants.map((g) => g.id).reverse());
    });

    it('clamps the page size to 1..500 and rejects a forged cursor', async () => {
      const store = shared.store;
      await insertAll(store, [makeGrant(), makeGrant()]);
      expect((await store.listGrants({}, { limit: 0 })).items).toHaveLength(1);
      expect((await store.listGrants({}, { limit: -3 })).items).toHaveLength(1);
      await rejectsWith(store.listGrants({}, { limit: 5, cursor: 'not a cursor!' }), 'invalid_request');
      await rejectsWith(store.listGrants({}, { limit: 5, cursor: '' }), 'invalid_request');
    });
  });

  describe('worker claims', () => {
    it('claims only due rows, oldest first, up to the limit', async () => {
      const store = await freshStore();
      const due1 = makeGrant({ status: 'active', expiresAt: NOW - 3000 });
      const due2 = makeGrant({ status: 'active', expiresAt: NOW - 1000 });
      const dueNow = makeGrant({ status: 'active', expiresAt: NOW });
      const later = makeGrant({ status: 'active', expiresAt: NOW + 1 });
      const alreadyEnded = makeGrant({ status: 'expired', expiresAt: NOW - 5000 });
      const pendingDue = makeGrant({ status: 'pending_approval', decisionDeadline: NOW - 10 });
      const pendingDue2 = makeGrant({ status: 'pending_approval', decisionDeadline: NOW - 20 });
      const pendingLater = makeGrant({ status: 'pending_approval', decisionDeadline: NOW + 10 });
      const deniedOld = makeGrant({ status: 'denied', decisionDeadline: NOW - 100 });
      const cred = (state: Grant['credential']['state'], revokeNextAt: number): Grant =>
        makeGrant({ status: 'revoke_failed', credential: { state, revokeAttempts: 1, revokeNextAt } });
      const revoking = cred('revoking', NOW - 50);
      const failed = cred('revoke_failed', NOW - 70);
      const provisioning = cred('provisioning', NOW - 60);
      const issued = cred('issued', NOW - 90);
      const revokingLater = cred('revoking', NOW + 50);
      // Inserted out of due order: the claim order must come from the due times.
      await insertAll(store, [
        dueNow, later, due2, alreadyEnded, due1, pendingDue, pendingDue2, pendingLater, deniedOld,
        revoking, failed, provisioning, issued, revokingLater,
      ]);
      const ids = (grants: Grant[]): string[] => grants.map((g) => g.id);

      await store.transaction(async (tx) => {
        expect(ids(await tx.claimExpired(NOW, 10))).toEqual(ids([due1, due2, dueNow]));
        expect(ids(await tx.claimStalePending(NOW, 10))).toEqual(ids([pendingDue2, pendingDue]));
        expect(ids(await tx.claimCredentialWork(['revoking', 'revoke_failed', 'provisioning'], NOW, 10))).toEqual(
          ids([failed, provisioning, revoking]),
        );
        expect(ids(await tx.claimCredentialWork(['revoking'], NOW, 10))).toEqual(ids([revoking]));
        expect(ids(await tx.claimCredentialWork(['issued'], NOW, 10))).toEqual(ids([issued]));
        expect(await tx.claimCredentialWork([], NOW, 10)).toEqual([]);
        expect(await tx.claimExpired(NOW, 0)).toEqual([]);
      });
      await store.transaction(async (tx) => {
        expect(ids(await tx.claimExpired(NOW, 2))).toEqual(ids([due1, due2]));
        expect(ids(await tx.claimCredentialWork(['revoking', 'revoke_failed', 'provisioning'], NOW, 1))).toEqual(ids([failed]));
        expect(await tx.claimExpired(NOW - 10_000, 10)).toEqual([]);
      });
      const claimed = await store.transaction((tx) => tx.claimExpired(NOW, 1));
      expect(claimed[0]).toStrictEqual(due1);
      await rejectsWith(
        store.transaction((tx) => tx.claimCredentialWork(["issued') OR (1=1" as never], NOW, 10)),
        'internal',
      );
    });

    it('gives concurrent claimers disjoint rows (FOR UPDATE SKIP LOCKED)', async () => {
      const store = await freshStore();
      const due = Array.from({ length: 10 }, (_, i) => makeGrant({ status: 'active', expiresAt: NOW - 1000 + i }));
      await insertAll(store, due);
      const order: string[] = [];
      const firstClaimed = deferred();
      const releaseFirst = deferred();
      // If SKIP LOCKED were missing the second claim would block on the first transaction's
      // rows until the test times out; releasing the first then lets cleanup close the store.
      onTestFinished(() => releaseFirst.resolve());

      const first = store.transaction(async (tx) => {
        const claimed = await tx.claimExpired(NOW, 4);
        for (const g of claimed) await tx.updateGrant({ ...g, status: 'expired', endReason: 'expired', version: g.version + 1 });
        order.push('first claimed');
        firstClaimed.resolve();
        if (backend.name === 'postgres') await releaseFirst.promise;
        // One more statement: were transactions not serialised, the second would run here.
        await tx.lockGrant(due[0]!.id);
        order.push('first done');
        return claimed;
      });
      await firstClaimed.promise;
      const second = store.transaction(async (tx) => {
        order.push('second claims');
        return tx.claimExpired(NOW, 10);
      });
      if (backend.name === 'postgres') {
        // The second claim must return while the first transaction still holds its rows.
        const secondRows = await second;
        order.push('second returned');
        releaseFirst.resolve();
        const firstRows = await first;
        expect(order).toEqual(['first claimed', 'second claims', 'second returned', 'first done']);
        expect(firstRows.map((g) => g.id)).toEqual(due.slice(0, 4).map((g) => g.id));
        expect(secondRows.map((g) => g.id)).toEqual(due.slice(4).map((g) => g.id));
      } else {
        // PGlite is one connection: transactions run one after the other, and the second
        // sees the first one's committed updates.
        const [firstRows, secondRows] = await Promise.all([first, second]);
        expect(order).toEqual(['first claimed', 'first done', 'second claims']);
        expect(firstRows.map((g) => g.id)).toEqual(due.slice(0, 4).map((g) => g.id));
        expect(secondRows.map((g) => g.id)).toEqual(due.slice(4).map((g) => g.id));
      }
      expect((await store.countByStatus()).expired).toBe(4);
    });

    it('reports the earliest due time of every kind of work', async () => {
      const store = await freshStore();
      expect(await store.nextDueAt()).toBeUndefined();
      const notDue = [
        makeGrant({ status: 'expired', expiresAt: NOW - 900 }),
        makeGrant({ status: 'denied', decisionDeadline: NOW - 800 }),
        makeGrant({ status: 'active', expiresAt: NOW + 500, credential: { state: 'issued', revokeAttempts: 0, revokeNextAt: NOW - 700 } }),
      ];
      await insertAll(store, notDue);
      expect(await store.nextDueAt()).toBe(NOW + 500);
      const revoking = makeGrant({ status: 'revoke_failed', expiresAt: NOW - 1000, credential: { state: 'revoking', revokeAttempts: 1, revokeNextAt: NOW + 400 } });
      await insertAll(store, [revoking]);
      expect(await store.nextDueAt()).toBe(NOW + 400);
      const pending = makeGrant({ status: 'pending_approval', decisionDeadline: NOW + 300 });
      await insertAll(store, [pending]);
      expect(await store.nextDueAt()).toBe(NOW + 300);
      await store.transaction((tx) => tx.updateGrant({ ...pending, status: 'denied', version: 2 }));
      expect(await store.nextDueAt()).toBe(NOW + 400);
      await store.transaction((tx) =>
        tx.updateGrant({ ...revoking, status: 'expired', credential: { state: 'revoked', revokeAttempts: 2 }, version: 2 }),
      );
      expect(await store.nextDueAt()).toBe(NOW + 500);
    });

    it('lists the grants that may hold a credential on a target, and only those', async () => {
      const store = await freshStore();
      const holders = (['provisioning', 'issued', 'revoking', 'revoke_failed'] as const).map((state) =>
        makeGrant({ target: 'pg-a', status: 'active', expiresAt: NOW + 1000, credential: { state, revokeAttempts: 0 } }),
      );
      const others = [
        makeGrant({ target: 'pg-a', status: 'completed', credential: { state: 'revoked', revokeAttempts: 1 } }),
        makeGrant({ target: 'pg-a', status: 'pending_approval', credential: { state: 'none', revokeAttempts: 0 } }),
        makeGrant({ target: 'pg-b', status: 'active', expiresAt: NOW + 1000, credential: { state: 'issued', revokeAttempts: 0 } }),
      ];
      await insertAll(store, [...holders, ...others]);
      expect((await store.credentialHolders('pg-a')).sort()).toEqual(holders.map((g) => g.id).sort());
      expect(await store.credentialHolders('nowhere')).toEqual([]);
    });
  });

  describe('audit log', () => {
    function checkChain(records: readonly AuditRecord[]): void {
      let prev = '';
      records.forEach((record, i) => {
        expect(record.seq).toBe(i);
        expect(record.leafHash).toBe(toHex(leafHash(record.canonical)));
        const body = JSON.parse(record.canonical) as { seq: number; time: number; prev: string; type: string; actor: string };
        expect(body).toMatchObject({ seq: record.seq, time: record.time, prev, type: record.type, actor: record.actor });
        prev = record.leafHash;
      });
    }

    async function checkTree(store: Store, size: number): Promise<void> {
      const head = await store.auditHead();
      expect(head.size).toBe(size);
      const leaves = await store.readLeafHashes(0, size);
      expect(leaves).toHaveLength(size);
      expect(toHex(frontierRoot(head.frontier.map(fromHex)))).toBe(toHex(rootFromLeaves(leaves)));
    }

    it('commits new grants with their events (commitNewGrants), also alongside other appends, as one gapless log', async () => {
      const store = await freshStore();
      const grantsOf = (n: number) => Array.from({ length: n }, () => makeGrant({ status: 'active' }));
      const eventsFor = (grants: readonly Grant[], base: number) => grants.flatMap((g, i) => [event(base + 2 * i, g.id), event(base + 2 * i + 1, g.id)]);
      const first = grantsOf(3);
      const records = await store.commitNewGrants(first, eventsFor(first, 0), NOW);
      expect(records.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5]);
      // Group commits racing transactions that append on their own.
      const batches = Array.from({ length: 12 }, (_, i) => grantsOf((i % 4) + 1));
      await Promise.all([
        ...batches.map((grants, i) => store.commitNewGrants(grants, eventsFor(grants, 100 * (i + 1)), NOW + i)),
        ...Array.from({ length: 6 }, (_, i) => store.transaction((tx) => tx.appendAudit([event(5000 + i)], NOW + i))),
      ]);
      const size = 6 + batches.reduce((n, g) => n + 2 * g.length, 0) + 6;
      checkChain(await store.readAudit(0, size + 1));
      await checkTree(store, size);
      for (const grant of [...first, ...batches.flat()]) expect(await store.getGrant(grant.id)).toEqual(grant);
      // A duplicate grant fails the whole batch and writes nothing.
      const again = [makeGrant({ status: 'active' }), first[0]!];
      await rejectsWith(store.commitNewGrants(again, eventsFor(again, 9000), NOW), 'conflict');
      expect(await store.getGrant(again[0]!.id)).toBeUndefined();
      await checkTree(store, size);
    });

    it.runIf(backend.name === 'postgres')('PostgreSQL: a group commit writes in one statement after its own, and takes the lock when another replica appended', async () => {
      const [a, b] = await twoReplicas();
      const stats = (a as unknown as { groupCommits: { oneStatement: number; headMoved: number; locked: number } }).groupCommits;
      const commit = (store: Store, base: number) => {
        const g = makeGrant({ status: 'active' });
        return store.commitNewGrants([g], [event(base, g.id)], NOW);
      };
      await commit(a, 0); // no head known yet: the locking way
      await commit(a, 1); // its own head: one statement
      expect(stats).toEqual({ oneStatement: 1, headMoved: 0, locked: 1 });
      await b.transaction((tx) => tx.appendAudit([event(2)], NOW));
      await commit(a, 3); // b appended: the guess is wrong, nothing written by it, then the lock
      expect(stats).toEqual({ oneStatement: 1, headMoved: 1, locked: 2 });
      // Both replicas committing at once still make one gapless log.
      await Promise.all(Array.from({ length: 30 }, (_, i) => commit(i % 2 === 0 ? a : b, 100 + i)));
      checkChain(await a.readAudit(0, 100));
      await checkTree(b, 34);
    });

    it('assigns consecutive seqs across many concurrent transactions', async () => {
      const store = await freshStore();
      const batches = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.transaction((tx) =>
            tx.appendAudit(
              Array.from({ length: (i % 3) + 1 }, (_, j) => event(i * 10 + j, `g-${i}`)),
              NOW + i,
            ),
          ),
        ),
      );
      const total = batches.reduce((n, b) => n + b.length, 0);
      expect(total).toBe(39);
      for (const batch of batches) {
        batch.forEach((record, j) => expect(record.seq).toBe(batch[0]!.seq + j));
      }
      const returned = batches.flat().sort((a, b) => a.seq - b.seq);
      expect(returned.map((r) => r.seq)).toEqual(Array.from({ length: total }, (_, i) => i));
      const stored = await store.readAudit(0, total + 5);
      expect(stored).toStrictEqual(returned);
      checkChain(stored);
      await checkTree(store, total);
      expect((await store.readLeafHashes(0, total)).map(toHex)).toEqual(stored.map((r) => r.leafHash));
      expect(await store.readAudit(5, 3)).toStrictEqual(stored.slice(5, 8));
      expect(await store.readLeafHashes(3, 3)).toEqual([]);
    });

    it('leaves no gap after a rolled-back append and keeps the chain', async () => {
      const store = await freshStore();
      const first = await store.transaction((tx) => tx.appendAudit([event(1), event(2, 'g-1')], NOW));
      await store
        .transaction(async (tx) => {
          await tx.appendAudit([event(3), event(4), event(5)], NOW + 1);
          throw new Error('abort');
        })
        .catch(() => undefined);
      const after = await store.transaction((tx) => tx.appendAudit([event(6)], NOW + 2));
      expect(await store.latestCheckpoint()).toBeUndefined();
      expect(after[0]?.seq).toBe(2);
      const stored = await store.readAudit(0, 10);
      expect(stored).toStrictEqual([...first, ...after]);
      expect(stored[1]?.grantId).toBe('g-1');
      expect(stored[0]).not.toHaveProperty('grantId');
      checkChain(stored);
      await checkTree(store, 3);
      expect(await store.transaction((tx) => tx.appendAudit([], NOW))).toEqual([]);
      await checkTree(store, 3);
    });

    it('packs every range of the log into the records readAudit returns, or refuses to decode it', async () => {
      const store = await freshStore();
      // Values that stress the packing: absent and empty grant ids, quotes, backslashes, non-ASCII
      // and astral text, and the two separator characters themselves in every text column.
      const odd: AuditEventInput[] = [
        event(1),
        { type: 'grant.requested', actor: 'workload:a"b\\c', grantId: '', data: { s: 'é 🦀 "x"' } },
        event(2, 'g-2'),
        { type: 'grant.requested', actor: 'workload:\u0001split', grantId: 'g-3', data: {} },
        event(4, 'g-4'),
        { type: 'grant.requested', actor: 'workload:five', grantId: 'g\u00025', data: { t: '\u0001\u0002' } },
        event(6),
        { type: 'grant.requested\u0002' as AuditEventInput['type'], actor: 'workload:seven', data: {} },
        event(8, 'g-8'),
      ];
      await store.transaction((tx) => tx.appendAudit(odd.slice(0, 4), NOW));
      await store.transaction((tx) => tx.appendAudit(odd.slice(4), NOW + 1));
      const all = await store.readAudit(0, 100);
      expect(all).toHaveLength(odd.length);
      /** Rows whose columns hold a separator character: a packed range with one cannot be decoded. */
      const undecodable = new Set([3, 5, 7]);
      for (let from = 0; from <= all.length + 1; from++) {
        for (const limit of [0, 1, 2, 3, 5, all.length + 3]) {
          const rows = await store.readAudit(from, limit);
          const packed = await store.readAuditPacked(from, limit);
          expect(packed).toMatchObject({ fromSeq: from, limit, count: rows.length });
          const unpacked = unpackAuditBatch(packed);
          if (rows.some((r) => undecodable.has(r.seq))) {
            expect(unpacked, `[${from}, +${limit})`).toBeUndefined();
          } else {
            expect(unpacked, `[${from}, +${limit})`).toStrictEqual(rows);
          }
          expect(await readAuditFast(store, from, limit)).toStrictEqual(rows);
        }
      }
      // The texts, in order, as they are stored (canonical JSON escapes every control character).
      expect((await store.readAuditPacked(0, 100)).canonical.split('\u0002')).toEqual(all.map((r) => r.canonical));
      expect(await store.readAuditPacked(50, 10)).toStrictEqual({ fromSeq: 50, limit: 10, count: 0, canonical: '', columns: '' });
    });

    it('reads the log as wire bytes that decode into exactly what readAudit returns (PGlite), or offers no wire read (PostgreSQL)', async () => {
      const store = await freshStore();
      if (backend.name === 'postgres') {
        expect(store.readAuditWire).toBeUndefined();
        return;
      }
      const odd: AuditEventInput[] = [
        event(1),
        { type: 'grant.requested', actor: 'workload:a"b\\c', grantId: '', data: { s: 'é 🦀 "x"' } },
        event(2, 'g-2'),
        { type: 'grant.requested', actor: 'workload:\u0001split', grantId: 'g-3', data: { t: '\u0001\u0002' } },
        event(4, 'g-4'),
      ];
      await store.transaction((tx) => tx.appendAudit(odd.slice(0, 2), NOW));
      await store.transaction((tx) => tx.appendAudit(odd.slice(2), NOW + 1));
      for (let from = 0; from <= odd.length + 1; from++) {
        for (const limit of [1, 2, 3, odd.length + 3]) {
          const rows = decodeWireBatch(await store.readAuditWire!(from, limit));
          expect(rows, `[${from}, +${limit})`).toBeDefined();
          expect(wireRecords(rows!), `[${from}, +${limit})`).toStrictEqual(await store.readAudit(from, limit));
        }
      }
      await expect(store.readAuditWire!(0.5, 3)).rejects.toThrow(RangeError);
    });

    it('inserts grants with their events in one call exactly as insertGrants then appendAudit', async () => {
      const combined = await freshStore();
      const separate = await freshStore();
      // Repeated sizes run the same prepared statement again on PostgreSQL (audit-append.ts).
      const rounds = [3, 1, 8, 3, 8];
      let written = 0;
      for (const [round, count] of rounds.entries()) {
        const grants = Array.from({ length: count }, () => makeGrant());
        const events = grants.flatMap((g, i) => [event(round * 100 + i, g.id), event(round * 100 + i + 50, g.id)]);
        const viaOne = await combined.transaction((tx) => tx.insertGrantsWithAudit(grants, events, NOW + round));
        const viaTwo = await separate.transaction(async (tx) => {
          await tx.insertGrants(grants);
          return tx.appendAudit(events, NOW + round);
        });
        expect(viaOne).toStrictEqual(viaTwo);
        written += events.length;
        expect(viaOne.map((r) => r.seq)).toEqual(events.map((_, i) => written - events.length + i));
        for (const grant of grants) expect(await combined.getGrant(grant.id)).toStrictEqual(grant);
      }
      const stored = await combined.readAudit(0, written + 1);
      expect(stored).toStrictEqual(await separate.readAudit(0, written + 1));
      checkChain(stored);
      await checkTree(combined, written);
      expect(await combined.auditHead()).toStrictEqual(await separate.auditHead());
    });

    it('chains several appends of one transaction, and after a rolled-back one goes on from the committed head', async () => {
      // On PGlite the head is known without reading the row (audit-head-cache.ts): a transaction's
      // second append must chain to its first, and a rollback must leave the committed head.
      const store = await freshStore();
      const a = makeGrant();
      const first = await store.transaction(async (tx) => {
        const combined = await tx.insertGrantsWithAudit([a], [event(1, a.id), event(2, a.id)], NOW);
        return [...combined, ...(await tx.appendAudit([event(3)], NOW))];
      });
      expect(first.map((r) => r.seq)).toEqual([0, 1, 2]);
      const b = makeGrant();
      await store
        .transaction(async (tx) => {
          await tx.appendAudit([event(4)], NOW + 1);
          await tx.insertGrantsWithAudit([b], [event(5, b.id)], NOW + 1);
          throw new Error('abort');
        })
        .catch(() => undefined);
      expect(await store.getGrant(b.id)).toBeUndefined();
      const after = await store.transaction((tx) => tx.insertGrantsWithAudit([b], [event(6, b.id)], NOW + 2));
      expect(after.map((r) => r.seq)).toEqual([3]);
      const stored = await store.readAudit(0, 10);
      expect(stored).toStrictEqual([...first, ...after]);
      checkChain(stored);
      await checkTree(store, 4);
      expect((await store.auditHead()).size).toBe(4);
    });

    it('writes nothing of a combined insert whose grant already exists, and keeps the chain', async () => {
      const store = await freshStore();
      const existing = makeGrant();
      await store.transaction((tx) => tx.insertGrantsWithAudit([existing], [event(1, existing.id)], NOW));
      const fresh = makeGrant();
      await rejectsWith(
        store.transaction((tx) => tx.insertGrantsWithAudit([fresh, existing], [event(2, fresh.id), event(3, existing.id)], NOW + 1)),
        'conflict',
      );
      expect(await store.getGrant(fresh.id)).toBeUndefined();
      await checkTree(store, 1);
      const after = await store.transaction((tx) => tx.insertGrantsWithAudit([fresh], [event(4, fresh.id)], NOW + 2));
      expect(after.map((r) => r.seq)).toEqual([1]);
      checkChain(await store.readAudit(0, 5));
    });

    it('inserts a combined batch too large for one statement through the separate statements', async () => {
      const store = await freshStore();
      const grants = Array.from({ length: 900 }, () => makeGrant());
      const events = grants.map((g, i) => event(i, g.id));
      const records = await store.transaction((tx) => tx.insertGrantsWithAudit(grants, events, NOW));
      expect(records.map((r) => r.grantId)).toEqual(grants.map((g) => g.id));
      expect(await store.getGrant(grants[899]!.id)).toStrictEqual(grants[899]);
      checkChain(await store.readAudit(0, 1000));
      await checkTree(store, 900);
    });

    it('saves checkpoints, serves the latest, and refuses two roots for one size', async () => {
      // The only case that writes checkpoints, so the shared store has none before it.
      const store = shared.store;
      const small = { size: 2, rootHash: 'aa'.repeat(32), note: 'note 2', createdAt: NOW };
      const large = { size: 5, rootHash: 'bb'.repeat(32), note: 'note 5', createdAt: NOW + 1 };
      await store.transaction((tx) => tx.saveCheckpoint(large));
      await store.transaction((tx) => tx.saveCheckpoint(small));
      expect(await store.latestCheckpoint()).toStrictEqual(large);
      const resigned = { ...large, note: 'note 5 again', createdAt: NOW + 2 };
      await store.transaction((tx) => tx.saveCheckpoint(resigned));
      expect(await store.latestCheckpoint()).toStrictEqual(resigned);
      await rejectsWith(store.transaction((tx) => tx.saveCheckpoint({ ...large, rootHash: 'cc'.repeat(32) })), 'conflict');
      await store
        .transaction(async (tx) => {
          await tx.saveCheckpoint({ size: 9, rootHash: 'dd'.repeat(32), note: 'n', createdAt: NOW });
          throw new Error('abort');
        })
        .catch(() => undefined);
      expect(await store.latestCheckpoint()).toStrictEqual(resigned);
    });
  });

  describe('DPoP proof ids', () => {
    it('remembers a (key, jti) pair once, until exactly its expiry, independently per key', async () => {
      const store = shared.store;
      const jkt = `jkt-${nextGrantId()}`;
      expect(await store.rememberDpopJti(jkt, 'proof-1', NOW + 1000, NOW)).toBe(true);
      expect(await store.rememberDpopJti(jkt, 'proof-1', NOW + 1000, NOW)).toBe(false);
      expect(await store.rememberDpopJti(jkt, 'proof-2', NOW + 1000, NOW)).toBe(true);
      expect(await store.rememberDpopJti(`${jkt}-other`, 'proof-1', NOW + 1000, NOW)).toBe(true);
      // Still live at its expiry instant, gone one millisecond later; then remembered anew.
      expect(await store.rememberDpopJti(jkt, 'proof-1', NOW + 5000, NOW + 1000)).toBe(false);
      expect(await store.rememberDpopJti(jkt, 'proof-1', NOW + 5000, NOW + 1001)).toBe(true);
      expect(await store.rememberDpopJti(jkt, 'proof-1', NOW + 5000, NOW + 4999)).toBe(false);
    });

    it('lets exactly one of many concurrent uses of one pair win', async () => {
      const store = shared.store;
      const jkt = `jkt-${nextGrantId()}`;
      const answers = await Promise.all(Array.from({ length: 12 }, () => store.rememberDpopJti(jkt, 'raced', NOW + 1000, NOW)));
      expect(answers.filter(Boolean)).toHaveLength(1);
    });

    it('deletes expired rows, a bounded number per call, and keeps live ones', async () => {
      const opened = await openWithDpopRowCount(backend.name);
      onTestFinished(() => opened.cleanup());
      const { store } = opened;
      for (let i = 0; i < 150; i += 1) expect(await store.rememberDpopJti('jkt-old', `old-${i}`, NOW + 1000, NOW)).toBe(true);
      expect(await store.rememberDpopJti('jkt-live', 'live', NOW + 2000, NOW)).toBe(true);
      // One call sweeps 100 of the 150 expired rows (not more: its work is bounded), never the live one.
      expect(await store.rememberDpopJti('jkt-new', 'new', NOW + 9000, NOW + 1500)).toBe(true);
      expect(await opened.countDpopRows()).toBe(50 + 1 + 1);
    });

    it('refuses text PostgreSQL cannot store exactly', async () => {
      await rejectsWith(shared.store.rememberDpopJti('jkt', 'nul\u0000jti', NOW + 1000, NOW), 'invalid_request');
      await rejectsWith(shared.store.rememberDpopJti('jkt', 'half \ud800 pair', NOW + 1000, NOW), 'invalid_request');
    });
  });

  describe('lifecycle', () => {
    it('migrates again harmlessly, also twice at once', async () => {
      const store = shared.store;
      const grant = makeGrant();
      await insertAll(store, [grant]);
      const head = await store.auditHead();
      await store.migrate();
      await Promise.all([store.migrate(), store.migrate()]);
      expect(await store.getGrant(grant.id)).toStrictEqual(grant);
      expect(await store.auditHead()).toEqual(head);
    });

    it('refuses use after close with store_unavailable', async () => {
      const opened = await backend.open();
      await opened.cleanup();
      await rejectsWith(opened.store.getGrant('x'), 'store_unavailable');
      await rejectsWith(opened.store.grantLiveness('x'), 'store_unavailable');
      await rejectsWith(opened.store.transaction(async () => undefined), 'store_unavailable');
      await opened.store.close();
    });
  });
});

describe('PostgreSQL specifics', () => {
  it('applies migrations once when several replicas start on a fresh database', async () => {
    const db = await createTestDatabase();
    onTestFinished(() => db.drop());
    const stores = await Promise.all(Array.from({ length: 4 }, () => openStore({ kind: 'postgres', url: db.url, poolSize: 2 })));
    for (const store of stores) await store.close();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      const head = await client.query<{ n: string }>('SELECT count(*) AS n FROM audit_head');
      expect(head.rows[0]?.n).toBe('1');
    } finally {
      await client.end();
    }
  });

  it('shows every replica a grant change another replica committed, at once', async () => {
    const [a, b] = await twoReplicas();
    const v1 = makeGrant({ status: 'active' });
    await insertAll(a, [v1]);
    // b reads (and would cache, if it cached) the active grant, then a ends it.
    expect(await b.grantLiveness(v1.id)).toMatchObject({ status: 'active' });
    expect(await b.grantLiveness(v1.id)).toMatchObject({ status: 'active' });
    await a.transaction((tx) => tx.updateGrant({ ...v1, status: 'revoked', endReason: 'revoked', endedAt: NOW, version: 2 }));
    expect(await b.grantLiveness(v1.id)).toMatchObject({ status: 'revoked' });
    await b.transaction((tx) => tx.updateGrant({ ...v1, status: 'revoke_failed', endReason: 'revoked', endedAt: NOW, version: 3 }));
    expect(await a.grantLiveness(v1.id)).toMatchObject({ status: 'revoke_failed' });
  });

  it('reports an unreachable server as store_unavailable without the connection string', async () => {
    const password = 'pw-that-must-not-leak';
    const url = `postgres://stint:${password}@127.0.0.1:1/stint_nowhere`;
    const err = await rejectsWith(openStore({ kind: 'postgres', url }), 'store_unavailable');
    const everything = [err.message, err.detail, err.internalReason ?? '', err.stack ?? '', JSON.stringify(err), String(err)].join('\n');
    expect(err.internalReason).toMatch(/ECONNREFUSED/);
    expect(everything).not.toContain(password);
    expect(everything).not.toContain('stint_nowhere');
    expect(everything).not.toContain('postgres://');
  });

  it('reports a rejected login as store_unavailable without the password', async () => {
    const password = 'another-secret-pw';
    const url = `postgres://no_such_role_xyz:${password}@127.0.0.1:5432/postgres`;
    const err = await rejectsWith(openStore({ kind: 'postgres', url }), 'store_unavailable');
    const everything = [err.message, err.detail, err.internalReason ?? '', JSON.stringify(err)].join('\n');
    expect(err.internalReason).toMatch(/no_such_role_xyz/);
    expect(everything).not.toContain(password);
  });

  it('refuses a pool size that is not a positive integer', async () => {
    await rejectsWith(openStore({ kind: 'postgres', url: 'postgres://127.0.0.1:1/x', poolSize: 0 }), 'config_invalid');
  });
});
