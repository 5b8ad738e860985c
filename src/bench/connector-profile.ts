/**
 * Where revocation time goes, measured when the revocation-lag goal fails (issue #3 item 10).
 * Each run makes `roles` grant roles directly (named like the broker's, members of the bench's
 * privileged role) and revokes them the way the expiry worker does, without the broker: the
 * connector's batch path, `revokeMany` for all of them, then `verifyRevokedMany` with the issued
 * password. The runs vary the number of parallel login attempts (the connector's
 * `loginConcurrency`, default 8) and whether the proof tries a login at all.
 *
 * Two floors next to them, with no revocation at all: `roles` login attempts for roles that do
 * not exist, through the same login function the proof uses, on 8 parallel
 * connections. A real login attempt costs the server a backend process (fork, authentication,
 * exit) each, which on 2 cores is what bounds the proof of 1,000 credentials.
 */
import { randomBytes } from 'node:crypto';
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
  readonly client: 'pg.Client';
  readonly lanes: number;
  readonly attempts: number;
  readonly totalMs: number;
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

/** `attempts` refused logins (roles that do not exist) on {@link FLOOR_LANES} connections. */
async function loginFloor(targets: ConnectorTargets, client: LoginFloor['client'], attempts: number): Promise<LoginFloor> {
  const url = new URL(targets.postgresAdminUrl);
  url.username = '';
  url.password = '';
  const lanes = new Limiter(FLOOR_LANES);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: attempts }, (_, i) =>
      lanes.run(async () => {
        const outcome = await tryLogin(url.href, `stint_nobody_${i}`, 'no-password', 5_000);
        if (outcome.kind !== 'refused') throw new Error(`a login attempt for a missing role was not refused (${outcome.kind})`);
      }),
    ),
  );
  return { client, lanes: FLOOR_LANES, attempts, totalMs: performance.now() - started };
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
    const floors = [await loginFloor(targets, 'pg.Client', roles)];
    return { runs, floors };
  } finally {
    await close();
  }
}
