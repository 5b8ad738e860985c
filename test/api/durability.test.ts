/**
 * Durability: state survives restarts, the broker catches up on work that fell due while it was
 * down before it reports ready, several replicas on one PostgreSQL never double-process, and a
 * rolled-back audit log is noticed against the checkpoint kept outside the database.
 */
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ManualClock } from '../../src/ports/clock.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { createTestDatabase } from '../helpers/stores.js';

const BOT = 'workload:deploy-bot';
const read = (task: string) => ({ target: 'orders-db', role: 'read', task, reason: 'durability test', ttl: '10m' });

describe('restart on PGlite', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('keeps grants and revocations across a restart and catches up before it is ready', async () => {
    const clock = new ManualClock();
    const first = await startTestBroker({ clock });
    cleanups.push(() => rm(first.dir, { recursive: true, force: true }));
    const a = await first.call(BOT, 'POST', '/v1/grants', read('before restart'));
    const b = await first.call(BOT, 'POST', '/v1/grants', read('completed before restart'));
    await first.call(BOT, 'POST', `/v1/grants/${b.body.grant.id}/complete`, {});
    const cp = await first.call('human:audrey', 'GET', '/v1/audit/checkpoint');
    await first.stop();

    // Down for an hour: grant a fell due meanwhile.
    clock.advance(3600_000);
    const second = await startTestBroker({ clock, dir: first.dir });
    cleanups.push(() => second.stop());
    const stored = await second.broker.store.getGrant(a.body.grant.id);
    expect(stored?.status).toBe('expired');
    expect(stored?.endedBy).toBe('system');
    expect(stored?.endedAt).toBe(stored?.expiresAt);
    expect(stored?.credential.state).toBe('revoked');
    // Revocations persist: the completed grant's token is still dead after the restart.
    const introspection = await fetch(`${second.url}/oauth/introspect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await second.tokenFor('human:alice')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: b.body.accessToken }).toString(),
    });
    expect(await introspection.json()).toEqual({ active: false });
    expect((await second.call(null, 'GET', '/readyz')).status).toBe(200);
    // The log only grew: the new checkpoint is consistent with the one from before the restart.
    const cp2 = await second.call('human:audrey', 'GET', '/v1/audit/checkpoint');
    expect(cp2.body.size).toBeGreaterThan(cp.body.size);
    const proof = await second.call('human:audrey', 'GET', `/v1/audit/proof/${cp.body.size - 1}`);
    expect(proof.status).toBe(200);
    const audit = await second.call('human:audrey', 'GET', '/v1/audit?limit=1000');
    const expired = audit.body.items.filter((e: { type: string; grantId?: string }) => e.type === 'grant.expired' && e.grantId === a.body.grant.id);
    expect(expired).toHaveLength(1);
    expect(JSON.parse(expired[0].canonical).actor).toBe('system');
    await second.stop();
  });

  it('answers 503 problems, never a 500, when the PGlite worker thread dies, and a restart carries on', async () => {
    const first = await startTestBroker({});
    cleanups.push(() => rm(first.dir, { recursive: true, force: true }));
    const before = await first.call(BOT, 'POST', '/v1/grants', read('before the worker died'));
    expect(before.status).toBe(201);
    // The database's thread, behind the store (a private field: only this test reaches for it).
    const worker = (first.broker.store as unknown as { driver: { worker: { terminate(): Promise<number> } } }).driver.worker;
    await worker.terminate();
    const refused = await first.call(BOT, 'POST', '/v1/grants', read('after the worker died'));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    // A new grant fails closed: its audit events could not be written with it.
    expect(refused.body).toMatchObject({ code: 'audit_unavailable', status: 503 });
    expect(JSON.stringify(refused.body)).not.toMatch(/worker/);
    const lookup = await first.call(BOT, 'GET', `/v1/grants/${before.body.grant.id}`);
    expect(lookup.status).toBe(503);
    expect(lookup.body).toMatchObject({ code: 'store_unavailable', status: 503 });
    expect((await first.call(null, 'GET', '/readyz')).status).toBe(503);
    await first.stop().catch(() => undefined);
    // Nothing was half-written: a new broker on the same directory has the first grant, not the second.
    const second = await startTestBroker({ dir: first.dir });
    cleanups.push(() => second.stop());
    expect((await second.call(BOT, 'GET', `/v1/grants/${before.body.grant.id}`)).body.status).toBe('active');
    const listed = await second.call('human:audrey', 'GET', '/v1/grants?limit=100');
    expect(listed.body.items.map((g: { task: string }) => g.task)).toEqual(['before the worker died']);
  });

  it('refuses a second process on the same data directory', async () => {
    const first = await startTestBroker({});
    cleanups.push(() => first.cleanup());
    await expect(startTestBroker({ dir: first.dir })).rejects.toMatchObject({ code: 'store_locked' });
  });
});

describe('rolled-back store', () => {
  it('is detected against the checkpoint file kept outside the database', async () => {
    const db = await createTestDatabase();
    const clock = new ManualClock();
    const first = await startTestBroker({ clock, databaseUrl: db.url });
    try {
      await first.call(BOT, 'POST', '/v1/grants', read('one'));
      await first.call(BOT, 'POST', '/v1/grants', read('two'));
      const cp = await first.call('human:audrey', 'GET', '/v1/audit/checkpoint');
      await first.stop();
      // An attacker (or a restore from an old backup) drops the newest entries and checkpoints.
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const keep = cp.body.size - 3;
      await client.query('DELETE FROM audit_events WHERE seq >= $1', [keep]);
      await client.query('DELETE FROM audit_checkpoints');
      await client.query(`UPDATE audit_head SET size = $1`, [keep]);
      await client.end();

      const second = await startTestBroker({ clock, databaseUrl: db.url, dir: first.dir });
      try {
        const ready = await second.call(null, 'GET', '/readyz');
        expect(ready.status).toBe(503);
        expect(second.broker.audit.integrityProblem).toMatch(/truncated or rolled back/);
        const cp2 = await second.call('human:audrey', 'GET', '/v1/audit/checkpoint');
        expect(cp2.body.code).toBe('audit_unavailable');
      } finally {
        await second.stop();
      }
    } finally {
      await first.stop();
      await rm(first.dir, { recursive: true, force: true });
      await db.drop();
    }
  });
});

describe('several replicas on one PostgreSQL', () => {
  let a: TestBroker;
  let b: TestBroker;
  afterAll(async () => {
    await b?.stop();
    await a?.cleanup();
  });

  it('split expiry work without ending any grant twice', async () => {
    const clock = new ManualClock();
    a = await startTestBroker({ clock, store: 'postgres' });
    // Replicas share the configuration and key files, and the database.
    b = await startTestBroker({ clock, databaseUrl: a.databaseUrl!, dir: a.dir });
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const via = i % 2 === 0 ? a : b;
      const res = await via.call(BOT, 'POST', '/v1/grants', read(`replica task ${i}`));
      expect(res.body.grant?.status, JSON.stringify(res.body)).toBe('active');
      ids.push(res.body.grant.id);
    }
    // Both replicas see every grant, whoever created it.
    expect((await b.call(BOT, 'GET', `/v1/grants/${ids[0]}`)).body.id).toBe(ids[0]);
    clock.advance(10 * 60_000);
    const [pa, pb] = await Promise.all([a.broker.worker.runOnce(), b.broker.worker.runOnce()]);
    expect(pa.expired + pb.expired).toBe(40);
    const audit = await a.call('human:audrey', 'GET', '/v1/audit?limit=1000');
    const expiredEvents = audit.body.items.filter((e: { type: string }) => e.type === 'grant.expired');
    expect(expiredEvents.map((e: { grantId: string }) => e.grantId).sort()).toEqual([...ids].sort());
    const revoked = audit.body.items.filter((e: { type: string }) => e.type === 'credential.revoked');
    expect(new Set(revoked.map((e: { grantId: string }) => e.grantId)).size).toBe(40);
    expect(revoked).toHaveLength(40);
    // The log stayed gapless although two replicas appended concurrently.
    expect(audit.body.items.map((e: { seq: number }) => e.seq)).toEqual(audit.body.items.map((_: unknown, i: number) => i));
  });

  it('sign checkpoints at once while the log grows, each into the checkpoint file they share', async () => {
    // The replicas of this describe share the directory (and, in one test process, the pid,
    // as containers on one volume share pid 1): the file's temporary name must still be each
    // write's own (a shared one answered 500 with ENOENT from rename).
    const statuses: number[] = [];
    for (let round = 0; round < 10; round++) {
      const answers = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          i % 6 === 0 ? (i % 2 === 0 ? a : b).call(BOT, 'POST', '/v1/grants', read(`checkpoint race ${round}.${i}`)) : (i % 2 === 0 ? a : b).call('human:audrey', 'GET', '/v1/audit/checkpoint'),
        ),
      );
      statuses.push(...answers.map((r) => r.status));
    }
    expect(statuses.filter((status) => status !== 200 && status !== 201)).toEqual([]);
    const latest = await a.call('human:audrey', 'GET', '/v1/audit/checkpoint');
    expect(await readFile(join(a.dir, 'checkpoint.txt'), 'utf8')).toBe(latest.body.note);
  });
});
