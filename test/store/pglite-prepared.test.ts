/**
 * PGlite prepared statements (pglite.ts, `runPrepared`), inside a transaction and as a statement
 * of their own: parsed once per session, bound and executed as one message, errors mapped like
 * any statement's, rows returned as text, and a statement whose preparation the driver lost
 * track of is prepared again rather than failing. On the caller's thread, where the driver's
 * calls into PGlite can be watched; the worker thread runs the same driver (pglite-thread.test.ts).
 */
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEMORY_DATA_DIR, openPgliteDriver } from '../../src/adapters/store-sql/pglite.js';
import type { SqlDriver } from '../../src/adapters/store-sql/driver.js';

describe('PGlite prepared statements', () => {
  let driver: SqlDriver;
  beforeAll(async () => {
    driver = await openPgliteDriver(MEMORY_DATA_DIR, { thread: 'caller' });
    await driver.query('CREATE TABLE t (id integer PRIMARY KEY, flag boolean NOT NULL, data bytea, note text)');
  });
  afterAll(async () => {
    await driver.close();
  });

  const insert = 'INSERT INTO t (id, flag, data, note) VALUES ($1, $2, $3, $4)';
  const rows = async () => driver.query('SELECT id, flag, encode(data, \'hex\') AS data, note FROM t ORDER BY id');

  it('writes every parameter type as query() would, and rolls back with the transaction', async () => {
    await driver.transaction(async (tx) => {
      await tx.query(insert, [1, true, new Uint8Array([0, 255]), 'a'], { prepare: 'ins' });
      await tx.query(insert, [2, false, null, null], { prepare: 'ins' });
    });
    await expect(
      driver.transaction(async (tx) => {
        await tx.query(insert, [3, true, null, 'x'], { prepare: 'ins' });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await rows()).toEqual([
      { id: 1, flag: true, data: '00ff', note: 'a' },
      { id: 2, flag: false, data: null, note: null },
    ]);
  });

  it('maps a unique violation to conflict, and the statement stays usable', async () => {
    await expect(driver.transaction((tx) => tx.query(insert, [1, true, null, 'dup'], { prepare: 'ins' }))).rejects.toMatchObject({ code: 'conflict' });
    await driver.transaction((tx) => tx.query(insert, [4, true, null, 'b'], { prepare: 'ins' }));
    expect((await rows()).map((r) => r.id)).toEqual([1, 2, 4]);
  });

  it('parses once per session: later batches send Bind, Execute and Sync only, in one call', async () => {
    const firstMessages: string[] = [];
    const original = PGlite.prototype.execProtocol;
    PGlite.prototype.execProtocol = function (this: PGlite, message: Uint8Array, ...rest: unknown[]) {
      firstMessages.push(String.fromCharCode(message[0]!));
      return (original as (...a: unknown[]) => ReturnType<typeof original>).call(this, message, ...rest);
    } as typeof original;
    try {
      await driver.transaction((tx) => tx.query(insert, [10, true, null, 'p'], { prepare: 'ins-once' }));
      await driver.transaction((tx) => tx.query(insert, [11, true, null, 'q'], { prepare: 'ins-once' }));
    } finally {
      PGlite.prototype.execProtocol = original;
    }
    // Close + Parse the first time ('C'), then Bind ('B'); one execProtocol call per statement.
    expect(firstMessages).toEqual(['C', 'B']);
    await driver.query('DELETE FROM t WHERE id >= 10');
  });

  it('prepares again a statement the driver lost track of', async () => {
    (driver as unknown as { prepared: Set<string> }).prepared.clear();
    await driver.transaction((tx) => tx.query(insert, [5, false, null, 'c'], { prepare: 'ins' }));
    expect((await rows()).map((r) => r.id)).toEqual([1, 2, 4, 5]);
  });

  it('returns rows as text, and refuses a parameter it cannot send', async () => {
    expect(await driver.transaction((tx) => tx.query('SELECT id, flag, note FROM t WHERE id = $1', [1], { prepare: 'sel' }))).toEqual([{ id: '1', flag: 't', note: 'a' }]);
    await expect(driver.transaction((tx) => tx.query(insert, [6, true, null, { a: 1 }], { prepare: 'ins' }))).rejects.toMatchObject({ code: 'internal' });
    expect((await rows()).map((r) => r.id)).toEqual([1, 2, 4, 5]);
  });

  it('runs a prepared statement of its own as its own transaction, after an open one', async () => {
    let inside!: () => void;
    const entered = new Promise<void>((resolve) => (inside = resolve));
    let finish!: () => void;
    const open = driver.transaction(async (tx) => {
      await tx.query(insert, [7, true, null, 'in tx'], { prepare: 'ins' });
      inside();
      await new Promise<void>((resolve) => (finish = resolve));
      throw new Error('roll back');
    });
    await entered;
    // Queued behind the open transaction, not run inside it: the rollback does not take it along.
    const own = driver.query(insert, [8, false, null, 'own'], { prepare: 'ins' });
    finish();
    await expect(open).rejects.toThrow('roll back');
    await own;
    expect((await rows()).map((r) => r.id)).toEqual([1, 2, 4, 5, 8]);
    await expect(driver.query(insert, [8, true, null, 'dup'], { prepare: 'ins' })).rejects.toMatchObject({ code: 'conflict' });
    expect(await driver.query('SELECT count(*) AS n FROM t WHERE id = $1', [8], { prepare: 'count8' })).toEqual([{ n: '1' }]);
  });
});
