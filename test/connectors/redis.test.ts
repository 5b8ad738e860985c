/**
 * The Redis ACL connector against the real Redis on 127.0.0.1:6379 (issue #3). The connector
 * runs as a broker user created from the exact documented ACL line (BROKER_ACL_SETUSER, which
 * the docs must contain verbatim), never as the `default` superuser; the superuser only sets up
 * and cleans up. Every ACL user and key carries this run's random prefix and is removed in
 * afterAll, even when a test failed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StintError } from '../../src/core/errors.js';
import type { Grant, RevocationRecipe } from '../../src/core/grant.js';
import { makeSecret } from '../../src/config/secret.js';
import { ManualClock } from '../../src/ports/clock.js';
import type { ConnectorTarget, IssuedCredential } from '../../src/ports/connector.js';
import {
  BROKER_ACL_SETUSER,
  aclRuleProblem,
  createRedisConnector,
  grantIdFromName,
  parseRedisConnection,
  parseRedisGrants,
  type RedisConnector,
} from '../../src/adapters/connector-redis/index.js';
import { REPO_ROOT } from '../helpers/broker.js';
import { describeConnectorConformance, type ClientSession } from './conformance.js';
import { grantFixture } from './grant-fixture.js';

const HOST = '127.0.0.1';
const PORT = 6379;
const RUN = randomBytes(4).toString('hex');
const ADMIN = `stint-admin-${RUN}`;
const ADMIN_PASSWORD = randomBytes(24).toString('base64url');
const ADMIN_URL = `redis://${ADMIN}:${ADMIN_PASSWORD}@${HOST}:${PORT}`;
const ORDERS = `t${RUN}:orders:1`;
const PAYMENTS = `t${RUN}:payments:1`;
const READ_RULES = [`~t${RUN}:orders:*`, '+@read', '-@dangerous'];

/** A RESP3 client that never reconnects (a connection killed by a revocation stays dead). */
function newClient(login: { username?: string; password?: string; url?: string } = {}) {
  const client = createClient({ socket: { host: HOST, port: PORT, reconnectStrategy: false, connectTimeout: 2000 }, RESP: 3, disableClientInfo: true, ...login });
  client.on('error', () => undefined);
  return client;
}
type Client = ReturnType<typeof newClient>;
const superuser: Client = newClient();
/** ACL users (besides Stint's own `stint_` users, tracked through grant ids) this run created. */
const extraUsers = new Set<string>([ADMIN]);
const grantIds = new Set<string>();
const openClients: Client[] = [];
const clock = new ManualClock();
let connector: RedisConnector;

/** A new grant whose ACL user afterAll removes. */
function grant(role = 'reader'): Grant {
  const g = grantFixture('cache', role);
  grantIds.add(g.id);
  return g;
}

function target(url: unknown = ADMIN_URL, rules: unknown = READ_RULES): ConnectorTarget {
  return { name: 'cache', connector: 'redis', connection: { url }, roleGrants: { rules } };
}

/** Runs the documented line (with this run's user name and password) as the superuser. */
async function createBrokerUser(name: string, password: string, extraRules: readonly string[] = []): Promise<void> {
  extraUsers.add(name);
  const args = BROKER_ACL_SETUSER.replace('stint-admin', name)
    .replace(/>\S+/u, `>${password}`)
    .split(' ');
  await superuser.sendCommand([...args, ...extraRules]);
}

/** A client logged in with an issued credential. */
async function loginWith(credential: IssuedCredential): Promise<Client> {
  const client = newClient({ username: credential.username!, password: credential.password! });
  openClients.push(client);
  await client.connect();
  return client;
}

async function userExists(name: string): Promise<boolean> {
  return (await superuser.sendCommand(['ACL', 'GETUSER', name])) !== null;
}

async function connectionsOf(name: string): Promise<number> {
  const list = (await superuser.sendCommand(['CLIENT', 'LIST'])) as string;
  return list.split('\n').filter((line) => line.split(' ').includes(`user=${name}`)).length;
}

async function provisioned(role = 'reader'): Promise<{ grant: Grant; recipe: RevocationRecipe; credential: IssuedCredential }> {
  const g = grant(role);
  const recipe = connector.plan(g, target());
  const credential = await connector.provision(g, target(), recipe);
  return { grant: g, recipe, credential: credential! };
}

function expectNoSecret(text: string, secrets: readonly string[]): void {
  for (const secret of secrets) expect(text).not.toContain(secret);
}

