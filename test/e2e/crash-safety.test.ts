/**
 * Crash safety (issue #3, items 2 and 8): the broker is killed with SIGKILL at each step of
 * provisioning and revocation (crash points, src/service/crash-points.ts), restarted, and after
 * recovery there is no credential on the target without a live grant, and no grant reported
 * ended while its credential still works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/ports/clock.js';
import { startTestBroker, writeTestConfig } from '../helpers/broker.js';
import { serveChild } from '../helpers/child-broker.js';
import { freshPgliteDataDir } from '../helpers/stores.js';
import { createPostgresTestEnv, withPostgresTarget, type PostgresTestEnv } from '../connectors/postgres-env.js';
import { loadOrCreateDevIssuerKey, mintDevToken } from '../../src/adapters/identity-jwt/index.js';
import { loadConfig } from '../../src/config/index.js';

const BOT = 'workload:deploy-bot';
const addTarget = withPostgresTarget('pg-crash');

describe('crash safety with a real PostgreSQL target', () => {
  let env: PostgresTestEnv;
  beforeAll(async () => {
    env = await createPostgresTestEnv();
  });
  afterAll(async () => {
    await env?.destroy();
  });

  const stintRoles = async () => (await env.superuser<{ rolname: string }>(`SELECT rolname FROM pg_roles WHERE rolname LIKE 'stint\\_%'`)).map((r) => r.rolname);

  it.each([
    ['after-provision-intent', 'request'],
    ['after-provision', 'request'],
    ['after-end-commit', 'complete'],
    ['after-revoke', 'complete'],
  ] as const)('kill -9 %s (during %s) leaves no credential without a live grant after restart', async (crashAt, during) => {
    const dir = await mkdtemp(join(tmpdir(), 'stint-crash-'));
    try {
      const configPath = await writeTestConfig(dir, addTarget);
      const fresh = await freshPgliteDataDir();
      await rename(fresh.dataDir, join(dir, 'data'));
      fresh.cleanup();
      const config = await loadConfig(configPath, { ORDERS_PG_ADMIN_URL: env.adminUrl });
      const key = await loadOrCreateDevIssuerKey(config.dev.keyFile);
      const token = await mintDevToken({ key, issuer: config.dev.issuer, audience: config.dev.audience, principalId: BOT, principal: config.dev.principals[BOT]!, now: Date.now() });
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const body = JSON.stringify({ target: 'pg-crash', role: 'read', task: `crash drill ${crashAt}`, reason: 'crash safety', ttl: '30m' });

      const child = await serveChild(configPath, { ORDERS_PG_ADMIN_URL: env.adminUrl, STINT_CRASH_AT: crashAt });
      let grantId: string | undefined;
      if (during === 'request') {
        await expect(fetch(`${child.url}/v1/grants`, { method: 'POST', headers, body })).rejects.toThrow();
      } else {
        const res = (await (await fetch(`${child.url}/v1/grants`, { method: 'POST', headers, body })).json()) as { grant: { id: string; status: string } };
        expect(res.grant.status).toBe('active');
        grantId = res.grant.id;
        await expect(fetch(`${child.url}/v1/grants/${grantId}/complete`, { method: 'POST', headers, body: '{}' })).rejects.toThrow();
      }
      expect(await child.exited).toBe('SIGKILL');

      // Restart after the provisioning/revocation lease ran out (a minute later).
      const clock = new ManualClock(Date.now() + 60_000);
      const restarted = await startTestBroker({ clock, dir, configPatch: addTarget, env: { ORDERS_PG_ADMIN_URL: env.adminUrl } });
      try {
        const live = new Set<string>();
        let page = await restarted.broker.store.listGrants({}, { limit: 500 });
        for (const g of page.items) {
          if (g.status === 'active' && (g.expiresAt ?? 0) > clock.now()) live.add(`stint_${g.id}`);
          // Nothing is reported ended while its credential may still work.
          if (['expired', 'completed', 'revoked'].includes(g.status)) expect(g.credential.state, g.id).toMatch(/^(none|revoked)$/);
        }
        expect(page.items.length).toBeGreaterThan(0);
        const orphans = (await stintRoles()).filter((r) => !live.has(r));
        expect(orphans).toEqual([]);
        if (grantId) {
          const g = await restarted.broker.store.getGrant(grantId);
          expect(g?.status).toBe('completed');
          expect(g?.credential.state).toBe('revoked');
          expect(g?.credential.evidence?.verified).toBe(true);
        }
      } finally {
        await restarted.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
