/**
 * Where revocation time goes, measured when the revocation-lag goal fails (issue #3 item 10).
 * Each run makes `roles` grant roles directly (named like the broker's, members of the bench's
 * privileged role) and revokes them the way the expiry worker does, without the broker: the
 * connector's batch path, `revokeMany` for all of them, then `verifyRevokedMany` with the issued
 * password. The runs vary the number of parallel login attempts (the connector's
 * `loginConcurrency`, default 8) and whether the proof tries a login at all.
 *
 * Floors next to them, with no revocation at all: `roles` login attempts for roles that do not
 * exist, through the same login function the proof uses on 8 parallel connections, and as bare
 * protocol start-up messages (no driver: one StartupMessage and the server's ErrorResponse, as
 * in the PostgreSQL protocol 3.0 documentation, "Start-up") on 8 and 32 connections, with this process's CPU time
 * beside them. A real login attempt costs the server a backend process (fork, authentication,
 * exit) each, which on 2 cores is what bounds the proof of 1,000 credentials: the bare client
 * shows that it is the server's cost, not the driver's.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createPostgresConnector, roleNameFor } from '../adapters/connector-postgres/index.js';
import { tryLogin } from '../adapters/connector-postgres/login.js';
import { createOrResetRole } from '../adapters/connector-postgres/provision.js';
import { scramSha256Verifier } from '../adapters/connector-postgres/scram.js';
import type { RevocationRecipe } from '../core/grant.js';
import { Limiter } from '../core/limiter.js';
import type { ConnectorTarget } from '../ports/connector.js';
import { timeSortableId } from '../service/context.js';
import type { Cleanup } from './cleanup.js';
import type { ConnectorTargets } from './connector-targets.js';
import { summarizeLatency, type Latency } from './latency.js';
import { measureRate } from './measure.js';

/** One configuration of the connector's batch path over `roles` roles. */
export interface ProfileRun {
  /** Parallel login attempts (`loginConcurrency`). */
  readonly loginConcurrency: number;
  /** Whether the proof tried a login with the issued credential (the broker always does). */
  readonly login: boolean;
  readonly roles: number;
  /** Start -> `revokeMany` done (every role dropped, sessions ended). */
  readonly droppedMs: number;
  /** Per role: start -> its proof complete. */
  readonly proof: Latency;
}

/** Login attempts alone, for roles that do not exist. */
export interface LoginFloor {
  readonly client: 'pg.Client' | 'bare startup packet';
  readonly lanes: number;
  readonly attempts: number;
  readonly totalMs: number;
  /** CPU time of this process (user + system) during the attempts. */
  readonly clientCpuMs: number;
}

/** Result of {@link profileRevocation}. */
export interface RevocationProfile {
  readonly runs: readonly ProfileRun[];
  readonly floors: readonly LoginFloor[];
}

/** Parallel connections of the login floors (the connector's default). */
const FLOOR_LANES = 8;

/** Makes `count` grant-like roles directly (8 at a time); returns their names and shared password. */
async function makeRoles(pool: pg.Pool, targets: ConnectorTargets, count: number): Promise<{ names: string[]; password: string }> {
  const password = randomBytes(24).toString('base64url');
  const verifier = await scramSha256Verifier(password);
  const names = Array.from({ length: count }, () => roleNameFor(timeSortableId(Date.now())));
  await measureRate(count, 8, (i) =>
    createOrResetRole(pool, { name: names[i]!, memberOf: [targets.readRole], validUntil: Date.now() + 3_600_000, target: 'bench-pg', grantId: names[i]! }, verifier),
  );
  return { names, password };
}

/** Revokes `names` through the connector's batch methods; throws unless every proof passed. */
async function profileBatch(targets: ConnectorTargets, names: readonly string[], password: string, loginConcurrency: number, login: boolean): Promise<ProfileRun> {
  const connector = createPostgresConnector({ loginConcurrency });
  const target: ConnectorTarget = { name: 'bench-pg', connector: 'postgres', connection: { url: targets.postgresAdminUrl }, roleGrants: {} };
  const recipes: RevocationRecipe[] = names.map((name) => ({ connector: 'postgres', target: 'bench-pg', data: { name, memberOf: [targets.readRole] } }));
  try {
    const started = performance.now();
    const results = await connector.revokeMany(recipes, target);
    const droppedMs = performance.now() - started;
    if (results.some((r) => !r.ok)) throw new Error('revokeMany failed for some roles of the profile');
    const proofs = connector.verifyRevokedMany(
      recipes.map((recipe, i) => ({ recipe, ...(login ? { credential: { username: names[i]!, password } } : {}) })),
      target,
    );
    const doneAt = await Promise.all(
      proofs.map(async (p, i) => {
        const evidence = await p;
        if (!evidence.verified) throw new Error(`the proof failed for ${names[i]}: ${evidence.checks.map((c) => c.detail).join('; ')}`);
        return performance.now() - started;
      }),
    );
    return { loginConcurrency, login, roles: names.length, droppedMs, proof: summarizeLatency(doneAt) };
  } finally {
    await connector.close();
  }
}

