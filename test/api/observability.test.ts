/**
 * Health, readiness, Prometheus metrics, JWKS and the OpenAPI document of a running broker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/ports/clock.js';
import { ERROR_REGISTRY } from '../../src/core/errors.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';

describe('observability endpoints', () => {
  let t: TestBroker;
  const clock = new ManualClock();
  beforeAll(async () => {
    t = await startTestBroker({ clock });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('answers health and readiness without credentials', async () => {
    expect(await t.call(null, 'GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await t.call(null, 'GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready', store: 'pglite' } });
  });

  it('exports grants by state, decision latency, revocation lag and failures', async () => {
    const bot = 'workload:deploy-bot';
    await t.call(bot, 'POST', '/v1/grants', { target: 'orders-db', role: 'read', task: 'metrics', reason: 'test', ttl: '5m' });
    await t.call(bot, 'POST', '/v1/grants', { target: 'orders-db', role: 'write', task: 'metrics', reason: 'test', ticket: 'T-1', ttl: '5m' });
    await t.call('workload:support-agent', 'POST', '/v1/grants', { target: 'payments-api', role: 'admin', task: 'x', reason: 'y', ttl: '5m' });
    clock.advance(5 * 60_000);
    await t.broker.worker.runOnce();
    await t.call(null, 'GET', '/v1/grants');
    const res = await fetch(`${t.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/^stint_grants\{status="expired"\} [1-9]/m);
    expect(text).toMatch(/^stint_grants\{status="denied"\} 1$/m);
    expect(text).toMatch(/^stint_decision_seconds_count\{outcome="auto"\} 1$/m);
    expect(text).toMatch(/^stint_decision_seconds_count\{outcome="approval"\} 1$/m);
    expect(text).toMatch(/^stint_decision_seconds_count\{outcome="deny"\} 1$/m);
    expect(text).toMatch(/^stint_revocation_lag_seconds_count\{connector="token"\} 1$/m);
    expect(text).toMatch(/^stint_auth_failures_total [1-9]/m);
    expect(text).toContain('stint_revoke_failures_total');
  });

  it('counts policy answers from the decision memo: a new task of the same shape is a new grant with the same decision', async () => {
    const lookups = async (): Promise<{ hit: number; miss: number }> => {
      const text = await (await fetch(`${t.url}/metrics`)).text();
      const read = (result: string) => Number(new RegExp(`^stint_policy_decision_memo_lookups_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
      return { hit: read('hit'), miss: read('miss') };
    };
    const bot = 'workload:ci-runner';
    const body = (task: string) => ({ target: 'reports-db', role: 'read', task, reason: 'nightly export', ttl: '10m' });
    const before = await lookups();
    const first = await t.call(bot, 'POST', '/v1/grants', body('export #1'));
    const second = await t.call(bot, 'POST', '/v1/grants', body('export #2'));
    const after = await lookups();
    expect(after.miss - before.miss).toBe(1);
    expect(after.hit - before.hit).toBe(1);
    expect(first.body.grant.id).not.toBe(second.body.grant.id);
    expect(second.body.grant).toMatchObject({ status: 'active', task: 'export #2' });
    expect(first.body.grant.decision.policies).toEqual(['auto-read']);
    expect(second.body.grant.decision.policies).toEqual(['auto-read']);
  });

  it('publishes only public keys', async () => {
    const jwks = (await t.call(null, 'GET', '/.well-known/jwks.json')).body;
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const k of jwks.keys) for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(k).not.toHaveProperty(priv);
  });

  it('describes every route in an OpenAPI document, with the error registry', async () => {
    const doc = (await t.call(null, 'GET', '/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    for (const path of ['/v1/grants', '/v1/grants/{id}', '/v1/grants/{id}/approve', '/v1/grants/{id}/extend', '/v1/audit', '/v1/audit/proof/{index}', '/oauth/introspect']) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(doc.paths['/v1/grants'].post.requestBody.content['application/json'].schema.additionalProperties).toBe(false);
    expect(doc.components.schemas.Problem.properties.code.enum.sort()).toEqual(Object.keys(ERROR_REGISTRY).sort());
  });
});
