/**
 * The PostgreSQL connector against a real PostgreSQL server (a private cluster with password
 * authentication; pg-cluster.ts says why not the shared trust-auth server): the shared
 * conformance suite, then what only PostgreSQL has.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createPostgresConnector,
  grantIdOfRole,
  parsePostgresConnection,
  parsePostgresRoleGrants,
  roleGrantsPath,
  roleNameFor,
  unionRoleGrants,
} from '../../src/adapters/connector-postgres/index.js';
import { makeSecret } from '../../src/config/secret.js';
import { StintError } from '../../src/core/errors.js';
import type { Grant, RevocationRecipe } from '../../src/core/grant.js';
import { ManualClock } from '../../src/ports/clock.js';
import type { ConnectorTarget, IssuedCredential } from '../../src/ports/connector.js';
import { ADMIN_POSTGRES_URL } from '../helpers/stores.js';
import { describeConnectorConformance } from './conformance.js';
import { grantFixture, newGrantId } from './grant-fixture.js';
import { createPostgresTestEnv, DOCUMENTED_ADMIN_SETUP, openSession, postgresHarness, type PostgresTestEnv } from './postgres-env.js';

describeConnectorConformance('postgres', postgresHarness());

const READ = { memberOf: ['orders_read'] };
const WRITE = { memberOf: ['orders_write'] };

/** What a caught rejection was. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => undefined, (e: unknown) => e);
}

describe('postgres connector: configuration and planning (no I/O)', () => {
  const secretUrl = 'postgres://broker_admin:s3cr3t-pw@db.internal:5432/orders?sslmode=require';

  it('reads the admin URL from a Secret or a string and derives the client URL without credentials', () => {
    const fromSecret = parsePostgresConnection({ url: makeSecret(secretUrl, 'env:ORDERS_DB_ADMIN_URL'), connectionLimit: 3 }, 'orders-db');
    expect(fromSecret.adminUrl).toBe(secretUrl);
    expect(fromSecret.clientUrl).toBe('postgres://db.internal:5432/orders?sslmode=require');
    expect(fromSecret.connectionLimit).toBe(3);
    expect(fromSecret.secrets).toEqual(expect.arrayContaining([secretUrl, 's3cr3t-pw']));
    const explicit = parsePostgresConnection({ url: secretUrl, clientUrl: 'postgresql://pgbouncer.internal:6432/orders' }, 'orders-db');
    expect(explicit.clientUrl).toBe('postgresql://pgbouncer.internal:6432/orders');
  });

  it('reports every connection problem with its key path and never the value', () => {
    const error = (() => {
      try {
        parsePostgresConnection({ url: 'mysql://root:s3cr3t-pw@h/db', clientUrl: 'postgres://u:s3cr3t-pw@h/db', connectionLimit: 0, port: 5432 }, 'orders-db');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(StintError);
    const e = error as StintError;
    expect(e.code).toBe('config_invalid');
    const paths = (e.extra?.errors as { path: string }[]).map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'targets.orders-db.connection.url',
        'targets.orders-db.connection.clientUrl',
        'targets.orders-db.connection.connectionLimit',
        'targets.orders-db.connection.port',
      ]),
    );
    expect(JSON.stringify(e) + e.message).not.toContain('s3cr3t-pw');
    expect(() => parsePostgresConnection({}, 'orders-db')).toThrow(/connection\.url: is required/);
    expect(() => parsePostgresConnection({ url: 'postgres://h' }, 'orders-db')).toThrow(/must name a host and a database/);
  });

  it('validates role grants: memberOf is a non-empty list of distinct names outside the stint_ namespace', () => {
    const path = roleGrantsPath('orders-db', 'read');
    expect(parsePostgresRoleGrants({ memberOf: ['orders_read'], connectionLimit: 2 }, path)).toEqual({ memberOf: ['orders_read'], connectionLimit: 2 });
    expect(() => parsePostgresRoleGrants({}, path)).toThrow(/targets\.orders-db\.roles\.read\.grants\.memberOf: is required/);
    expect(() => parsePostgresRoleGrants({ memberOf: [] }, path)).toThrow(/memberOf: is required/);
    expect(() => parsePostgresRoleGrants({ memberOf: ['a', 'a'] }, path)).toThrow(/memberOf\[1\]: is listed twice/);
    expect(() => parsePostgresRoleGrants({ memberOf: ['stint_gabc'] }, path)).toThrow(/reserved/);
    expect(() => parsePostgresRoleGrants({ memberOf: ['x'.repeat(64)] }, path)).toThrow(/at most 63 bytes/);
    expect(() => parsePostgresRoleGrants({ memberOf: [''] }, path)).toThrow(/non-empty/);
    expect(() => parsePostgresRoleGrants({ memberOf: ['a'], connectionLimit: 1.5 }, path)).toThrow(/connectionLimit: must be an integer/);
    expect(() => parsePostgresRoleGrants({ memberOf: ['a'], rules: [] }, path)).toThrow(/grants\.rules: is not a PostgreSQL setting/);
  });

  it('names roles stint_<grantId> and reads the grant id back; refuses ids the broker cannot make', () => {
    const id = newGrantId();
    expect(roleNameFor(id)).toBe(`stint_${id}`);
    expect(grantIdOfRole(`stint_${id}`)).toBe(id);
    expect(grantIdOfRole('orders_read')).toBeUndefined();
    expect(grantIdOfRole('stint_gABC')).toBeUndefined();
    expect(grantIdOfRole(`stint_g${'a'.repeat(57)}`)).toBeUndefined();
    expect(() => roleNameFor('G123')).toThrow(StintError);
    expect(() => roleNameFor(`g${'a'.repeat(57)}`)).toThrow(StintError);
    expect(roleNameFor(`g${'a'.repeat(56)}`)).toHaveLength(63);
  });

  it('plans without touching the target: the recipe carries the role, memberOf and limit, and no secret', () => {
    const connector = createPostgresConnector();
    const target: ConnectorTarget = {
      name: 'orders-db',
      connector: 'postgres',
      connection: { url: makeSecret('postgres://broker_admin:s3cr3t-pw@127.0.0.1:1/orders', 'env:X'), connectionLimit: 5 },
      roleGrants: { memberOf: ['orders_read', 'orders_write'] },
    };
    const grant = grantFixture('orders-db', 'rw');
    const recipe = connector.plan(grant, target);
    expect(recipe).toEqual({ connector: 'postgres', target: 'orders-db', data: { name: `stint_${grant.id}`, memberOf: ['orders_read', 'orders_write'], connectionLimit: 5 } });
    expect(JSON.stringify(recipe)).not.toContain('s3cr3t-pw');
    const overridden = connector.plan(grant, { ...target, roleGrants: { memberOf: ['orders_read'], connectionLimit: 1 } });
    expect(overridden.data.connectionLimit).toBe(1);
    expect(() => connector.plan(grant, { ...target, roleGrants: {} })).toThrow(/targets\.orders-db\.roles\.rw\.grants\.memberOf/);
  });

  it('docs/connectors.md gives the PostgreSQL 15 admin setup the tests run, and a 16+ variant', () => {
    const docs = readFileSync(new URL('../../docs/connectors.md', import.meta.url), 'utf8');
    for (const statement of DOCUMENTED_ADMIN_SETUP) expect(docs).toContain(statement);
    expect(docs).toContain('GRANT orders_read, orders_write TO broker_admin WITH ADMIN OPTION, INHERIT FALSE, SET FALSE;');
  });

  it('unionRoleGrants merges the memberOf lists of all roles of a target', () => {
    expect(unionRoleGrants([{ memberOf: ['a', 'b'] }, { memberOf: ['b', 'c'] }, {}])).toEqual({ memberOf: ['a', 'b', 'c'] });
  });
});

describe('postgres connector on a real server', () => {
  let env: PostgresTestEnv;
  const made: { recipe: RevocationRecipe; target: ConnectorTarget }[] = [];
  const clients: pg.Client[] = [];
  const extraRoles: string[] = [];

  beforeAll(async () => {
    env = await createPostgresTestEnv();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.end().catch(() => undefined)));
    for (const { recipe, target } of made.splice(0)) await env.connector.revoke(recipe, target).catch(() => undefined);
    for (const role of extraRoles.splice(0).reverse()) await env.superuser(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`);
  });
  afterAll(async () => {
    await env?.destroy();
  });

  async function provision(roleGrants: Record<string, unknown>, overrides: Partial<Grant> = {}, target = env.target(roleGrants), connector = env.connector): Promise<{ grant: Grant; recipe: RevocationRecipe; credential: IssuedCredential }> {
    const grant = grantFixture(target.name, 'role', overrides);
    const recipe = connector.plan(grant, target);
    made.push({ recipe, target });
    const credential = await connector.provision(grant, target, recipe);
    return { grant, recipe, credential: credential! };
  }

  async function login(credential: IssuedCredential): Promise<pg.Client> {
    const session = await openSession(credential);
    clients.push(session.client);
    return session.client;
  }

  async function roleRow(name: string): Promise<{ rolcanlogin: boolean; rolvaliduntil: Date | null; rolconnlimit: number; oid: string } | undefined> {
    const rows = await env.superuser<{ rolcanlogin: boolean; rolvaliduntil: Date | null; rolconnlimit: number; oid: string }>(
      'SELECT rolcanlogin, rolvaliduntil, rolconnlimit, oid::text AS oid FROM pg_roles WHERE rolname = $1',
      [name],
    );
    return rows[0];
  }

  it('VALID UNTIL is enforced by PostgreSQL itself: past the expiry nobody can log in, even with no broker revoking', async () => {
    const { recipe, credential } = await provision(READ, { expiresAt: Date.now() - 1_000 });
    const role = await roleRow(String(recipe.data.name));
    // The role exists and may log in; only its expiry stands in the way.
    expect(role?.rolcanlogin).toBe(true);
    expect(role!.rolvaliduntil!.getTime()).toBeLessThan(Date.now());
    const refused = await failure(openSession(credential));
    expect((refused as { code?: string }).code).toBe('28P01');
    // extend() moves the backstop: the same credential works again.
    await env.connector.extend(recipe, env.target(READ), Date.now() + 60_000);
    await (await login(credential)).query('SELECT 1');
    // Once the role is gone there is no backstop to move; extend() does nothing and succeeds.
    await env.connector.revoke(recipe, env.target(READ));
    await env.connector.extend(recipe, env.target(READ), Date.now() + 120_000);
    expect(await roleRow(String(recipe.data.name))).toBeUndefined();
  });

  it('sets VALID UNTIL to grant.expiresAt when known, else now + ttl by the injected clock', async () => {
    const clock = new ManualClock(Date.UTC(2099, 0, 1, 12, 0, 0));
    const connector = createPostgresConnector({ clock });
    try {
      const planned = await provision(READ, { ttlSeconds: 600 }, env.target(READ), connector);
      expect((await roleRow(String(planned.recipe.data.name)))?.rolvaliduntil?.getTime()).toBe(clock.now() + 600_000);
      const active = await provision(READ, { expiresAt: Date.UTC(2099, 5, 1) }, env.target(READ), connector);
      expect((await roleRow(String(active.recipe.data.name)))?.rolvaliduntil?.getTime()).toBe(Date.UTC(2099, 5, 1));
    } finally {
      await connector.close();
    }
  });

  it('never sends the password to the server: even with log_statement = all, the server log holds only a SCRAM verifier', async () => {
    await env.superuser("ALTER ROLE broker_admin SET log_statement = 'all'");
    // A new connector opens new admin sessions, which pick up the role setting.
    const connector = createPostgresConnector();
    try {
      const { recipe, credential } = await provision(READ, {}, env.target(READ), connector);
      await connector.revoke(recipe, env.target(READ));
      const log = readFileSync(env.cluster.logFile, 'utf8');
      expect(log).toContain(`CREATE ROLE "${String(recipe.data.name)}"`);
      expect(log).toContain("PASSWORD 'SCRAM-SHA-256$4096:");
      expect(log).not.toContain(credential.password);
    } finally {
      await env.superuser('ALTER ROLE broker_admin RESET log_statement');
      await connector.close();
    }
  });

  it('revoke terminates an open session before dropping the role: no backend is left, not even an anonymous one', async () => {
    const { recipe, credential } = await provision(READ);
    const client = await login(credential);
    await client.query('SELECT count(*) FROM orders');
    const oid = (await roleRow(String(recipe.data.name)))!.oid;
    expect(await env.superuser('SELECT pid FROM pg_stat_activity WHERE usesysid = $1::oid', [oid])).toHaveLength(1);
    await env.connector.revoke(recipe, env.target(READ));
    const error = await failure(client.query('SELECT count(*) FROM orders'));
    expect(error).toBeInstanceOf(Error);
    expect(await env.superuser('SELECT pid FROM pg_stat_activity WHERE usesysid = $1::oid', [oid])).toEqual([]);
    // Dropping first would leave the session alive with usename NULL (REFERENCE.md section 1).
    const anonymous = await env.superuser(
      "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND usesysid IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.oid = usesysid)",
    );
    expect(anonymous).toEqual([]);
    const evidence = await env.connector.verifyRevoked(recipe, env.target(READ), credential);
    expect(evidence.checks.map((c) => [c.check, c.passed])).toEqual([
      ['login', true],
      ['sessions', true],
      ['role', true],
    ]);
    expect(evidence.checks[0]?.detail).toMatch(/refused \(28P01/);
  });

  it('a batch revoke ends only the sessions of its own roles, even run as a superuser (who could end any)', async () => {
    // The statement that ends sessions must apply pg_terminate_backend only to backends of the
    // batch's roles whatever order the planner picks for its quals (a large role list makes the
    // role filter the costlier qual; a superuser's call would then end every session).
    const superTarget: ConnectorTarget = { ...env.target(READ), connection: { url: makeSecret(env.cluster.superuserUrl.replace(/\/postgres$/, '/orders'), 'env:SU') }, roleGrants: {} };
    const bystander = await provision(READ);
    const other = await login(bystander.credential);
    const batch = [];
    for (let i = 0; i < 12; i += 1) batch.push(await provision(READ));
    const ended = await login(batch[0]!.credential);
    const results = await env.connector.revokeMany(batch.map((b) => b.recipe), superTarget);
    expect(results.every((r) => r.ok)).toBe(true);
    await expect(ended.query('SELECT 1')).rejects.toBeInstanceOf(Error);
    expect((await other.query('SELECT count(*)::int AS n FROM orders')).rows).toEqual([{ n: 1 }]);
    expect(await env.superuser('SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
  });

  it('keeps what the requester created: objects are reassigned to the admin and the role is still dropped', async () => {
    const { recipe, credential } = await provision(WRITE);
    const client = await login(credential);
    const table = `made_by_${String(recipe.data.name)}`;
    await client.query(`CREATE TABLE scratch.${table} (x int)`);
    await client.query(`INSERT INTO orders VALUES (2, 'written by the write role')`);
    await env.connector.revoke(recipe, env.target(WRITE));
    expect(await env.superuser('SELECT tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = $2', ['scratch', table])).toEqual([{ tableowner: 'broker_admin' }]);
    expect(await roleRow(String(recipe.data.name))).toBeUndefined();
  });

  it('a read role is refused writes with 42501, while a write role may make them (the forbidden statement is valid)', async () => {
    const read = await provision(READ);
    const write = await provision(WRITE);
    const forbidden = await failure((await openSession(read.credential)).runForbidden());
    expect((forbidden as { code?: string }).code).toBe('42501');
    const session = await openSession(write.credential);
    clients.push(session.client);
    await session.runForbidden();
  });

  it('applies the connection limit', async () => {
    const { recipe, credential } = await provision({ memberOf: ['orders_read'], connectionLimit: 1 });
    expect((await roleRow(String(recipe.data.name)))?.rolconnlimit).toBe(1);
    await login(credential);
    expect(((await failure(openSession(credential))) as { code?: string }).code).toBe('53300');
  });

  it('hands out a URL for the client address with the credential filled in', async () => {
    const clientUrl = `postgres://localhost:${env.cluster.port}/orders`;
    const target: ConnectorTarget = { ...env.target(READ), connection: { url: makeSecret(env.adminUrl, 'env:ORDERS_DB_ADMIN_URL'), clientUrl } };
    const { credential } = await provision(READ, {}, target);
    const url = new URL(credential.url!);
    expect([url.hostname, url.port, url.pathname, url.username]).toEqual(['localhost', String(env.cluster.port), '/orders', credential.username]);
    expect(decodeURIComponent(url.password)).toBe(credential.password);
    expect(credential.password!.length).toBeGreaterThanOrEqual(32);
    await (await login(credential)).query('SELECT 1');
  });

  it('refuses a recipe naming a role Stint did not make, and drops nothing', async () => {
    for (const name of ['orders_read', 'broker_admin', 'stint_gXYZ']) {
      const recipe: RevocationRecipe = { connector: 'postgres', target: 'orders-db', data: { name, memberOf: [] } };
      const error = await failure(env.connector.revoke(recipe, env.target(READ)));
      expect((error as StintError).code, name).toBe('internal');
    }
    expect(await env.superuser("SELECT rolname FROM pg_roles WHERE rolname IN ('orders_read', 'broker_admin') ORDER BY 1")).toHaveLength(2);
  });

  it('check(): the documented admin is minimal, a superuser is not, an admin without CREATEROLE is flagged', async () => {
    const all = unionRoleGrants([READ, WRITE]);
    const minimal = await env.connector.check(env.target(all));
    expect(minimal.reachable).toBe(true);
    expect(minimal.minimalPrivileges, minimal.details.join('\n')).toBe(true);
    expect(minimal.details).toEqual(
      expect.arrayContaining([
        'ok: broker_admin has CREATEROLE (required to create and drop grant roles)',
        'ok: broker_admin holds ADMIN OPTION on orders_read',
        'ok: broker_admin holds ADMIN OPTION on orders_write',
        'ok: the server checks passwords (a login with a wrong password was refused with 28P01)',
      ]),
    );

    const superTarget: ConnectorTarget = { ...env.target(all), connection: { url: makeSecret(env.cluster.superuserUrl.replace(/\/postgres$/, '/orders'), 'env:SU') } };
    const superuser = await env.connector.check(superTarget);
    expect(superuser.minimalPrivileges).toBe(false);
    expect(superuser.details).toContain('excess: postgres has SUPERUSER (CREATEROLE suffices; a superuser can do anything on the server)');

    await env.superuser("CREATE ROLE weak_admin LOGIN PASSWORD 'weak-admin-pw'");
    extraRoles.push('weak_admin');
    const weakTarget: ConnectorTarget = { ...env.target(all), connection: { url: env.cluster.urlFor('weak_admin', 'weak-admin-pw', 'orders') } };
    const weak = await env.connector.check(weakTarget);
    expect(weak.minimalPrivileges).toBe(false);
    expect(weak.details).toContain('missing: weak_admin lacks CREATEROLE (required to create and drop grant roles)');
    expect(weak.details).toContain('note: weak_admin lacks ADMIN OPTION on orders_read (CREATEROLE suffices on PostgreSQL 15; required on 16+)');
    expect((await env.connector.check({ ...env.target({ memberOf: ['no_such_role'] }) })).details).toContain('missing: role no_such_role (listed in memberOf) does not exist');
  });

  it.skipIf(process.env.STINT_TEST_POSTGRES_URL !== undefined)(
    'check() warns when the server does not ask for passwords (the shared test server trusts 127.0.0.1)',
    async () => {
      const connector = createPostgresConnector();
      try {
        const url = new URL(ADMIN_POSTGRES_URL);
        const result = await connector.check({ name: 'shared', connector: 'postgres', connection: { url: url.href }, roleGrants: {} });
        expect(result.reachable).toBe(true);
        expect(result.minimalPrivileges).toBe(false);
        expect(result.details.some((d) => d.startsWith('warning:') && d.includes('NOT enforced'))).toBe(true);
      } finally {
        await connector.close();
      }
    },
  );

  it('reconcile reports standing privilege: LOGIN roles holding a handed-out role directly or through others', async () => {
    await env.superuser(`
      CREATE ROLE reporting NOLOGIN IN ROLE orders_read;
      CREATE ROLE legacy_app LOGIN IN ROLE reporting;
      CREATE ROLE direct_app LOGIN IN ROLE orders_write;
      CREATE ROLE group_only NOLOGIN IN ROLE orders_read;`);
    extraRoles.push('reporting', 'legacy_app', 'direct_app', 'group_only');
    const live = await provision(READ);
    const report = await env.connector.reconcile(env.target(unionRoleGrants([READ, WRITE])), new Set([live.grant.id]), { dryRun: true });
    expect(report.standing.map((s) => [s.name, s.holds])).toEqual([
      ['direct_app', 'orders_write'],
      ['legacy_app', 'orders_read'],
    ]);
    expect(report.standing[0]?.detail).toBe('LOGIN role direct_app is a member of orders_write; no grant backs it');
    expect(report.standing[1]?.detail).toBe('LOGIN role legacy_app holds orders_read through other roles; no grant backs it');
    expect(report.orphans).toEqual([]);
  });

  it("reconcile leaves another target's roles alone and treats an unnoted stint_ role as an orphan", async () => {
    const other = await provision(READ, {}, env.target(READ, 'other-db'));
    const stray = `stint_${newGrantId()}`;
    await env.superuser(`CREATE ROLE ${stray} LOGIN VALID UNTIL 'infinity'`);
    extraRoles.push(stray);
    const mine = await env.connector.reconcile(env.target(READ), new Set(), { dryRun: false });
    expect(mine.orphans.map((o) => o.name)).toEqual([stray]);
    expect(mine.orphans[0]?.detail).toBe(`role ${stray} (LOGIN, no expiry) has no live grant; it carries no Stint note`);
    expect(mine.removed).toEqual([stray]);
    expect(await roleRow(String(other.recipe.data.name))).toBeDefined();
    const theirs = await env.connector.reconcile(env.target(READ, 'other-db'), new Set(), { dryRun: false });
    expect(theirs.removed).toEqual([other.recipe.data.name]);
  });

  it('provisions and revokes 100 grants, each proven dead (latency logged)', async () => {
    const target = env.target(READ);
    const provisionMs: number[] = [];
    const revokeMs: number[] = [];
    for (let i = 0; i < 100; i += 1) {
      const grant = grantFixture(target.name, 'read');
      const recipe = env.connector.plan(grant, target);
      made.push({ recipe, target });
      let t = performance.now();
      const credential = await env.connector.provision(grant, target, recipe);
      provisionMs.push(performance.now() - t);
      t = performance.now();
      await env.connector.revoke(recipe, target);
      const evidence = await env.connector.verifyRevoked(recipe, target, credential);
      revokeMs.push(performance.now() - t);
      expect(evidence.verified, JSON.stringify(evidence)).toBe(true);
    }
    const pct = (xs: number[], p: number): string => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!.toFixed(1);
    console.log(
      `postgres connector over 100 grants: provision p50 ${pct(provisionMs, 50)} ms, p99 ${pct(provisionMs, 99)} ms; ` +
        `revoke+verify p50 ${pct(revokeMs, 50)} ms, p99 ${pct(revokeMs, 99)} ms`,
    );
  });
});
