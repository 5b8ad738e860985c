/**
 * The outage goal (REFERENCE.md section 6; issue #3): a target down for 20 minutes, and every
 * revocation that fell due meanwhile is done, each verified dead, within 60 s of the target's
 * recovery; nothing is ever given up ("irrevocable" in Vault, vault#8602).
 *
 * Driven through the real worker against a private PostgreSQL cluster (pg-cluster.ts) that is
 * really stopped and started. Time is a ManualClock: one worker pass per simulated poll step,
 * no sleeps. While the target is down every pass fails fast (connection refused), the grants
 * stay `revoke_failed` with growing attempts, and the retry delay grows to
 * `grants.revokeRetry.max` (30 s here, the default) and stays there. Because the delay never
 * exceeds 30 s, the first attempt after recovery comes at most 30 s (plus a pass) after it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/ports/clock.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { createPostgresTestEnv, loginCode, withPostgresTarget, type PostgresTestEnv } from '../connectors/postgres-env.js';

const BOT = 'workload:deploy-bot';
const GRANTS = 40;
const TTL_MS = 5 * 60_000;
const OUTAGE_MS = 20 * 60_000;
/** Simulated worker poll while the target is down, and after recovery. */
const STEP_DOWN_MS = 5_000;
const STEP_UP_MS = 1_000;
/** The goal: all due revocations done within this long after recovery. */
const RECOVERY_GOAL_MS = 60_000;
const RETRY_MAX_MS = 30_000;

describe('a 20-minute target outage', () => {
  let env: PostgresTestEnv;
  let t: TestBroker;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    env = await createPostgresTestEnv();
    t = await startTestBroker({ clock, configPatch: withPostgresTarget('pg-outage'), env: { ORDERS_PG_ADMIN_URL: env.adminUrl } });
  });
  afterAll(async () => {
    await t?.cleanup();
    await env?.destroy();
  });

  it('grants expiring during the outage are retried with capped backoff, never given up, and all verified dead within 60 s of recovery', async () => {
    expect(t.broker.config.grants.revokeRetry.maxSeconds * 1000).toBe(RETRY_MAX_MS);
    const issued: { id: string; url: string }[] = [];
    for (let i = 0; i < GRANTS; i++) {
      const res = await t.call(BOT, 'POST', '/v1/grants', { target: 'pg-outage', role: 'read', task: `outage drill ${i}`, reason: 'resilience', ttl: '5m' });
      expect(res.status).toBe(201);
      issued.push({ id: res.body.grant.id, url: res.body.credential.url });
    }
    expect(await loginCode(issued[0]!.url)).toBe('ok');

    await env.cluster.stop();
    let recoveredAt: number;
    try {
      const outageEnd = clock.now() + OUTAGE_MS;
      // The grants fall due 5 minutes into the outage.
      clock.advance(TTL_MS);
      const first = await t.broker.worker.runOnce();
      expect(first).toMatchObject({ expired: GRANTS, revoked: 0, revokeFailed: GRANTS });
      while (clock.now() < outageEnd) {
        clock.advance(STEP_DOWN_MS);
        const pass = await t.broker.worker.runOnce();
        expect(pass.revoked).toBe(0);
      }
      for (const { id } of issued) {
        const g = await t.broker.store.getGrant(id);
        expect(g?.status).toBe('revoke_failed');
        expect(g?.credential.state).toBe('revoke_failed');
        expect(g?.credential.revokeLastError).toMatch(/target_unavailable/);
        expect(g?.credential.revokeLastError).not.toContain(env.adminPassword);
        // 15 minutes of retries: 1, 2, 4, 8, 16 s, then every 30 s (to the next 5 s step).
        expect(g!.credential.revokeAttempts).toBeGreaterThanOrEqual(25);
        // Due again within the cap: never parked, never "irrevocable".
        expect(g!.credential.revokeNextAt! - clock.now()).toBeLessThanOrEqual(RETRY_MAX_MS);
      }
      // The audit log shows every failed attempt and its next time; no delay exceeds the cap.
      const head = await t.broker.store.auditHead();
      const audit = await t.broker.store.readAudit(0, head.size);
      const failures = audit.filter((e) => e.type === 'credential.revoke_failed' && e.grantId === issued[0]!.id);
      expect(failures.length).toBe((await t.broker.store.getGrant(issued[0]!.id))!.credential.revokeAttempts);
      const delays = failures.map((e) => (JSON.parse(e.canonical) as { data: { nextAttemptAt: number } }).data.nextAttemptAt - e.time);
      expect(Math.max(...delays)).toBe(RETRY_MAX_MS);
      expect(delays.slice(0, 5)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
      expect(delays.slice(5).every((d) => d === RETRY_MAX_MS)).toBe(true);
    } finally {
      await env.cluster.start();
      recoveredAt = clock.now();
    }

    // Recovery: the worker keeps polling; every grant must be revoked and proven dead in time.
    const pending = new Set(issued.map((g) => g.id));
    while (pending.size > 0 && clock.now() - recoveredAt < RECOVERY_GOAL_MS) {
      clock.advance(STEP_UP_MS);
      await t.broker.worker.runOnce();
      for (const id of [...pending]) {
        if ((await t.broker.store.getGrant(id))?.credential.state === 'revoked') pending.delete(id);
      }
    }
    const tookMs = clock.now() - recoveredAt;
    console.log(`outage drill: ${GRANTS} grants, all verified dead ${tookMs / 1000} s (manual clock) after the target came back`);
    expect([...pending], `still not revoked ${tookMs} ms after recovery`).toEqual([]);
    expect(tookMs).toBeLessThanOrEqual(RECOVERY_GOAL_MS);
    for (const { id, url } of issued) {
      const g = await t.broker.store.getGrant(id);
      expect(g).toMatchObject({ status: 'expired', credential: { state: 'revoked', evidence: { verified: true } } });
      expect(g!.credential.evidence!.checks.map((c) => c.check)).toEqual(['login', 'sessions', 'role']);
      expect(await loginCode(url)).toBe('28P01');
    }
    expect(await env.superuser(`SELECT rolname FROM pg_roles WHERE rolname LIKE 'stint\\_%'`)).toEqual([]);
  });
});
