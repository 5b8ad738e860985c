/**
 * A real PostgreSQL target through the broker (issue #3, "Done when"): a grant's credential is
 * a real role that works during the grant and only for its role, an open session dies when the
 * grant ends, a login afterwards fails, and the grant shows the proof. A target outage turns
 * into `revoke_failed`, visible everywhere, retried until the target is back.
 *
 * The target is a private PostgreSQL server with password authentication (the shared one trusts
 * 127.0.0.1, where a password check could never fail), set up with the documented admin SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { ManualClock } from '../../src/ports/clock.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { createPostgresTestEnv, loginCode, withPostgresTarget, type PostgresTestEnv } from '../connectors/postgres-env.js';

const BOT = 'workload:deploy-bot';

const addTarget = withPostgresTarget('pg-e2e');

describe('PostgreSQL target end to end', () => {
  let env: PostgresTestEnv;
  let t: TestBroker;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    env = await createPostgresTestEnv();
    t = await startTestBroker({ clock, configPatch: addTarget, env: { ORDERS_PG_ADMIN_URL: env.adminUrl } });
  });
  afterAll(async () => {
    await t?.cleanup();
    await env?.destroy();
  });

  const stintRoles = async () => (await env.superuser<{ rolname: string }>(`SELECT rolname FROM pg_roles WHERE rolname LIKE 'stint\\_%' ORDER BY 1`)).map((r) => r.rolname);

  it('issues a real role that works only as the role allows, and kills its session at expiry with proof', async () => {
    const res = await t.call(BOT, 'POST', '/v1/grants', { target: 'pg-e2e', role: 'read', task: 'read orders for report 7', reason: 'monthly report', ttl: '10m' });
    expect(res.status).toBe(201);
    const grant = res.body.grant;
    expect(grant.status).toBe('active');
    expect(grant.credential).toMatchObject({ state: 'issued', connector: 'postgres' });
    const cred = res.body.credential as { username: string; password: string; url: string };
    expect(cred.username).toBe(`stint_${grant.id}`);
    expect(cred.password.length).toBeGreaterThanOrEqual(22);
    expect(await stintRoles()).toEqual([cred.username]);

    // The password never reaches the store, the audit log or the API in plaintext.
    const stored = await t.broker.store.getGrant(grant.id);
    expect(JSON.stringify(stored)).not.toContain(cred.password);
    const audit = await t.call('human:audrey', 'GET', '/v1/audit?limit=1000');
    expect(JSON.stringify(audit.body)).not.toContain(cred.password);
    expect(JSON.stringify((await t.call(BOT, 'GET', `/v1/grants/${grant.id}`)).body)).not.toContain(cred.password);

    const session = new pg.Client({ connectionString: cred.url });
    session.on('error', () => undefined);
    await session.connect();
    expect((await session.query('SELECT item FROM orders WHERE id = 1')).rows).toEqual([{ item: 'seed' }]);
    await expect(session.query(`INSERT INTO orders VALUES (2, 'x')`)).rejects.toMatchObject({ code: '42501' });

    clock.advance(10 * 60_000);
    const pass = await t.broker.worker.runOnce();
    expect(pass).toMatchObject({ expired: 1, revoked: 1, revokeFailed: 0 });
    // The session opened during the grant is dead, and the credential no longer logs in.
    await expect(session.query('SELECT 1')).rejects.toBeDefined();
    await session.end().catch(() => undefined);
    expect(await loginCode(cred.url)).not.toBe('ok');
    expect(await stintRoles()).toEqual([]);

    const shown = (await t.call(BOT, 'GET', `/v1/grants/${grant.id}`)).body;
    expect(shown.status).toBe('expired');
    expect(shown.credential.state).toBe('revoked');
    expect(shown.credential.evidence.verified).toBe(true);
    const checks = shown.credential.evidence.checks.map((c: { check: string; passed: boolean }) => [c.check, c.passed]);
    expect(checks.length).toBeGreaterThanOrEqual(3);
    expect(checks.every(([, passed]: [string, boolean]) => passed)).toBe(true);
    expect(JSON.stringify(shown.credential.evidence)).toMatch(/login/i);
    // The sealed copy used for the proof is gone once the proof passed.
    expect((await t.broker.store.getGrant(grant.id))?.credential.sealed).toBeUndefined();
  });

  it('completing the task ends access at once', async () => {
    const res = await t.call(BOT, 'POST', '/v1/grants', { target: 'pg-e2e', role: 'read', task: 'one query', reason: 'check', ttl: '30m' });
    const cred = res.body.credential as { url: string };
    expect(await loginCode(cred.url)).toBe('ok');
    const done = await t.call(BOT, 'POST', `/v1/grants/${res.body.grant.id}/complete`, { note: 'query done' });
    expect(done.body.grant).toMatchObject({ status: 'completed', credential: { state: 'revoked', evidence: { verified: true } } });
    expect(await loginCode(cred.url)).toBe('28P01');
  });

  it('an outage becomes revoke_failed (API, metric, event), retried until the target confirms', async () => {
    const res = await t.call(BOT, 'POST', '/v1/grants', { target: 'pg-e2e', role: 'read', task: 'outage drill', reason: 'resilience', ttl: '5m' });
    const id = res.body.grant.id;
    const cred = res.body.credential as { url: string };
    await env.cluster.stop();
    try {
      clock.advance(5 * 60_000);
      const pass = await t.broker.worker.runOnce();
      expect(pass).toMatchObject({ expired: 1, revokeFailed: 1 });
      const failed = (await t.call(BOT, 'GET', `/v1/grants/${id}`)).body;
      expect(failed.status).toBe('revoke_failed');
      expect(failed.credential).toMatchObject({ state: 'revoke_failed', revokeAttempts: 1 });
      expect(failed.credential.revokeLastError).toMatch(/target_unavailable/);
      expect(failed.credential.revokeLastError).not.toContain(env.adminPassword);
      expect((await t.call('human:alice', 'GET', '/v1/grants?status=revoke_failed')).body.items.map((g: { id: string }) => g.id)).toContain(id);
      expect(await (await fetch(`${t.url}/metrics`)).text()).toMatch(/^stint_revoke_failures_total\{connector="postgres"\} [1-9]/m);
      // Retries back off (1 s, 2 s, 4 s...) and never stop.
      for (let i = 0; i < 6; i++) {
        clock.advance(5 * 60_000);
        await t.broker.worker.runOnce();
      }
      expect((await t.broker.store.getGrant(id))?.credential.revokeAttempts).toBe(7);
    } finally {
      await env.cluster.start();
    }
    clock.advance(5 * 60_000);
    const recovered = await t.broker.worker.runOnce();
    expect(recovered.revoked).toBe(1);
    const done = (await t.call(BOT, 'GET', `/v1/grants/${id}`)).body;
    expect(done).toMatchObject({ status: 'expired', credential: { state: 'revoked', evidence: { verified: true } } });
    expect(await loginCode(cred.url)).not.toBe('ok');
    const events = (await t.call('human:audrey', 'GET', '/v1/audit?limit=1000')).body.items.filter((e: { grantId?: string }) => e.grantId === id).map((e: { type: string }) => e.type);
    expect(events.filter((e: string) => e === 'credential.revoke_failed')).toHaveLength(7);
    expect(events.slice(-2)).toEqual(['credential.revoked', 'credential.verified_revoked']);
  });

  it('grants expiring together are revoked as one batch; one role that cannot be dropped fails alone and is retried', async () => {
    const issued: { id: string; url: string; username: string }[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await t.call(BOT, 'POST', '/v1/grants', { target: 'pg-e2e', role: 'read', task: `batch ${i}`, reason: 'batch revocation', ttl: '7m' });
      issued.push({ id: res.body.grant.id, url: res.body.credential.url, username: res.body.credential.username });
    }
    const stuck = issued[2]!;
    // An object the role owns in another database: DROP ROLE fails there with 2BP01.
    const blocker = pg.escapeIdentifier(`blocker_${stuck.username}`);
    await env.superuser(`CREATE TABLE ${blocker} (x int); ALTER TABLE ${blocker} OWNER TO ${pg.escapeIdentifier(stuck.username)}`, [], 'postgres');
    const session = new pg.Client({ connectionString: issued[0]!.url });
    session.on('error', () => undefined);
    await session.connect();
    try {
      clock.advance(7 * 60_000);
      const pass = await t.broker.worker.runOnce();
      expect(pass).toMatchObject({ expired: 5, revoked: 4, revokeFailed: 1 });
      await expect(session.query('SELECT 1')).rejects.toBeDefined();
      for (const g of issued.filter((x) => x !== stuck)) {
        expect(await t.broker.store.getGrant(g.id)).toMatchObject({ credential: { state: 'revoked', evidence: { verified: true } } });
      }
      const failed = await t.broker.store.getGrant(stuck.id);
      expect(failed?.credential.state).toBe('revoke_failed');
      expect(failed?.credential.revokeLastError).toContain(stuck.username);
      expect(failed?.credential.revokeLastError).toMatch(/2BP01/);
      // Even stuck, it can no longer log in: NOLOGIN came first.
      expect(await loginCode(stuck.url)).toBe('28000');
    } finally {
      await session.end().catch(() => undefined);
      await env.superuser(`DROP TABLE IF EXISTS ${blocker}`, [], 'postgres');
    }
    clock.advance(60_000);
    expect(await t.broker.worker.runOnce()).toMatchObject({ revoked: 1, revokeFailed: 0 });
    expect(await t.broker.store.getGrant(stuck.id)).toMatchObject({ credential: { state: 'revoked', evidence: { verified: true } } });
    expect(await stintRoles()).toEqual([]);
  });

  it('a target that is down at request time grants nothing', async () => {
    await env.cluster.stop();
    try {
      const res = await t.call(BOT, 'POST', '/v1/grants', { target: 'pg-e2e', role: 'read', task: 'during outage', reason: 'x', ttl: '5m' });
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('target_unavailable');
      expect(JSON.stringify(res.body)).not.toContain(env.adminPassword);
    } finally {
      await env.cluster.start();
    }
    // The half-started grant is ended; undoing it on the (down) target is retried after backoff.
    clock.advance(2000);
    await t.broker.worker.runOnce();
    const list = (await t.call('human:alice', 'GET', '/v1/grants?target=pg-e2e')).body.items;
    const aborted = list.find((g: { task: string }) => g.task === 'during outage');
    expect(aborted.status).toBe('revoked');
    expect(aborted.endNote).toMatch(/provisioning failed/);
    expect(aborted.credential.state).toBe('revoked');
    expect(await stintRoles()).toEqual([]);
  });

  it('lists the target as reachable with minimal privileges, and reconciles orphans', async () => {
    const targets = (await t.call('human:alice', 'GET', '/v1/targets?check=true')).body.items;
    const pgTarget = targets.find((x: { name: string }) => x.name === 'pg-e2e');
    expect(pgTarget.check).toMatchObject({ reachable: true, minimalPrivileges: true });
    // An orphan: a role Stint made whose grant the store does not know (e.g. a restored backup).
    const orphan = 'stint_g00000000000100000000000000000000';
    await env.superuser(`CREATE ROLE ${orphan} LOGIN IN ROLE orders_read`);
    await env.superuser(`COMMENT ON ROLE ${orphan} IS 'stint:{"target":"pg-e2e","grant":"g00000000000100000000000000000000"}'`);
    const dry = (await t.call('human:alice', 'POST', '/v1/targets/pg-e2e/reconcile', { dryRun: true })).body;
    expect(dry.orphans.map((o: { name: string }) => o.name)).toContain(orphan);
    expect(await stintRoles()).toContain(orphan);
    expect((await t.call(BOT, 'POST', '/v1/targets/pg-e2e/reconcile', {})).body.code).toBe('forbidden');
    const real = (await t.call('human:alice', 'POST', '/v1/targets/pg-e2e/reconcile', {})).body;
    expect(real.removed).toContain(orphan);
    expect(await stintRoles()).toEqual([]);
  });
});