/**
 * One login attempt as the bare protocol start-up: a StartupMessage (protocol 3.0) for `user`,
 * then the server's replies up to the first ErrorResponse ('E'), which is how a role that does
 * not exist ends (after AuthenticationOk under trust). Rejects if the login succeeds
 * (ReadyForQuery, 'Z') or the server asks for a password (this floor is for trust only).
 */
function bareStartupRefused(host: string, port: number, user: string, database: string): Promise<void> {
  const params = Buffer.from(`user\0${user}\0database\0${database}\0\0`, 'utf8');
  const message = Buffer.alloc(8 + params.length);
  message.writeInt32BE(message.length, 0);
  message.writeInt32BE(196_608, 4); // protocol version 3.0
  params.copy(message, 8);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true });
    const timer = setTimeout(() => socket.destroy(new Error('no reply within 5 s')), 5_000);
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error === undefined) resolve();
      else reject(error);
    };
    let pending = Buffer.alloc(0);
    socket.once('connect', () => socket.write(message));
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      // Each backend message: a type byte, then its length (itself included) as int32.
      while (pending.length >= 5) {
        const type = String.fromCharCode(pending[0]!);
        const length = pending.readInt32BE(1);
        if (pending.length < 1 + length) return;
        const body = pending.subarray(5, 1 + length);
        pending = pending.subarray(1 + length);
        if (type === 'E') return finish();
        if (type === 'Z') return finish(new Error(`the server let ${user} log in`));
        if (type === 'R' && body.readInt32BE(0) !== 0) return finish(new Error('the server asks for a password: the bare-packet floor needs trust authentication'));
      }
    });
    socket.once('error', (error) => finish(error));
    socket.once('close', () => finish(new Error('the server closed the connection without an ErrorResponse')));
  });
}

/** `attempts` refused logins (roles that do not exist) on `lanes` connections. */
async function loginFloor(targets: ConnectorTargets, client: LoginFloor['client'], attempts: number, lanesCount: number): Promise<LoginFloor> {
  const url = new URL(targets.postgresAdminUrl);
  url.username = '';
  url.password = '';
  const database = decodeURIComponent(url.pathname.slice(1)) || 'postgres';
  const attempt =
    client === 'pg.Client'
      ? async (user: string) => {
          const outcome = await tryLogin(url.href, user, 'no-password', 5_000);
          if (outcome.kind !== 'refused') throw new Error(`a login attempt for a missing role was not refused (${outcome.kind})`);
        }
      : (user: string) => bareStartupRefused(url.hostname, Number(url.port || 5432), user, database);
  const lanes = new Limiter(lanesCount);
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: attempts }, (_, i) => lanes.run(() => attempt(`stint_nobody_${i}`))));
  const totalMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { client, lanes: lanesCount, attempts, totalMs, clientCpuMs: (used.user + used.system) / 1000 };
}

/** Runs the profile with `roles` roles per configuration. */
export async function profileRevocation(targets: ConnectorTargets, cleanup: Cleanup, roles: number): Promise<RevocationProfile> {
  const pool = new pg.Pool({ connectionString: targets.postgresAdminUrl, max: 8 });
  pool.on('error', () => undefined);
  const close = cleanup.add('close the profile PostgreSQL pool', () => pool.end());
  try {
    const runs: ProfileRun[] = [];
    for (const { loginConcurrency, login } of [
      { loginConcurrency: 8, login: true },
      { loginConcurrency: 4, login: true },
      { loginConcurrency: 16, login: true },
      { loginConcurrency: 8, login: false },
    ]) {
      const { names, password } = await makeRoles(pool, targets, roles);
      runs.push(await profileBatch(targets, names, password, loginConcurrency, login));
    }
    const floors = [await loginFloor(targets, 'pg.Client', roles, FLOOR_LANES)];
    // The bare floors need a server that trusts the bench (the default here); elsewhere they are left out.
    for (const lanes of [FLOOR_LANES, 32]) {
      const bare = await loginFloor(targets, 'bare startup packet', roles, lanes).catch(() => undefined);
      if (bare !== undefined) floors.push(bare);
    }
    return { runs, floors };
  } finally {
    await close();
  }
}