async function expectTargetUnavailable(p: Promise<unknown>, secrets: readonly string[]): Promise<StintError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(StintError);
  const err = e as StintError;
  expect(err.code).toBe('target_unavailable');
  expectNoSecret(`${err.message} ${err.detail} ${err.internalReason ?? ''} ${JSON.stringify(err)} ${String(err.cause ?? '')}`, secrets);
  return err;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

beforeAll(async () => {
  await superuser.connect();
  await createBrokerUser(ADMIN, ADMIN_PASSWORD);
  await superuser.sendCommand(['SET', ORDERS, 'order-1']);
  await superuser.sendCommand(['SET', PAYMENTS, 'payment-1']);
  connector = createRedisConnector({ clock, connectTimeoutMs: 2000 });
});

afterAll(async () => {
  for (const client of openClients) {
    try {
      client.destroy();
    } catch {
      // already closed (killed by a revocation)
    }
  }
  await connector?.close();
  for (const id of grantIds) await superuser.sendCommand(['ACL', 'DELUSER', `stint_${id}`]);
  for (const name of extraUsers) await superuser.sendCommand(['ACL', 'DELUSER', name]);
  await superuser.sendCommand(['DEL', ORDERS, PAYMENTS]);
  await superuser.close();
});

describe('redis connector: configuration', () => {
  it('accepts command, key, channel and selector rules', () => {
    for (const rule of ['+get', '-@dangerous', '+@read', '+config|get', '+json.get', '~orders:*', '%R~orders:*', '%RW~a:*', '&news:*', 'allkeys', 'resetkeys', 'allchannels', 'allcommands', 'nocommands', '(~b:* +get)', 'clearselectors']) {
      expect(aclRuleProblem(rule), rule).toBeUndefined();
    }
  });

  it('refuses every rule that touches the password or the enabled flag, and anything unknown', () => {
    for (const rule of ['on', 'off', 'ON', 'nopass', '>secret', '<secret', '#abc', '!abc', 'resetpass', 'reset', 'skip-sanitize-payload', 'sanitize-payload', '(+get nopass)', '(+get >pw)', '((~a +get))', '()', '~', '~a b', 'allkeyz', '+get;', '']) {
      expect(aclRuleProblem(rule), rule).toBeDefined();
    }
    expect(() => parseRedisGrants({ rules: ['+@read', 'nopass'] }, 'targets.cache.roles.reader.grants')).toThrow(
      /targets\.cache\.roles\.reader\.grants\.rules\[1\]: .*password/u,
    );
    expect(() => parseRedisGrants({ rules: [] }, 'p')).toThrow(/non-empty/u);
    expect(() => parseRedisGrants({ rules: '+@read' }, 'p')).toThrow(/non-empty/u);
    expect(() => parseRedisGrants({ rules: ['+@read'], extra: 1 }, 'p')).toThrow(/p\.extra: unknown key/u);
  });

  it('parses the admin URL (string or Secret) and never puts it into an error', () => {
    const parsed = parseRedisConnection({ url: makeSecret('rediss://admin:p%40ss@[::1]:6380', 'env:REDIS_URL') }, 'targets.cache.connection');
    expect(parsed).toMatchObject({ host: '::1', port: 6380, tls: true, username: 'admin', password: 'p@ss' });
    expect(parseRedisConnection({ url: 'redis://h' }, 'c')).toMatchObject({ host: 'h', port: 6379, tls: false });
    for (const url of ['http://u:hunter2secret@h', 'redis://u:hunter2secret@h/3', 'redis://u:hunter2secret@h?x=1', 'not a url hunter2secret', 42]) {
      let err: unknown;
      try {
        parseRedisConnection({ url }, 'targets.cache.connection');
      } catch (e) {
        err = e;
      }
      expect(err, String(url)).toBeInstanceOf(StintError);
      expect((err as StintError).code).toBe('config_invalid');
      expect((err as StintError).detail).toMatch(/^targets\.cache\.connection\.url: /u);
      expect((err as StintError).detail).not.toContain('hunter2secret');
    }
    expect(() => parseRedisConnection({ url: ADMIN_URL, host: 'x' }, 'c')).toThrow(/c\.host: unknown key/u);
  });

  it('plans without I/O: the recipe names stint_<grantId>, carries the rules and no secret', () => {
    const g = grant();
    const recipe = connector.plan(g, target());
    expect(recipe).toEqual({ connector: 'redis', target: 'cache', data: { name: `stint_${g.id}`, rules: READ_RULES } });
    expect(grantIdFromName(`stint_${g.id}`)).toBe(g.id);
    expect(grantIdFromName('stint_admin')).toBeUndefined();
    expect(JSON.stringify(recipe)).not.toContain(ADMIN_PASSWORD);
    // A role that tries to hand out a password-less user is refused before anything is committed.
    expect(() => connector.plan(g, target(ADMIN_URL, ['+@read', 'nopass']))).toThrow(/targets\.cache\.roles\.reader\.grants\.rules\[1\]/u);
  });

  it('documents exactly the broker ACL line the tests use', () => {
    const text = readFileSync(join(REPO_ROOT, 'docs', 'connectors.md'), 'utf8');
    const redis = text.slice(text.indexOf('\n## Redis\n'));
    expect(redis).toContain(`\n${BROKER_ACL_SETUSER}\n`);
  });
});

