/**
 * The PostgreSQL driver sends BEGIN with a transaction's first statement (in one message when
 * that statement has no parameters). Whatever the first statement, a transaction is atomic, a
 * failure in it rolls everything back, and the pooled connection stays usable.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresDriver } from '../../src/adapters/store-sql/postgres.js';
import type { SqlDriver } from '../../src/adapters/store-sql/driver.js';
import { createTestDatabase } from '../helpers/stores.js';

describe('PostgreSQL driver transactions', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let driver: SqlDriver;
  beforeAll(async () => {
    db = await createTestDatabase();
    // One connection: every transaction below reuses the same pooled client.
    driver = openPostgresDriver(db.url, 1);
    await driver.query('CREATE TABLE t (id integer PRIMARY KEY)');
  });
  afterAll(async () => {
    await driver.close();
    await db.drop();
  });

  const ids = async () => (await driver.query('SELECT id FROM t ORDER BY id')).map((r) => Number(r.id));

  it('runs a parameterless first statement inside the transaction, and rolls it back with the rest', async () => {
    await expect(
      driver.transaction(async (tx) => {
        const [row] = await tx.query('SELECT txid_current_if_assigned() IS NULL AS fresh');
        expect(row).toMatchObject({ fresh: true });
        await tx.query('INSERT INTO t (id) VALUES (1)');
        await tx.query('INSERT INTO t (id) VALUES ($1)', [2]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await ids()).toEqual([]);
    // Inside a transaction, now() is the transaction's start and stays put across statements.
    const stamps = await driver.transaction(async (tx) => {
      const first = await tx.query('SELECT now()::text AS t');
      await tx.query('SELECT pg_sleep(0.01)');
      const second = await tx.query('SELECT now()::text AS t, $1::int AS n', [1]);
      await tx.query('INSERT INTO t (id) VALUES (3)');
      return [first[0]!.t, second[0]!.t];
    });
    expect(stamps[0]).toBe(stamps[1]);
    expect(await ids()).toEqual([3]);
  });

  it('rolls back after a failing parameterless first statement and keeps the connection usable', async () => {
    await expect(driver.transaction((tx) => tx.query('SELECT * FROM no_such_table'))).rejects.toMatchObject({ code: 'store_unavailable' });
    await expect(driver.transaction(async (tx) => tx.query('INSERT INTO t (id) VALUES (3)'))).rejects.toMatchObject({ code: 'conflict' });
    await driver.transaction(async (tx) => {
      await tx.query('INSERT INTO t (id) VALUES ($1)', [4]);
    });
    expect(await ids()).toEqual([3, 4]);
  });

  /** The query texts the driver hands to pg (each one message to the server) while `fn` runs. */
  async function sent(fn: () => Promise<unknown>): Promise<string[]> {
    const texts: string[] = [];
    const original = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const first = args[0];
      texts.push(typeof first === 'string' ? first : (first as { text: string }).text);
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    try {
      await fn().catch(() => undefined);
    } finally {
      pg.Client.prototype.query = original;
    }
    return texts;
  }

  it('sends BEGIN in the same message as a parameterless first statement, and apart from one with parameters', async () => {
    expect(await sent(() => driver.transaction((tx) => tx.query('SELECT 1 AS one')))).toEqual(['BEGIN; SELECT 1 AS one', 'COMMIT']);
    expect(await sent(() => driver.transaction((tx) => tx.query('SELECT $1::int AS n', [1])))).toEqual(['BEGIN', 'SELECT $1::int AS n', 'COMMIT']);
  });

  it('sends nothing for a transaction that runs no statement', async () => {
    expect(await sent(() => driver.transaction(async () => 'nothing'))).toEqual([]);
    expect(await sent(() => driver.transaction(async () => Promise.reject(new Error('before any statement'))))).toEqual([]);
    expect(await driver.transaction(async () => 'nothing')).toBe('nothing');
    await expect(driver.transaction(async () => Promise.reject(new Error('before any statement')))).rejects.toThrow('before any statement');
    expect(await ids()).toEqual([3, 4]);
  });
});

describe('PostgreSQL driver: the connection kept for prepared statements', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let driver: SqlDriver;
  let admin: pg.Client;
  beforeAll(async () => {
    db = await createTestDatabase();
    driver = openPostgresDriver(db.url, 3);
    await driver.query('CREATE TABLE t (id integer PRIMARY KEY)');
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.end();
    await driver.close();
    await db.drop();
  });

  const insert = (id: number) => driver.query('INSERT INTO t (id) VALUES ($1)', [id], { prepare: 'test_insert' });
  /** Server process ids of the driver's connections (all but the admin's). */
  const driverBackends = async () =>
    (await admin.query('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')).rows.map((r) => Number(r.pid));

  it('runs prepared statements on one kept connection, and goes on after a server error and after losing it', async () => {
    // The first statement checks the connection out in the background; those after run on it.
    for (let id = 1; id <= 5; id++) await insert(id);
    const pid = async () => Number((await driver.query('SELECT pg_backend_pid() AS pid, $1::int AS n', [0], { prepare: 'test_pid' }))[0]!.pid);
    const kept = await pid();
    expect(await pid()).toBe(kept);
    // A server-side error (duplicate key) leaves the kept connection in use.
    await expect(insert(1)).rejects.toMatchObject({ code: 'conflict' });
    expect(await pid()).toBe(kept);

    // The server ends every connection of the driver (as a restart would): no unhandled
    // 'error' ends this process, and statements go on, at most one of them failing.
    const ended = await driverBackends();
    expect(ended).toContain(kept);
    await admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [ended]);
    const failures: unknown[] = [];
    let id = 6;
    for (let attempt = 0; attempt < 10 && id <= 10; attempt++) {
      try {
        await insert(id);
        id += 1;
      } catch (err) {
        failures.push(err);
      }
    }
    expect(id).toBe(11);
    expect(failures.length).toBeLessThanOrEqual(3);
    for (const f of failures) expect(f).toMatchObject({ code: 'store_unavailable' });
    expect(ended).not.toContain(await pid());
    expect((await driver.query('SELECT count(*)::int AS n FROM t'))[0]).toEqual({ n: 10 });
  });

  it('keeps no connection when the pool has only one (transactions would have none left)', async () => {
    const single = openPostgresDriver(db.url, 1);
    try {
      await single.query('SELECT $1::int AS n', [1], { prepare: 'single_probe' });
      await single.query('SELECT $1::int AS n', [2], { prepare: 'single_probe' });
      expect(await single.transaction((tx) => tx.query('SELECT $1::int AS n', [3]))).toEqual([{ n: 3 }]);
    } finally {
      await single.close();
    }
  });
});
