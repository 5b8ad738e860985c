/**
 * PGlite on its worker thread (pglite-thread.ts, pglite-worker.ts): what crosses the thread
 * boundary and what happens when the worker goes away. The store's behaviour on it is the
 * conformance suite's (test/store/conformance.test.ts runs every case on both threads).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { SqlDriver } from '../../src/adapters/store-sql/driver.js';
import { lockPathFor } from '../../src/adapters/store-sql/lock.js';
import { MEMORY_DATA_DIR, openPgliteDriver } from '../../src/adapters/store-sql/pglite.js';
import { pgliteWorkerAvailable } from '../../src/adapters/store-sql/pglite-thread.js';
import { StintError } from '../../src/core/errors.js';
import { freshPgliteDataDir } from '../helpers/stores.js';
import { rejectsWith } from './fixtures.js';

const opened: SqlDriver[] = [];
async function open(dataDir: string = MEMORY_DATA_DIR): Promise<SqlDriver> {
  const driver = await openPgliteDriver(dataDir);
  opened.push(driver);
  await driver.query('CREATE TABLE IF NOT EXISTS t (id integer PRIMARY KEY, note text, data bytea)');
  return driver;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((d) => d.close().catch(() => undefined)));
});

/** The worker behind a driver (a private field: only this test reaches for it). */
function workerOf(driver: SqlDriver): Worker {
  return (driver as unknown as { worker: Worker }).worker;
}

