import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const examplePath = `${repoRoot}/examples/stint.yaml`;

describe('examples/stint.yaml (what `npm start` uses on a fresh clone)', () => {
  it('loads without any environment and keeps all state in the repository root .stint/', async () => {
    const config = await loadConfig(examplePath, {});
    expect(config.source).toBe(examplePath);
    expect(config.store).toEqual({ kind: 'pglite', dataDir: `${repoRoot}/.stint/data` });
    expect(config.dev.keyFile).toBe(`${repoRoot}/.stint/dev-issuer-key.json`);
    expect(config.audit.keyFile).toBe(`${repoRoot}/.stint/audit-key.pem`);
    expect(config.audit.checkpointFile).toBe(`${repoRoot}/.stint/checkpoint.txt`);
    expect(config.tokens.keysFile).toBe(`${repoRoot}/.stint/token-keys.json`);
    expect(config.policyDir).toBe(`${repoRoot}/examples/policies`);
    expect(config.server.publicUrl).toBe('http://127.0.0.1:8080');
    expect(config.dev.issuer).toBe('http://127.0.0.1:8080/dev');
  });

  it('defines the documented dev principals, approvers and targets', async () => {
    const config = await loadConfig(examplePath, {});
    expect(config.dev.enabled).toBe(true);
    const principals = config.dev.principals;
    expect(principals['workload:deploy-bot']).toEqual({ kind: 'service', attributes: { env: 'prod', team: 'payments' }, tenant: 'default' });
    expect(principals['workload:ci-runner']).toMatchObject({ kind: 'ci', attributes: { env: 'staging' } });
    expect(principals['workload:support-agent']).toMatchObject({ kind: 'agent', attributes: { env: 'prod' } });
    for (const human of ['human:alice', 'human:bob', 'human:carol']) expect(principals[human]).toBeDefined();
    expect(config.approvers).toEqual({
      groups: { dba: ['human:alice', 'human:bob'], oncall: ['human:carol'] },
      admins: ['human:root'],
      auditors: ['human:audrey'],
    });
    const roles = (target: string): Record<string, unknown> =>
      Object.fromEntries(Object.values(config.targets[target]!.roles).map((r) => [r.name, [r.riskTier, r.maxTtlSeconds, r.approvals]]));
    expect(roles('orders-db')).toEqual({ read: ['low', 3600, 1], write: ['high', 1800, 2] });
    expect(roles('reports-db')).toEqual({ read: ['low', 3600, 1], write: ['medium', 3600, 1] });
    expect(roles('payments-api')).toEqual({ admin: ['critical', 900, 1] });
    const tokenTargets = Object.values(config.targets).filter((t) => t.connector === 'token');
    expect(tokenTargets.map((t) => [t.name, t.env, t.connector, t.owners])).toEqual([
      ['orders-db', 'prod', 'token', ['group:dba']],
      ['reports-db', 'staging', 'token', ['group:dba']],
      ['payments-api', 'prod', 'token', ['group:dba']],
    ]);
    // The PostgreSQL demo target is optional: present once `stint demo-setup` wrote its admin URL
    // (npm start does), otherwise left out with the reason, never a start-up failure.
    if (existsSync(join(dirname(examplePath), '..', '.stint', 'demo-pg-admin-url'))) {
      expect(config.targets['orders-pg']).toMatchObject({ connector: 'postgres', env: 'prod', owners: ['group:dba'] });
    } else {
      expect(config.targets['orders-pg']).toBeUndefined();
      expect(config.skippedTargets.map((t) => t.name)).toEqual(['orders-pg']);
    }
  });

  it('switches to PostgreSQL when DATABASE_URL is set', async () => {
    const config = await loadConfig(examplePath, { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/stint' });
    expect(config.store.kind).toBe('postgres');
    expect(config.store.url?.reveal()).toBe('postgres://postgres@127.0.0.1:5432/stint');
  });
});
