/**
 * Migration 4 (src/adapters/store-sql/migrations.ts): extensions applied before the fix kept
 * their decision deadline, so after it they read as expired and the worker lapsed them with a
 * false "nobody decided on the extension in time". The migration clears the deadline of
 * extensions that are approved and ended (applied), and nothing else, on both stores.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { openStore } from '../../src/adapters/store-sql/index.js';
import type { Grant } from '../../src/core/grant.js';
import type { Store } from '../../src/ports/store.js';
import { createTestDatabase, freshPgliteDataDir } from '../helpers/stores.js';
import { makeGrant } from './fixtures.js';

const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const DEADLINE = T0 + 3600_000;

/** A store that can be closed, edited with plain SQL behind its back, and opened again. */
interface ReopenableStore {
  open(): Promise<Store>;
  /** Runs SQL on the closed store (PGlite has one opener) or beside it (PostgreSQL). */
  sql(text: string): Promise<void>;
}

async function reopenable(kind: 'pglite' | 'postgres'): Promise<ReopenableStore> {
  if (kind === 'pglite') {
    const dir = await freshPgliteDataDir();
    onTestFinished(() => dir.cleanup());
    return {
      open: () => openStore({ kind: 'pglite', dataDir: dir.dataDir }),
      sql: async (text) => {
        const db = await PGlite.create(dir.dataDir);
        try {
          await db.query(text);
        } finally {
          await db.close();
        }
      },
    };
  }
  const db = await createTestDatabase();
  onTestFinished(() => db.drop());
  return {
    open: () => openStore({ kind: 'postgres', url: db.url }),
    sql: async (text) => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        await client.query(text);
      } finally {
        await client.end();
      }
    },
  };
}

/** A grant that was never activated: no activation time, no expiry, no credential. */
function notActivated(overrides: Partial<Grant>): Grant {
  const { activatedAt: _a, expiresAt: _e, ...grant } = makeGrant({ credential: { state: 'none', revokeAttempts: 0 }, ...overrides });
  return grant;
}

describe.each(['pglite', 'postgres'] as const)('migration 4 on %s', (kind) => {
  it('clears the deadline of applied extensions only', async () => {
    const target = await reopenable(kind);
    const parent = makeGrant({ status: 'active', expiresAt: T0 + 1800_000 });
    const extension = (overrides: Partial<Grant>): Grant =>
      notActivated({ kind: 'extension', parentId: parent.id, status: 'approved', decisionDeadline: DEADLINE, ...overrides });
    // As the state machine wrote an applied extension before the fix: ended, deadline kept.
    const applied = extension({ endedAt: T0 + 1, endedBy: 'system', endNote: `applied to ${parent.id}` });
    // Left alone: an extension still waiting for its approvers, an approved access grant that is
    // waiting to be picked up, and an extension that lapsed.
    const pendingExtension = extension({ status: 'pending_approval' });
    const approvedAccess = notActivated({ status: 'approved', decisionDeadline: DEADLINE });
    const lapsed = extension({ status: 'expired', endReason: 'expired', endedAt: DEADLINE, endedBy: 'system' });
    const all = [parent, applied, pendingExtension, approvedAccess, lapsed];

    const before = await target.open();
    await before.transaction((tx) => tx.insertGrants(all));
    await before.close();
    // The store as version 3 left it: migration 4 not yet applied.
    await target.sql('DELETE FROM schema_migrations WHERE version = 4');

    const after = await target.open();
    try {
      const { decisionDeadline: _cleared, ...rest } = applied;
      expect(await after.getGrant(applied.id)).toStrictEqual({ ...rest, version: applied.version + 1 });
      for (const unchanged of [parent, pendingExtension, approvedAccess, lapsed]) expect(await after.getGrant(unchanged.id)).toStrictEqual(unchanged);
      // Nothing is due for the worker's lapse any more but what really waits.
      const due = await after.transaction((tx) => tx.claimStalePending(DEADLINE + 1, 100));
      expect(due.map((g) => g.id).sort()).toEqual([pendingExtension.id, approvedAccess.id].sort());
    } finally {
      await after.close();
    }
  });
});
