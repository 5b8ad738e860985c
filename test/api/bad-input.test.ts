/**
 * Bad input always gets a clear 4xx problem+json and changes nothing (issue #2, item 11):
 * malformed bodies, unknown fields, wrong types, oversized bodies, bad tokens, rule violations.
 * Property-based tests throw generated bodies and tokens at every endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SignJWT, importJWK } from 'jose';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

const BOT = 'workload:deploy-bot';
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('bad input changes nothing', () => {
  let t: TestBroker;
  let grantId: string;
  let pendingId: string;

  beforeAll(async () => {
    t = await startTestBroker({ store: 'pglite' });
    grantId = (await t.call(BOT, 'POST', '/v1/grants', { target: 'orders-db', role: 'read', task: 'baseline', reason: 'fixture', ttl: '30m' })).body.grant.id;
    pendingId = (await t.call(BOT, 'POST', '/v1/grants', { target: 'orders-db', role: 'write', task: 'fixture', reason: 'fixture', ticket: 'CHG-1', ttl: '10m' })).body.grant.id;
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  /** Everything that matters about stored state, except auth-failure audit entries. */
  async function snapshot(): Promise<string> {
    const grants = await t.broker.store.listGrants({}, { limit: 500 });
    const head = await t.broker.store.auditHead();
    const entries = await t.broker.store.readAudit(0, head.size);
    return JSON.stringify({ grants: grants.items, audit: entries.filter((e) => e.type !== 'auth.failed').map((e) => e.canonical) });
  }

  async function raw(method: string, path: string, body: string | undefined, headers: Record<string, string>) {
    const res = await fetch(`${t.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : undefined, headers: res.headers };
  }

  async function expectProblem(res: { status: number; type: string; body: any }, status: number, code: string) {
    expect(res.type).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status, code, type: `urn:stint:problem:${code}` });
    expect(typeof res.body.detail).toBe('string');
    expect(res.status).toBe(status);
  }

  it('refuses malformed JSON, unknown fields, wrong types, oversized bodies and wrong content types', async () => {
    const before = await snapshot();
    const auth = { authorization: `Bearer ${await t.tokenFor(BOT)}`, 'content-type': 'application/json' };
    await expectProblem(await raw('POST', '/v1/grants', '{"target": "orders-db",', auth), 400, 'invalid_request');
    const unknown = await raw('POST', '/v1/grants', JSON.stringify({ target: 'orders-db', role: 'read', task: 'x', reason: 'y', ttl: '5m', admin: true }), auth);
    await expectProblem(unknown, 400, 'invalid_body');
    expect(unknown.body.detail).toContain('admin');
    await expectProblem(await raw('POST', '/v1/grants', JSON.stringify({ target: 'orders-db', role: 'read', task: 'x', reason: 'y', ttl: true }), auth), 400, 'invalid_body');
    await expectProblem(await raw('POST', '/v1/grants', JSON.stringify({ target: 'orders-db', role: 'read', task: 'x', reason: 'y', ttl: '5 fortnights' }), auth), 400, 'invalid_body');
    await expectProblem(await raw('POST', '/v1/grants', JSON.stringify({ target: 'orders-db', role: 'read', reason: 'y', ttl: '5m' }), auth), 400, 'invalid_body');
    await expectProblem(await raw('POST', '/v1/grants', JSON.stringify({ target: 'orders-db', role: 'read', task: '   ', reason: 'y', ttl: '5m' }), auth), 400, 'invalid_body');
    await expectProblem(await raw('POST', '/v1/grants', JSON.stringify({ target: 'orders-db', role: 'read', task: 'x'.repeat(200_000), reason: 'y', ttl: '5m' }), auth), 413, 'body_too_large');
    await expectProblem(await raw('POST', '/v1/grants', 'target=orders-db', { ...auth, 'content-type': 'text/plain' }), 415, 'unsupported_media_type');
    await expectProblem(await raw('POST', '/v1/grants', JSON.stringify([1, 2]), auth), 400, 'invalid_body');
    await expectProblem(await raw('GET', '/v1/grants?limit=9999', undefined, auth), 400, 'invalid_request');
    await expectProblem(await raw('GET', '/v1/grants?color=red', undefined, auth), 400, 'invalid_request');
    await expectProblem(await raw('GET', '/v1/nothing', undefined, auth), 404, 'not_found');
    expect(await snapshot()).toBe(before);
  });

  it('refuses rule violations: TTL over max, unknown target or role, wrong state, double approval', async () => {
    const before = await snapshot();
    const over = await t.call(BOT, 'POST', '/v1/grants', { target: 'orders-db', role: 'read', task: 'x', reason: 'y', ttl: '2h' });
    expect(over.status).toBe(400);
    expect(over.body.code).toBe('ttl_exceeds_max');
    expect((await t.call(BOT, 'POST', '/v1/grants', { target: 'nope-db', role: 'read', task: 'x', reason: 'y', ttl: '5m' })).body.code).toBe('unknown_target');
    expect((await t.call(BOT, 'POST', '/v1/grants', { target: 'orders-db', role: 'superuser', task: 'x', reason: 'y', ttl: '5m' })).body.code).toBe('unknown_role');
    expect((await t.call('human:alice', 'POST', `/v1/grants/${grantId}/approve`, {})).body.code).toBe('invalid_state');
    expect((await t.call('human:alice', 'POST', `/v1/grants/g000000000000000000000000000000000/approve`, {})).body.code).toBe('grant_not_found');
    expect((await t.call(BOT, 'POST', `/v1/grants/${pendingId}/complete`, {})).body.code).toBe('invalid_state');
    expect(await snapshot()).toBe(before);
    await t.call('human:alice', 'POST', `/v1/grants/${pendingId}/approve`, {});
    const mid = await snapshot();
    const twice = await t.call('human:alice', 'POST', `/v1/grants/${pendingId}/approve`, {});
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('already_decided');
    expect(await snapshot()).toBe(mid);
  });

  it('refuses bad identity tokens with one generic answer, and audits the real reason', async () => {
    const before = await snapshot();
    const devKeyJwk = JSON.parse(await readFile(t.broker.config.dev.keyFile, 'utf8'));
    const key = await importJWK(devKeyJwk, 'EdDSA');
    const { issuer, audience } = t.broker.config.dev;
    const now = Math.floor(Date.now() / 1000);
    const claims = { stint_type: 'workload', stint_tenant: 'default' };
    const sign = (payload: Record<string, unknown>, header: Record<string, unknown> = {}) =>
      new SignJWT({ ...claims, ...payload }).setProtectedHeader({ alg: 'EdDSA', kid: devKeyJwk.kid, ...header }).sign(key);
    const pub = Buffer.from(devKeyJwk.x, 'base64url');
    const hsHeader = b64({ alg: 'HS256', typ: 'JWT' });
    const hsPayload = b64({ iss: issuer, aud: audience, sub: BOT, exp: now + 600, iat: now, ...claims });
    const hs = `${hsHeader}.${hsPayload}.${createHmac('sha256', pub).update(`${hsHeader}.${hsPayload}`).digest('base64url')}`;
    const other = generateKeyPairSync('ed25519');
    const forged = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'EdDSA', kid: devKeyJwk.kid }).setIssuer(issuer).setAudience(audience).setSubject(BOT).setIssuedAt(now).setExpirationTime(now + 600).sign(other.privateKey);
    const bad: Record<string, string> = {
      expired: await sign({ iss: issuer, aud: audience, sub: BOT, iat: now - 7200, exp: now - 3600 }),
      notYetValid: await sign({ iss: issuer, aud: audience, sub: BOT, iat: now, nbf: now + 3600, exp: now + 7200 }),
      wrongAudience: await sign({ iss: issuer, aud: 'someone-else', sub: BOT, iat: now, exp: now + 600 }),
      unknownIssuer: await sign({ iss: 'https://evil.example', aud: audience, sub: BOT, iat: now, exp: now + 600 }),
      algNone: `${b64({ alg: 'none', typ: 'JWT' })}.${hsPayload}.`,
      hsWithPublicKey: hs,
      forgedSignature: forged,
      garbage: 'not.a.jwt',
    };
    const reasons: string[] = [];
    for (const [name, token] of Object.entries(bad)) {
      const res = await raw('POST', '/v1/grants', JSON.stringify({ target: 'orders-db', role: 'read', task: 'x', reason: 'y', ttl: '5m' }), {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
      });
      await expectProblem(res, 401, 'unauthenticated');
      expect(res.body.detail, name).toBe('invalid or missing credentials');
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
    }
    await expectProblem(await raw('GET', '/v1/grants', undefined, {}), 401, 'unauthenticated');
    await expectProblem(await raw('GET', '/v1/grants', undefined, { authorization: 'Basic dXNlcjpwYXNz' }), 401, 'unauthenticated');
    const head = await t.broker.store.auditHead();
    for (const e of await t.broker.store.readAudit(0, head.size)) {
      if (e.type !== 'auth.failed') continue;
      const body = JSON.parse(e.canonical);
      reasons.push(body.data.reason);
      // The token itself never reaches the audit log.
      for (const token of Object.values(bad)) expect(e.canonical).not.toContain(token.split('.')[2] || token);
    }
    expect(new Set(reasons).size).toBeGreaterThanOrEqual(6);
    expect(await snapshot()).toBe(before);
  });

  it('property: generated bodies at every endpoint never cause a 5xx or a change', async () => {
    const before = await snapshot();
    const token = await t.tokenFor(BOT);
    const human = await t.tokenFor('human:alice');
    const endpoints = ['/v1/grants', `/v1/grants/${pendingId}/approve`, `/v1/grants/${pendingId}/deny`, `/v1/grants/${grantId}/extend`, `/v1/grants/${grantId}/review`, `/v1/grants/${grantId}/activate`];
    const json = fc.oneof(
      fc.jsonValue(),
      fc.record({ target: fc.string(), role: fc.string(), task: fc.string(), reason: fc.string(), ttl: fc.oneof(fc.string(), fc.integer(), fc.double()) }, { requiredKeys: [] }),
      fc.record({ ttl: fc.oneof(fc.constant('999999h'), fc.integer({ min: -5, max: 0 })), reason: fc.string(), notes: fc.string(), outcome: fc.string() }, { requiredKeys: [] }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...endpoints), json, fc.boolean(), async (path, body, asHuman) => {
        const res = await raw('POST', path, JSON.stringify(body), { authorization: `Bearer ${asHuman ? human : token}`, 'content-type': 'application/json' });
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expect(res.type).toMatch(/^application\/problem\+json/);
        // The only accepted bodies here would change state; generated ones must not be accepted.
        if (res.status < 400) expect.fail(`accepted ${path} ${JSON.stringify(body)}`);
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), async (garbage) => {
        const res = await raw('GET', '/v1/grants', undefined, { authorization: `Bearer ${garbage}` });
        expect([400, 401]).toContain(res.status);
      }),
      { numRuns: 100 },
    );
    expect(await snapshot()).toBe(before);
  });
});
