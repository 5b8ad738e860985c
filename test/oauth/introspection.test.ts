/**
 * RFC 7662 introspection over HTTP answers `{"active": false}` the instant a grant ends, on
 * PGlite (whose store answers from a liveness cache updated at commit) and on PostgreSQL (which
 * reads every time), across restarts, and with two brokers on one PostgreSQL (issue #2 item 13).
 * Each case introspects the token as active first, so a cached answer exists that a wrong cache
 * would keep serving. Time moves only through a manual clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/ports/clock.js';
import type { Grant } from '../../src/core/grant.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

const BOT = 'workload:deploy-bot';
const RESOURCE_SERVER = 'human:alice';
/**
 * One public URL for every broker that serves the same tokens: the token `iss` is the public
 * URL, which otherwise derives from each broker's random port, and a replica or a restarted
 * broker would then refuse the tokens for the wrong reason (issuer mismatch).
 */
const SHARED_PUBLIC_URL = (yaml: string): string =>
  yaml.replace('  # publicUrl: https://stint.example.com', '  publicUrl: https://stint.test\n  #');
const read = (task: string, ttl = '15m') => ({ target: 'orders-db', role: 'read', task, reason: 'introspection test', ttl });

async function introspect(t: TestBroker, token: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${t.url}/oauth/introspect`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await t.tokenFor(RESOURCE_SERVER)}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  return (await res.json()) as Record<string, unknown>;
}

async function issue(t: TestBroker, task: string, ttl?: string): Promise<{ id: string; token: string }> {
  const res = await t.call(BOT, 'POST', '/v1/grants', read(task, ttl));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.grant.status).toBe('active');
  return { id: res.body.grant.id as string, token: res.body.accessToken as string };
}

describe.each(['pglite', 'postgres'] as const)('introspection on %s', (store) => {
  let t: TestBroker;
  const clock = new ManualClock();

  beforeAll(async () => {
    t = await startTestBroker({ store, clock });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('answers inactive right after completion', async () => {
    const g = await issue(t, 'complete me');
    expect(await introspect(t, g.token)).toMatchObject({ active: true, jti: g.id, sub: BOT, task: 'complete me', tenant: 'default' });
    expect((await t.call(BOT, 'POST', `/v1/grants/${g.id}/complete`, {})).body.grant.status).toBe('completed');
    expect(await introspect(t, g.token)).toEqual({ active: false });
  });

  it('answers inactive right after revocation', async () => {
    const g = await issue(t, 'revoke me');
    expect((await introspect(t, g.token)).active).toBe(true);
    expect((await t.call(RESOURCE_SERVER, 'POST', `/v1/grants/${g.id}/revoke`, { reason: 'incident' })).body.grant.status).toBe('revoked');
    expect(await introspect(t, g.token)).toEqual({ active: false });
  });

  it('answers inactive from the instant of expiry, before any worker runs', async () => {
    const g = await issue(t, 'let me expire', '10m');
    expect((await introspect(t, g.token)).active).toBe(true);
    clock.advance(10 * 60_000 - 1);
    expect((await introspect(t, g.token)).active).toBe(true);
    clock.advance(1);
    expect(await introspect(t, g.token)).toEqual({ active: false });
    // The stored row still says active until the worker ends it: the clock alone decided.
    expect((await t.broker.store.getGrant(g.id))?.status).toBe('active');
    await t.broker.worker.runOnce();
    expect(await introspect(t, g.token)).toEqual({ active: false });
  });

  it('never answers from a change that rolled back, and answers from the commit at once', async () => {
    const g = await issue(t, 'almost revoked');
    expect((await introspect(t, g.token)).active).toBe(true);
    const boom = new Error('rolled back on purpose');
    const thrown = await t.broker.store
      .transaction(async (tx) => {
        const locked = (await tx.lockGrant(g.id)) as Grant;
        await tx.updateGrant({ ...locked, status: 'revoked', endReason: 'revoked', endedAt: clock.now(), version: locked.version + 1 });
        throw boom;
      })
      .catch((e: unknown) => e);
    expect(thrown).toBe(boom);
    expect(await introspect(t, g.token)).toMatchObject({ active: true, jti: g.id });
    expect((await t.broker.store.getGrant(g.id))?.status).toBe('active');
    // The same change committed (through the API, with its audit events) is seen immediately.
    await t.call(RESOURCE_SERVER, 'POST', `/v1/grants/${g.id}/revoke`, { reason: 'now for real' });
    expect(await introspect(t, g.token)).toEqual({ active: false });
  });

  it('refuses a token whose signature was altered, after the genuine one verified', async () => {
    const g = await issue(t, 'forge me');
    expect((await introspect(t, g.token)).active).toBe(true);
    const [header, payload, signature] = g.token.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    expect(await introspect(t, `${header}.${payload}.${flipped}`)).toEqual({ active: false });
    // Same signature, another payload (another tenant claimed): refused as well.
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, scope: 'admin' })).toString('base64url');
    expect(await introspect(t, `${header}.${forged}.${signature}`)).toEqual({ active: false });
    expect((await introspect(t, g.token)).active).toBe(true);
  });

  it('answers from the grant as extended, not from the token alone', async () => {
    const g = await issue(t, 'extend me', '15m');
    const before = (await introspect(t, g.token)).exp as number;
    const ext = await t.call(BOT, 'POST', `/v1/grants/${g.id}/extend`, { ttl: '10m', reason: 'longer migration' });
    expect(ext.body.grant.status, JSON.stringify(ext.body)).toBe('approved');
    // The old token's own exp is unchanged; the answer carries the grant's moved expiry.
    expect((await introspect(t, g.token)).exp).toBe(before + 10 * 60);
    const renewed = ext.body.accessToken as string;
    expect((await introspect(t, renewed)).active).toBe(true);
    // At the old token's own exp it is dead, although it verified (and was remembered) before
    // and its grant lives on; the extension's token carries on until the grant ends.
    clock.advance(before * 1000 - clock.now() - 1);
    expect((await introspect(t, g.token)).active).toBe(true);
    clock.advance(1);
    expect(await introspect(t, g.token)).toEqual({ active: false });
    expect((await introspect(t, renewed)).active).toBe(true);
    await t.call(BOT, 'POST', `/v1/grants/${g.id}/complete`, {});
    expect(await introspect(t, renewed)).toEqual({ active: false });
  });
});

describe.each(['pglite', 'postgres'] as const)('introspection across a restart on %s', (store) => {
  let first: TestBroker;
  let second: TestBroker | undefined;
  afterAll(async () => {
    await second?.stop();
    await first?.cleanup();
  });

  it('keeps ended grants inactive and live ones active', async () => {
    const clock = new ManualClock();
    first = await startTestBroker({ store, clock, configPatch: SHARED_PUBLIC_URL });
    const ended = await issue(first, 'ended before restart');
    const live = await issue(first, 'live across restart');
    expect((await introspect(first, ended.token)).active).toBe(true);
    await first.call(BOT, 'POST', `/v1/grants/${ended.id}/complete`, {});
    expect(await introspect(first, ended.token)).toEqual({ active: false });
    await first.stop();

    second = await startTestBroker({ clock, configPatch: SHARED_PUBLIC_URL, dir: first.dir, ...(first.databaseUrl !== undefined ? { databaseUrl: first.databaseUrl } : {}) });
    expect(await introspect(second, ended.token)).toEqual({ active: false });
    expect(await introspect(second, live.token)).toMatchObject({ active: true, jti: live.id });
    await second.call(BOT, 'POST', `/v1/grants/${live.id}/complete`, {});
    expect(await introspect(second, live.token)).toEqual({ active: false });
  });
});

describe('two brokers on one PostgreSQL', () => {
  let a: TestBroker;
  let b: TestBroker;
  const clock = new ManualClock();
  beforeAll(async () => {
    a = await startTestBroker({ clock, store: 'postgres', configPatch: SHARED_PUBLIC_URL });
    // Replicas share the configuration and key files, and the database.
    b = await startTestBroker({ clock, configPatch: SHARED_PUBLIC_URL, databaseUrl: a.databaseUrl!, dir: a.dir });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.cleanup();
  });

  it('answer inactive on one the instant the other ended the grant', async () => {
    const completed = await issue(a, 'completed on a');
    const revoked = await issue(b, 'revoked on b');
    for (const broker of [a, b]) {
      expect((await introspect(broker, completed.token)).active).toBe(true);
      expect((await introspect(broker, revoked.token)).active).toBe(true);
    }
    await a.call(BOT, 'POST', `/v1/grants/${completed.id}/complete`, {});
    expect(await introspect(b, completed.token)).toEqual({ active: false });
    expect((await introspect(b, revoked.token)).active).toBe(true);
    await b.call(RESOURCE_SERVER, 'POST', `/v1/grants/${revoked.id}/revoke`, { reason: 'ended elsewhere' });
    expect(await introspect(a, revoked.token)).toEqual({ active: false });
    expect(await introspect(a, completed.token)).toEqual({ active: false });
  });

  it('answer inactive on both when the grant expires, whichever worker ends it', async () => {
    const g = await issue(a, 'expires on both', '5m');
    expect((await introspect(b, g.token)).active).toBe(true);
    clock.advance(5 * 60_000);
    expect(await introspect(a, g.token)).toEqual({ active: false });
    expect(await introspect(b, g.token)).toEqual({ active: false });
    await b.broker.worker.runOnce();
    expect((await a.broker.store.getGrant(g.id))?.status).toBe('expired');
    expect(await introspect(a, g.token)).toEqual({ active: false });
  });
});