describe('redis connector: credentials on the real server', () => {
  it('issues a credential that works only for what the role allows', async () => {
    const { credential } = await provisioned();
    expect(credential.username).toMatch(/^stint_g[0-9a-f]{32}$/u);
    expect(credential.password!.length).toBeGreaterThanOrEqual(32); // 24 random bytes = 192 bits
    expect(credential.url).toBe(`redis://${credential.username}:${credential.password}@${HOST}:${PORT}`);
    const client = await loginWith(credential);
    expect(await client.sendCommand(['GET', ORDERS])).toBe('order-1');
    await expect(client.sendCommand(['GET', PAYMENTS])).rejects.toThrow(/NOPERM/u);
    await expect(client.sendCommand(['SET', ORDERS, 'changed'])).rejects.toThrow(/NOPERM/u);
    await expect(client.sendCommand(['FLUSHALL'])).rejects.toThrow(/NOPERM/u);
    // The password was set as a SHA-256 hash; the server holds exactly that hash.
    const user = (await superuser.sendCommand(['ACL', 'GETUSER', credential.username!])) as { passwords: string[] };
    expect(user.passwords).toEqual([createHash('sha256').update(credential.password!).digest('hex')]);
    // The convenience URL logs in too.
    const viaUrl = newClient({ url: credential.url! });
    openClients.push(viaUrl);
    await viaUrl.connect();
    expect(await viaUrl.sendCommand(['GET', ORDERS])).toBe('order-1');
  });

  it('revocation closes a connection opened before it, and the next login fails', async () => {
    const { recipe, credential } = await provisioned();
    const client = await loginWith(credential);
    expect(await client.sendCommand(['GET', ORDERS])).toBe('order-1');
    expect(await connectionsOf(credential.username!)).toBe(1);
    await connector.revoke(recipe, target());
    await expect(client.sendCommand(['GET', ORDERS])).rejects.toThrow();
    expect(await connectionsOf(credential.username!)).toBe(0);
    expect(await userExists(credential.username!)).toBe(false);
    await expect(loginWith(credential)).rejects.toThrow(/WRONGPASS/u);
  });

  it('revoking twice, or revoking what was never provisioned, is harmless', async () => {
    const { recipe, credential } = await provisioned();
    await connector.revoke(recipe, target());
    await connector.revoke(recipe, target());
    expect(await userExists(credential.username!)).toBe(false);
    const never = connector.plan(grant(), target());
    await connector.revoke(never, target());
    const evidence = await connector.verifyRevoked(never, target());
    expect(evidence.verified).toBe(true);
  });

  it('extend confirms the credential still exists (Redis has no expiry to move)', async () => {
    const { recipe } = await provisioned();
    await connector.extend(recipe, target(), Date.now() + 60_000);
    await connector.revoke(recipe, target());
    const e = await connector.extend(recipe, target(), Date.now() + 60_000).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(StintError);
    expect((e as StintError).code).toBe('target_unavailable');
    expect((e as StintError).detail).toMatch(/no ACL user stint_g/u);
  });

  it('verifyRevoked fails while the credential lives and passes once it is revoked, without secrets', async () => {
    const { recipe, credential } = await provisioned();
    await loginWith(credential);
    const secrets = [credential.password!, createHash('sha256').update(credential.password!).digest('hex'), ADMIN_PASSWORD];
    const before = await connector.verifyRevoked(recipe, target(), credential);
    expect(before.verified).toBe(false);
    expect(before.checks.map((c) => [c.check, c.passed])).toEqual([
      ['login', false],
      ['connections', false],
      ['user', false],
    ]);
    expectNoSecret(JSON.stringify(before), secrets);
    await connector.revoke(recipe, target());
    clock.advance(1000);
    const after = await connector.verifyRevoked(recipe, target(), credential);
    expect(after).toMatchObject({ verified: true, at: clock.now() });
    expect(after.checks.map((c) => [c.check, c.passed])).toEqual([
      ['login', true],
      ['connections', true],
      ['user', true],
    ]);
    expect(after.checks[0]!.detail).toMatch(/WRONGPASS/u);
    expectNoSecret(JSON.stringify(after), secrets);
  });

  it('provisioning the same recipe again replaces the password and drops connections made with the old one', async () => {
    const g = grant();
    const recipe = connector.plan(g, target());
    const first = (await connector.provision(g, target(), recipe))!;
    const early = await loginWith(first);
    const second = (await connector.provision(g, target(), recipe))!;
    expect(second.username).toBe(first.username);
    expect(second.password).not.toBe(first.password);
    await expect(early.sendCommand(['GET', ORDERS])).rejects.toThrow();
    await expect(loginWith(first)).rejects.toThrow(/WRONGPASS/u);
    const client = await loginWith(second);
    expect(await client.sendCommand(['GET', ORDERS])).toBe('order-1');
    const user = (await superuser.sendCommand(['ACL', 'GETUSER', second.username!])) as { passwords: string[]; keys: string };
    expect(user.passwords).toHaveLength(1);
    expect(user.keys).toBe(`~t${RUN}:orders:*`);
  });

  it('provisions and revokes 100 grants, each proven dead (latency in the log)', async () => {
    const provisionMs: number[] = [];
    const revokeMs: number[] = [];
    const verifyMs: number[] = [];
    const issued: { recipe: RevocationRecipe; credential: IssuedCredential }[] = [];
    for (let i = 0; i < 100; i += 1) {
      const g = grant();
      const recipe = connector.plan(g, target());
      const t0 = performance.now();
      const credential = (await connector.provision(g, target(), recipe))!;
      provisionMs.push(performance.now() - t0);
      issued.push({ recipe, credential });
    }
    for (const { recipe, credential } of issued) {
      const t0 = performance.now();
      await connector.revoke(recipe, target());
      revokeMs.push(performance.now() - t0);
      const t1 = performance.now();
      expect((await connector.verifyRevoked(recipe, target(), credential)).verified).toBe(true);
      verifyMs.push(performance.now() - t1);
    }
    for (const xs of [provisionMs, revokeMs, verifyMs]) xs.sort((a, b) => a - b);
    const fmt = (xs: number[]): string => `p50 ${percentile(xs, 50).toFixed(2)} ms, p99 ${percentile(xs, 99).toFixed(2)} ms`;
    // Informational only: tests never assert on wall-clock time; the speed goal is measured by
    // the bench (BENCH_ONLY=connectors), which compares it with a reference from the same run.
    console.log(`redis connector over 100 grants: provision ${fmt(provisionMs)}; revoke ${fmt(revokeMs)}; verifyRevoked ${fmt(verifyMs)}`);
    for (const { credential } of issued) expect(await userExists(credential.username!)).toBe(false);
  });
});

