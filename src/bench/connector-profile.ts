/**
 * Where revocation time goes, measured when the revocation-lag goal fails (issue #3 item 10).
 * Each run makes `roles` grant roles directly (named like the broker's, members of the bench's
 * privileged role) and revokes them the way the expiry worker does, without the broker: 32
 * lanes (the worker's concurrency), each calling the connector's `revoke` then `verifyRevoked`.
 * The runs vary the connector's admin pool size (default 4) and whether the proof tries a
 * login. A last run revokes the same number of roles with batched statements on one
 * connection (a few statements for all roles, instead of five per role): the fix proposed in
 * docs/benchmarks.md.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createPostgresConnector, roleNameFor } from '../adapters/connector-postgres/index.js';
import { createOrResetRole } from '../adapters/connector-postgres/provision.js';
import { scramSha256Verifier } from '../adapters/connector-postgres/scram.js';
import type { RevocationRecipe } from '../core/grant.js';
import type { ConnectorTarget } from '../ports/connector.js';
import { timeSortableId } from '../service/context.js';
import type { Cleanup } from './cleanup.js';
import type { ConnectorTargets } from './connector-targets.js';
import { summarizeLatency, type Latency } from './latency.js';
import { measureRate } from './measure.js';

/** The expiry worker's revocation lanes (src/service/worker.ts default). */
const WORKER_LANES = 32;

/** One configuration of the connector, revoking `roles` roles on 32 lanes. */
export interface ProfileRun {
  readonly poolSize: number;
  /** Whether the proof tried a login with the issued credential (the broker always does). */
  readonly login: boolean;
  readonly roles: number;
  /** First revoke started -> last proof done. */
  readonly totalMs: number;
  /** Per role, as the lanes saw it (includes waiting for a pool connection). */
  readonly revoke: Latency;
  readonly verify: Latency;
}

/** Batched direct revocation: all roles in a few statements on one connection. */
export interface BatchedRevocation {
  readonly roles: number;
  readonly totalMs: number;
  readonly perRoleMs: number;
}

/** Result of {@link profileRevocation}. */
export interface RevocationProfile {
  readonly runs: readonly ProfileRun[];
  readonly batched: BatchedRevocation;
}

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

/** Revokes `names` through a connector with `poolSize` admin connections, on 32 lanes. */
async function profileConnector(targets: ConnectorTargets, names: readonly string[], password: string, poolSize: number, login: boolean): Promise<ProfileRun> {
  const connector = createPostgresConnector({ poolSize });
  const target: ConnectorTarget = { name: 'bench-pg', connector: 'postgres', connection: { url: targets.postgresAdminUrl }, roleGrants: { memberOf: [targets.readRole] } };
  const revoke: number[] = [];
  const verify: number[] = [];
  try {
    const rate = await measureRate(names.length, WORKER_LANES, async (i) => {
      const name = names[i]!;
      const recipe: RevocationRecipe = { connector: 'postgres', target: 'bench-pg', data: { name, memberOf: [targets.readRole] } };
      const t0 = performance.now();
      await connector.revoke(recipe, target);
      const t1 = performance.now();
      const evidence = await connector.verifyRevoked(recipe, target, login ? { username: name, password } : undefined);
      verify.push(performance.now() - t1);
      revoke.push(t1 - t0);
      if (!evidence.verified) throw new Error(`the proof failed for ${name}: ${evidence.checks.map((c) => c.detail).join('; ')}`);
    });
    return { poolSize, login, roles: names.length, totalMs: rate.seconds * 1000, revoke: summarizeLatency(revoke), verify: summarizeLatency(verify) };
  } finally {
    await connector.close();
  }
}

/**
 * The revocation order of the connector (NOLOGIN, end sessions, REASSIGN/DROP OWNED, DROP ROLE)
 * for all roles at once: one statement batch per step, on one connection.
 */
async function revokeBatched(pool: pg.Pool, names: readonly string[]): Promise<BatchedRevocation> {
  const list = names.map((n) => pg.escapeIdentifier(n)).join(', ');
  const started = performance.now();
  const { rows } = await pool.query<{ oid: string }>('SELECT oid::text AS oid FROM pg_roles WHERE rolname = ANY($1)', [names]);
  await pool.query(`GRANT ${list} TO CURRENT_USER; ${names.map((n) => `ALTER ROLE ${pg.escapeIdentifier(n)} NOLOGIN`).join('; ')}`);
  const oids = rows.map((r) => r.oid);
  await pool.query('SELECT pg_terminate_backend(pid, 1000) FROM pg_stat_activity WHERE usesysid = ANY($1::oid[])', [oids]);
  await pool.query('SELECT count(*) FROM pg_stat_activity WHERE usesysid = ANY($1::oid[])', [oids]);
  await pool.query(`REASSIGN OWNED BY ${list} TO CURRENT_USER; DROP OWNED BY ${list}; DROP ROLE IF EXISTS ${list}`);
  const left = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_roles WHERE rolname = ANY($1)', [names]);
  const totalMs = performance.now() - started;
  if (left.rows[0]?.n !== 0) throw new Error('the batched revocation left roles behind');
  return { roles: names.length, totalMs, perRoleMs: totalMs / names.length };
}

/** Runs the profile with `roles` roles per configuration. */
export async function profileRevocation(targets: ConnectorTargets, cleanup: Cleanup, roles: number): Promise<RevocationProfile> {
  const pool = new pg.Pool({ connectionString: targets.postgresAdminUrl, max: 8 });
  pool.on('error', () => undefined);
  const close = cleanup.add('close the profile PostgreSQL pool', () => pool.end());
  try {
    const runs: ProfileRun[] = [];
    for (const { poolSize, login } of [
      { poolSize: 4, login: true },
      { poolSize: WORKER_LANES, login: true },
      { poolSize: WORKER_LANES, login: false },
    ]) {
      const { names, password } = await makeRoles(pool, targets, roles);
      runs.push(await profileConnector(targets, names, password, poolSize, login));
    }
    const { names } = await makeRoles(pool, targets, roles);
    return { runs, batched: await revokeBatched(pool, names) };
  } finally {
    await close();
  }
}
