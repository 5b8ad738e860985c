/**
 * The real targets of the connectors benchmark, set up exactly as docs/connectors.md tells an
 * operator to, with this run's random names, and removed when the benchmark ends (also on
 * failure: everything is registered with the workspace's `Cleanup`).
 *
 * PostgreSQL (127.0.0.1:5432, superuser `postgres`): a fresh database `stint_bench_<r>` with one
 * table, the privileged role `bench_<r>_read` (SELECT on it) and the broker's admin role
 * `bench_<r>_admin` with the documented minimum for PostgreSQL 15: `LOGIN CREATEROLE` and the
 * privileged role `WITH ADMIN OPTION`. Redis (127.0.0.1:6379, its `default` user): the broker's
 * ACL user from the documented line (`BROKER_ACL_SETUSER`) with a random password.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { BROKER_ACL_SETUSER } from '../adapters/connector-redis/index.js';
import { discard, openClient, type RedisClient } from '../adapters/connector-redis/open-client.js';
import type { Cleanup } from './cleanup.js';
import { ADMIN_POSTGRES_URL, createBenchDatabase } from './setup.js';

/** Where the bench Redis runs (the shared server of this machine). */
const REDIS = { host: '127.0.0.1', port: 6379, tls: false } as const;
const CONNECT_TIMEOUT_MS = 5_000;

/** This run's targets: admin URLs for the broker, names, and superuser access for checks. */
export interface ConnectorTargets {
  /** Random part of every name this run made. */
  readonly run: string;
  /** The privileged role grants join (`memberOf`). */
  readonly readRole: string;
  /** The broker's admin login on the bench database (documented minimal privileges). */
  readonly postgresAdminUrl: string;
  /** Redis ACL rules of the bench role: only this run's keys, reads only. */
  readonly redisRules: readonly string[];
  /** The broker's Redis ACL user (documented minimal line). */
  readonly redisAdminUrl: string;
  readonly redisAdminUser: string;
  readonly redisAdminPassword: string;
  /** The superuser's URL of the bench database (for observers that need their own connection). */
  readonly superuserUrl: string;
  /** Runs SQL as the superuser on the bench database. */
  superuser<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Roles whose name starts with `stint_` and that are members of {@link readRole}: what the broker made and did not remove. */
  countStintRoles(): Promise<number>;
}

/** Runs `fn` on a fresh superuser connection to `url`. */
async function asSuperuser<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Every role this run made: grant roles the broker left (stint_*) and reference roles, both
 * members of the run's read role; then the admin and the read role. Runs after the database is
 * dropped (the read role holds privileges in it).
 */
async function dropRunRoles(readRole: string, adminRole: string): Promise<void> {
  await asSuperuser(ADMIN_POSTGRES_URL, async (su) => {
    const { rows } = await su.query<{ name: string }>(
      `SELECT r.rolname AS name FROM pg_roles r JOIN pg_auth_members m ON m.member = r.oid
        WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = $1) AND r.rolname <> $2`,
      [readRole, adminRole],
    );
    for (const { name } of rows) {
      await su.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [name]);
      await su.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(name)}`);
    }
    await su.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(adminRole)}`);
    await su.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(readRole)}`);
  });
}

/** Every ACL user whose rules name this run's key pattern, and the broker's user. */
async function deleteRunUsers(redis: RedisClient, keyPattern: string, adminUser: string): Promise<void> {
  const lines = (await redis.sendCommand(['ACL', 'LIST'])) as string[];
  const users = lines.filter((l) => l.split(' ').includes(keyPattern)).map((l) => l.split(' ')[1]!);
  for (const user of [...users, adminUser]) await redis.sendCommand(['ACL', 'DELUSER', user]);
}

/** Creates both targets; their removal is registered with `cleanup`. */
export async function createConnectorTargets(cleanup: Cleanup): Promise<ConnectorTargets> {
  const run = randomBytes(4).toString('hex');
  const readRole = `bench_${run}_read`;
  const adminRole = `bench_${run}_admin`;
  const adminPassword = randomBytes(18).toString('base64url');

  // Roles first, so that their removal (registered first) runs after the database is dropped.
  cleanup.add(`drop roles of bench run ${run}`, () => dropRunRoles(readRole, adminRole));
  await asSuperuser(ADMIN_POSTGRES_URL, async (su) => {
    await su.query(`CREATE ROLE ${pg.escapeIdentifier(readRole)} NOLOGIN`);
    // docs/connectors.md, "Setting up the broker's admin role", PostgreSQL 15.
    await su.query(`CREATE ROLE ${pg.escapeIdentifier(adminRole)} LOGIN CREATEROLE PASSWORD ${pg.escapeLiteral(adminPassword)}`);
    await su.query(`GRANT ${pg.escapeIdentifier(readRole)} TO ${pg.escapeIdentifier(adminRole)} WITH ADMIN OPTION`);
  });
  const db = await createBenchDatabase(cleanup);
  await asSuperuser(db.url, (su) =>
    su.query(`CREATE TABLE orders (id int PRIMARY KEY, item text NOT NULL);
              INSERT INTO orders VALUES (1, 'seed');
              GRANT SELECT ON orders TO ${pg.escapeIdentifier(readRole)}`),
  );
  const adminUrl = new URL(db.url);
  adminUrl.username = adminRole;
  adminUrl.password = adminPassword;

  const redisAdminUser = `bench-${run}-admin`;
  const redisAdminPassword = randomBytes(24).toString('base64url');
  const keyPattern = `~bench:${run}:*`;
  const redis = await openClient(REDIS, undefined, undefined, CONNECT_TIMEOUT_MS);
  cleanup.add(`delete Redis users of bench run ${run}`, async () => {
    try {
      await deleteRunUsers(redis, keyPattern, redisAdminUser);
    } finally {
      discard(redis);
    }
  });
  // The documented line, with this run's user name and password.
  const line = BROKER_ACL_SETUSER.replace('stint-admin', redisAdminUser).replace(/>\S+/u, `>${redisAdminPassword}`);
  await redis.sendCommand(line.split(' '));

  return {
    run,
    readRole,
    postgresAdminUrl: adminUrl.toString(),
    redisRules: [keyPattern, '+@read', '-@dangerous'],
    redisAdminUrl: `redis://${redisAdminUser}:${redisAdminPassword}@${REDIS.host}:${REDIS.port}`,
    redisAdminUser,
    redisAdminPassword,
    superuserUrl: db.url,
    superuser: (sql, params = []) => asSuperuser(db.url, async (su) => (await su.query(sql, params)).rows),
    async countStintRoles() {
      const rows = await asSuperuser(db.url, (su) =>
        su.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_roles r JOIN pg_auth_members m ON m.member = r.oid
            WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = $1) AND r.rolname LIKE 'stint\\_%'`,
          [readRole],
        ),
      );
      return rows.rows[0]?.n ?? -1;
    },
  };
}

/** The bench Redis as the broker's ACL user (for the reference measurements). */
export function openRedisAsBroker(targets: ConnectorTargets): Promise<RedisClient> {
  return openClient(REDIS, targets.redisAdminUser, targets.redisAdminPassword, CONNECT_TIMEOUT_MS);
}