describe('redis connector: reconcile', () => {
  it('finds orphans (dry run removes nothing), removes them, and reports standing privilege', async () => {
    const orphan = await provisioned();
    const live = await provisioned();
    const standing = `standing-${RUN}`;
    const disabled = `disabled-${RUN}`;
    extraUsers.add(standing).add(disabled);
    await superuser.sendCommand(['ACL', 'SETUSER', standing, 'reset', 'on', `>${randomBytes(16).toString('hex')}`, `~t${RUN}:*`, '+@all']);
    await superuser.sendCommand(['ACL', 'SETUSER', disabled, 'reset', 'off', '~*', '+@all']);
    // Other Stint users on this shared server (other test runs) count as live here.
    const all = (await superuser.sendCommand(['ACL', 'USERS'])) as string[];
    const liveIds = new Set(all.map(grantIdFromName).filter((id): id is string => id !== undefined && id !== orphan.grant.id));
    expect(liveIds.has(live.grant.id)).toBe(true);

    const dry = await connector.reconcile!(target(), liveIds, { dryRun: true });
    expect(dry.orphans).toEqual([expect.objectContaining({ name: orphan.credential.username, grantId: orphan.grant.id })]);
    expect(dry.removed).toEqual([]);
    expect(await userExists(orphan.credential.username!)).toBe(true);

    const standingNames = dry.standing.map((s) => s.name);
    expect(standingNames).toContain(standing);
    expect(standingNames).toContain('default');
    expect(standingNames).not.toContain(disabled);
    expect(standingNames).not.toContain(ADMIN);
    expect(standingNames.some((n) => n.startsWith('stint_'))).toBe(false);
    expect(dry.standing.find((s) => s.name === 'default')!.detail).toMatch(/nopass/u);
    expect(dry.standing.find((s) => s.name === standing)!.holds).toBe(`~t${RUN}:* +@all`);
    expect(JSON.stringify(dry)).not.toMatch(/[0-9a-f]{64}/u); // no password hash leaks into the report

    const client = await loginWith(orphan.credential);
    const real = await connector.reconcile!(target(), liveIds, { dryRun: false });
    expect(real.removed).toEqual([orphan.credential.username]);
    expect(await userExists(orphan.credential.username!)).toBe(false);
    await expect(client.sendCommand(['GET', ORDERS])).rejects.toThrow();
    expect(await userExists(live.credential.username!)).toBe(true);
  });
});