describe('PGlite on a worker thread', () => {
  it('is where the driver runs by default, here too (the build is there: npm test builds first)', async () => {
    expect(pgliteWorkerAvailable()).toBe(true);
    const driver = await open();
    expect(driver).toMatchObject({ kind: 'pglite', offThread: true });
    const caller = await openPgliteDriver(MEMORY_DATA_DIR, { thread: 'caller' });
    opened.push(caller);
    expect(caller).toMatchObject({ kind: 'pglite', offThread: false });
  });

  it('carries parameters and typed rows across: numbers, text, bytes, null', async () => {
    const driver = await open();
    await driver.query('INSERT INTO t (id, note, data) VALUES ($1, $2, $3), ($4, $5, $6)', [1, 'é\u{1F600}', new Uint8Array([0, 255]), 2, null, null]);
    const rows = await driver.query('SELECT id, note, data FROM t ORDER BY id');
    expect(rows).toEqual([
      { id: 1, note: 'é\u{1F600}', data: new Uint8Array([0, 255]) },
      { id: 2, note: null, data: null },
    ]);
  });

  it('rebuilds errors as StintError with their code, and rethrows a callback’s own error unchanged', async () => {
    const driver = await open();
    await driver.query('INSERT INTO t (id) VALUES (1)');
    const dup = await rejectsWith(driver.query('INSERT INTO t (id) VALUES (1)'), 'conflict');
    expect(dup).toBeInstanceOf(StintError);
    expect(dup.internalReason).toContain('23505');
    const bad = await rejectsWith(driver.query('SELEC 1'), 'store_unavailable');
    expect(bad.internalReason).toMatch(/syntax error/);
    const own = new Error('the callback’s own');
    await expect(driver.transaction(() => Promise.reject(own))).rejects.toBe(own);
  });

  it('commits a transaction’s statements together, rolls them back when the callback throws', async () => {
    const driver = await open();
    await driver.transaction(async (tx) => {
      await tx.query('INSERT INTO t (id, note) VALUES (1, $1)', ['kept']);
      expect(await tx.query('SELECT note FROM t WHERE id = 1')).toEqual([{ note: 'kept' }]);
    });
    await expect(
      driver.transaction(async (tx) => {
        await tx.query('INSERT INTO t (id, note) VALUES (2, $1)', ['dropped']);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    // A failed statement aborts the transaction; what the callback did before it is not kept.
    await expect(
      driver.transaction(async (tx) => {
        await tx.query('INSERT INTO t (id, note) VALUES (3, $1)', ['dropped too']);
        await tx.query('INSERT INTO t (id) VALUES (1)');
      }),
    ).rejects.toMatchObject({ code: 'conflict' });
    expect(await driver.query('SELECT id FROM t ORDER BY id')).toEqual([{ id: 1 }]);
  });

  it('reports a COMMIT that fails (a deferred constraint) as that error, and stays usable', async () => {
    const driver = await open();
    await driver.query('CREATE TABLE d (id integer, CONSTRAINT d_id UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)');
    await expect(
      driver.transaction(async (tx) => {
        await tx.query('INSERT INTO d (id) VALUES (1), (1)');
      }),
    ).rejects.toMatchObject({ code: 'conflict' });
    expect(await driver.query('SELECT count(*)::int AS n FROM d')).toEqual([{ n: 0 }]);
    await driver.transaction((tx) => tx.query('INSERT INTO d (id) VALUES (2)'));
    expect(await driver.query('SELECT id FROM d')).toEqual([{ id: 2 }]);
  });

  it('runs the callback only while the worker holds its transaction: transactions and statements queue behind it', async () => {
    const driver = await open();
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const firstInserted = new Promise<void>((resolve) => (inserted = resolve));
    const first = driver.transaction(async (tx) => {
      order.push('first begins');
      await tx.query('INSERT INTO t (id) VALUES (1)');
      inserted();
      await held;
      order.push('first ends');
    });
    // Posted while the first is being begun: the worker has both messages before it answers
    // the first transaction's insert.
    const second = driver.transaction(async (tx) => {
      order.push('second begins');
      return tx.query('SELECT count(*)::int AS n FROM t');
    });
    const outside = driver.query('SELECT count(*)::int AS n FROM t').then((rows) => {
      order.push('outside answered');
      return rows;
    });
    try {
      await firstInserted;
      // One more round trip through the worker (to another database) for good measure.
      const other = await open();
      await other.query('SELECT 1');
      expect(order).toEqual(['first begins']);
    } finally {
      release();
    }
    await first;
    expect(await second).toEqual([{ n: 1 }]);
    expect(await outside).toEqual([{ n: 1 }]);
    expect(order.indexOf('first ends')).toBeLessThan(order.indexOf('second begins'));
  });

  it('hands wire answers over as bytes', async () => {
    const driver = await open();
    // A Sync alone: the backend answers ReadyForQuery ('Z', length 5, status 'I').
    const { bytes, length } = await driver.exchangeWire!(new Uint8Array([0x53, 0, 0, 0, 4]));
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect([...bytes.subarray(0, length)]).toEqual([0x5a, 0, 0, 0, 5, 0x49]);
  });

  it('fails every pending and later call with store_unavailable when the worker dies, and still releases the lock', async () => {
    const dir = await freshPgliteDataDir();
    try {
      const driver = await open(dir.dataDir);
      expect(existsSync(lockPathFor(dir.dataDir))).toBe(true);
      const pending = driver.query('SELECT pg_sleep(0.5)');
      await workerOf(driver).terminate();
      const lost = await rejectsWith(pending, 'store_unavailable');
      expect(lost.internalReason).toMatch(/worker thread stopped/);
      await rejectsWith(driver.query('SELECT 1'), 'store_unavailable');
      await rejectsWith(driver.transaction((tx) => tx.query('SELECT 1')), 'store_unavailable');
      await driver.close();
      expect(existsSync(lockPathFor(dir.dataDir))).toBe(false);
    } finally {
      dir.cleanup();
    }
  });

  it('refuses a second opener of the same directory, and answers store_unavailable after close', async () => {
    const dir = await freshPgliteDataDir();
    try {
      const driver = await open(dir.dataDir);
      await rejectsWith(openPgliteDriver(dir.dataDir), 'store_locked');
      await driver.close();
      await driver.close();
      await rejectsWith(driver.query('SELECT 1'), 'store_unavailable');
    } finally {
      dir.cleanup();
    }
  });

  it('keeps the process alive while a call is pending, and not once the store is idle', async () => {
    // A script that opens the store, waits for one slow statement, prints its answer and never
    // closes the store: it must print (the pending call held the process) and then exit.
    const script = `
      const { openPgliteDriver } = await import(${JSON.stringify(new URL('../../dist/adapters/store-sql/pglite.js', import.meta.url).href)});
      const driver = await openPgliteDriver('memory://');
      const rows = await driver.query('SELECT 41 + 1 AS n FROM pg_sleep(0.3)');
      console.log(JSON.stringify(rows));`;
    // Also with a Node option that a worker refuses (--input-type): the driver leaves it out.
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(out.trim()).toBe('[{"n":42}]');
  });
});
