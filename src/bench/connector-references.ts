/**
 * The references of the connectors benchmark: the statements the connectors send, run directly
 * on the same servers as the same minimal admin users, with no broker around them.
 *
 * PostgreSQL: `createOrResetRole`, the connector's own statement code, on a single admin
 * connection, one role at a time. The SCRAM verifier is computed once, outside the timing (the
 * broker computes one per grant: that cost is part of Stint's figure). Revocation: `revokeRoles`
 * (the connector's batched statements, 200 roles per batch) on one admin connection, then one
 * login attempt per role with the same probe the proof uses (`tryLogin`) on the same number of
 * parallel connections: what the broker's revocation does on the target, without the broker.
 * Redis: `ACL SETUSER <user> reset on #<hash> <rules>` and `CLIENT KILL USER <user>`, the two
 * commands of a provisioning, through the same client library.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createOrResetRole } from '../adapters/connector-postgres/provision.js';
import { tryLogin } from '../adapters/connector-postgres/login.js';
import { revokeRoles } from '../adapters/connector-postgres/revoke.js';
import { Limiter } from '../core/limiter.js';
import { scramSha256Verifier } from '../adapters/connector-postgres/scram.js';
import { passwordHash } from '../adapters/connector-redis/credential.js';
import { discard } from '../adapters/connector-redis/open-client.js';
import type { Cleanup } from './cleanup.js';
import { openRedisAsBroker, type ConnectorTargets } from './connector-targets.js';
import { measureSequential, summarizeLatency, type Latency } from './latency.js';

/** The connector's revoke budget for sessions to end (its default). */
const TERMINATE_BUDGET_MS = 10_000;

/** Roles per statement batch, as the connector's default (`revokeBatchSize`). */
const REVOKE_BATCH = 200;
/** Parallel login attempts, as the connector's default (`loginConcurrency`). */
const LOGIN_LANES = 8;

/** Direct revocation of many roles: batched statements, then a login attempt per role. */
export interface DirectRevocation {
  readonly roles: number;
  /** Live sessions open on the roles when the revocation started. */
  readonly sessions: number;
  /** Start -> every role dropped (all statement batches done). */
  readonly droppedMs: number;
  /** Per role: start -> its login attempt refused. */
  readonly refused: Latency;
  /** Start -> the last login attempt refused. */
  readonly totalMs: number;
  readonly perRoleMs: number;
}

/** Reference PostgreSQL roles, created and revoked directly. */
export class DirectPostgresRoles {
  private readonly pool: pg.Pool;
  private readonly names: string[] = [];
  private readonly sessions: pg.Client[] = [];
  private verifier: string | undefined;

  constructor(
    private readonly targets: ConnectorTargets,
    cleanup: Cleanup,
  ) {
    this.pool = new pg.Pool({ connectionString: targets.postgresAdminUrl, max: 1 });
    this.pool.on('error', () => undefined);
    cleanup.add('close the reference PostgreSQL connection', () => this.close());
  }

  private async create(): Promise<void> {
    this.verifier ??= await scramSha256Verifier(randomBytes(24).toString('base64url'));
    const name = `bench_${this.targets.run}_ref_${this.names.length}`;
    this.names.push(name);
    const spec = { name, memberOf: [this.targets.readRole], validUntil: Date.now() + 3_600_000, target: 'bench-pg', grantId: name };
    await createOrResetRole(this.pool, spec, this.verifier);
  }

  /** Times `count` role creations (after `warmUp` untimed ones). */
  measureCreate(count: number, warmUp: number): Promise<Latency> {
    return measureSequential(count, warmUp, () => this.create());
  }

  /** Creates untimed roles until there are `total`. */
  async fill(total: number): Promise<void> {
    while (this.names.length < total) await this.create();
  }

  /** Opens a session as each of the first `count` roles (the server trusts 127.0.0.1). */
  async openSessions(count: number): Promise<void> {
    for (const name of this.names.slice(0, count)) {
      const url = new URL(this.targets.postgresAdminUrl);
      url.username = name;
      url.password = '';
      const client = new pg.Client({ connectionString: url.toString() });
      client.on('error', () => undefined);
      this.sessions.push(client);
      await client.connect();
      await client.query('SELECT item FROM orders WHERE id = 1');
    }
  }

  /**
   * Revokes every role with the connector's batched statements, then tries each one's login
   * (which must be refused); throws unless every role is gone and every attempt refused.
   */
  async revokeAll(): Promise<DirectRevocation> {
    const clientUrl = new URL(this.targets.postgresAdminUrl);
    clientUrl.username = '';
    clientUrl.password = '';
    const lanes = new Limiter(LOGIN_LANES);
    const refusedAt: number[] = [];
    const started = performance.now();
    for (let at = 0; at < this.names.length; at += REVOKE_BATCH) {
      const errors = await revokeRoles(this.pool, this.names.slice(at, at + REVOKE_BATCH), TERMINATE_BUDGET_MS);
      if (errors.some((e) => e !== undefined)) throw new Error('the direct batched revocation failed for some roles');
    }
    const droppedMs = performance.now() - started;
    await Promise.all(
      this.names.map((name) =>
        lanes.run(async () => {
          const outcome = await tryLogin(clientUrl.href, name, 'not-the-password', 5_000);
          if (outcome.kind !== 'refused') throw new Error(`the direct login attempt as ${name} was not refused (${outcome.kind})`);
          refusedAt.push(performance.now() - started);
        }),
      ),
    );
    const totalMs = performance.now() - started;
    return { roles: this.names.length, sessions: this.sessions.length, droppedMs, refused: summarizeLatency(refusedAt), totalMs, perRoleMs: totalMs / this.names.length };
  }

  async close(): Promise<void> {
    await Promise.all(this.sessions.splice(0).map((c) => c.end().catch(() => undefined)));
    await this.pool.end().catch(() => undefined);
  }
}

/** Times `count` direct provisionings of Redis ACL users as the broker's user, then deletes them. */
export async function measureDirectRedisProvision(targets: ConnectorTargets, count: number, warmUp: number): Promise<Latency> {
  const redis = await openRedisAsBroker(targets);
  const users: string[] = [];
  try {
    const latency = await measureSequential(count, warmUp, async (i) => {
      const user = `bench-${targets.run}-ref-${i}`;
      users.push(user);
      const hash = passwordHash(randomBytes(24).toString('base64url'));
      await redis.sendCommand(['ACL', 'SETUSER', user, 'reset', 'on', `#${hash}`, ...targets.redisRules]);
      await redis.sendCommand(['CLIENT', 'KILL', 'USER', user]);
    });
    for (const user of users) await redis.sendCommand(['ACL', 'DELUSER', user]);
    return latency;
  } finally {
    discard(redis);
  }
}