describe('redis connector: the broker user and unreachable targets', () => {
  it('check() calls the documented broker user minimal and the default superuser not', async () => {
    const minimal = await connector.check!(target());
    expect(minimal.reachable).toBe(true);
    expect(minimal.minimalPrivileges).toBe(true);
    expect(minimal.details.join('\n')).not.toMatch(/missing/u);

    const root = await connector.check!(target(`redis://${HOST}:${PORT}`));
    expect(root.reachable).toBe(true);
    expect(root.minimalPrivileges).toBe(false);
    const findings = root.details.join('\n');
    expect(findings).toMatch(/\+@all/u);
    expect(findings).toMatch(/key access ~\*/u);
    expect(findings).toMatch(/nopass/u);
  });

  it('check() flags key access, extra commands and missing ones on an otherwise documented user', async () => {
    const name = `stint-admin-wide-${RUN}`;
    const password = randomBytes(24).toString('base64url');
    await createBrokerUser(name, password, ['~*', '+get', '-acl|deluser']);
    const wide = await connector.check!(target(`redis://${name}:${password}@${HOST}:${PORT}`));
    expect(wide.reachable).toBe(true);
    expect(wide.minimalPrivileges).toBe(false);
    const findings = wide.details.join('\n');
    expect(findings).toMatch(/\+get/u);
    expect(findings).toMatch(/key access ~\*/u);
    expect(findings).toMatch(/missing \+acl\|deluser: revocation fails/u);
    expectNoSecret(findings, [password]);
  });

  it('a down target fails fast with target_unavailable and no secret in any message', async () => {
    const secret = 'Sup3rSecretAdminPassw0rd';
    const down = target(`redis://stint-admin:${secret}@127.0.0.1:1`);
    const g = grant();
    const recipe = connector.plan(g, down);
    // Fail fast = the refused connection is reported as such (no reconnect loop, no waiting for
    // a deadline): the reason names ECONNREFUSED.
    for (const attempt of [
      () => connector.provision(g, down, recipe),
      () => connector.revoke(recipe, down),
      () => connector.verifyRevoked(recipe, down, { username: 'stint_x', password: secret }),
      () => connector.reconcile!(down, new Set(), { dryRun: true }),
    ]) {
      const err = await expectTargetUnavailable(attempt(), [secret]);
      expect(err.detail).toMatch(/could not be reached/u);
      expect(err.internalReason).toMatch(/ECONNREFUSED/u);
    }
    const check = await connector.check!(down);
    expect(check).toMatchObject({ reachable: false, minimalPrivileges: false });
    expectNoSecret(JSON.stringify(check), [secret]);
  });

  it('a target that accepts connections but never answers: each operation gives up at the connect deadline, after one attempt', async () => {
    // A listener that accepts and stays silent (a hung server, a black-holed proxy). The
    // deadline is the connector's option; what is checked is that it is the deadline that ends
    // each operation (ConnectDeadlineError) and that nothing reconnects behind the caller's back.
    const sockets = new Set<net.Socket>();
    let attempts = 0;
    const silent = net.createServer((socket) => {
      attempts += 1;
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, HOST, () => resolve()));
    const port = (silent.address() as net.AddressInfo).port;
    const hung = createRedisConnector({ connectTimeoutMs: 50, clock });
    try {
      const down = target(`redis://stint-admin:${ADMIN_PASSWORD}@${HOST}:${port}`);
      const recipe = hung.plan(grant(), down);
      const revokeError = await expectTargetUnavailable(hung.revoke(recipe, down), [ADMIN_PASSWORD]);
      expect(revokeError.internalReason).toMatch(/connect did not complete within 50 ms/u);
      expect(attempts).toBe(1);
      const verifyError = await expectTargetUnavailable(hung.verifyRevoked(recipe, down, { username: 'stint_x', password: 'x-password' }), [ADMIN_PASSWORD, 'x-password']);
      expect(verifyError.internalReason).toMatch(/connect did not complete within 50 ms/u);
      expect(attempts).toBe(2);
      const [batch] = await hung.revokeMany([recipe], { ...down, roleGrants: {} });
      expect(batch?.ok).toBe(false);
      expect(attempts).toBe(3);
    } finally {
      await hung.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('a wrong admin password is refused without echoing it', async () => {
    const wrong = 'WrongAdminPassw0rdValue';
    const err = await expectTargetUnavailable(connector.revoke(connector.plan(grant(), target()), target(`redis://${ADMIN}:${wrong}@${HOST}:${PORT}`)), [wrong, ADMIN_PASSWORD]);
    expect(err.detail).toMatch(/refused LOGIN \(WRONGPASS\)/u);
  });

  it('an admin connection that died is replaced on the next command', async () => {
    const { recipe } = await provisioned();
    // Kill the broker's own connection from the server side, as a Redis restart would.
    await superuser.sendCommand(['CLIENT', 'KILL', 'USER', ADMIN]);
    expect(await connectionsOf(ADMIN)).toBe(0);
    await connector.revoke(recipe, target());
    expect(await userExists(String(recipe.data.name))).toBe(false);
  });
});

/**
 * A TCP proxy in front of the shared Redis: stopping it is a real outage for the connector
 * (connections refused, open ones cut) without stopping a server other tests use.
 */
class OutageProxy {
  private server = net.createServer((downstream) => this.pipe(downstream));
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  private pipe(downstream: net.Socket): void {
    const upstream = net.connect(PORT, HOST);
    for (const s of [downstream, upstream]) {
      this.sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        this.sockets.delete(s);
        downstream.destroy();
        upstream.destroy();
      });
    }
    downstream.pipe(upstream).pipe(downstream);
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, HOST, () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
    this.server = net.createServer((downstream) => this.pipe(downstream));
  }
}

const proxy = new OutageProxy();
const DOWN_SECRET = randomBytes(16).toString('hex');
const DOWN_URL = `redis://stint-admin:${DOWN_SECRET}@127.0.0.1:1`;
let proxiedUrl = '';

describeConnectorConformance('redis', {
  // Records every planned grant so afterAll removes its user even when a revoke is broken.
  get connector() {
    return {
      ...connector,
      plan: (g: Grant, t: ConnectorTarget): RevocationRecipe => {
        grantIds.add(g.id);
        return connector.plan(g, t);
      },
    };
  },
  get target() {
    return { name: 'cache', connector: 'redis', connection: { url: proxiedUrl }, roleGrants: { rules: READ_RULES } };
  },
  roleName: 'reader',
  unreachableTarget: { name: 'cache-down', connector: 'redis', connection: { url: DOWN_URL }, roleGrants: { rules: READ_RULES } },
  get adminSecrets() {
    return [ADMIN_PASSWORD, ADMIN_URL, proxiedUrl, DOWN_SECRET, DOWN_URL];
  },
  async connect(credential: IssuedCredential): Promise<ClientSession> {
    const client = await loginWith(credential);
    return {
      async runAllowed() {
        expect(await client.sendCommand(['GET', ORDERS])).toBe('order-1');
      },
      async runForbidden() {
        await client.sendCommand(['SET', ORDERS, 'changed']);
      },
      // HELLO is the one command Redis runs for any authenticated user without an ACL rule.
      async runUnprivileged() {
        await client.sendCommand(['HELLO', '3']);
      },
      async close() {
        client.destroy();
      },
    };
  },
  stopTarget: () => proxy.stop(),
  startTarget: () => proxy.start(),
  async setup() {
    await proxy.start();
    proxiedUrl = `redis://${ADMIN}:${ADMIN_PASSWORD}@${HOST}:${proxy.port}`;
  },
  async teardown() {
    await proxy.stop();
  },
});
