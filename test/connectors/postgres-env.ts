/**
 * The PostgreSQL side of the connector tests: a private cluster (pg-cluster.ts) set up as
 * docs/connectors.md tells an operator to, with a dedicated broker admin that has only LOGIN
 * CREATEROLE and ADMIN OPTION on the roles it hands out, and the connector pointed at it.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { makeSecret } from '../../src/config/secret.js';
import { createPostgresConnector, type PostgresConnector, type PostgresConnectorOptions } from '../../src/adapters/connector-postgres/index.js';
import type { ConnectorTarget, IssuedCredential } from '../../src/ports/connector.js';
import type { ClientSession, ConnectorHarness } from './conformance.js';
import { startPrivateCluster, type PrivateCluster } from './pg-cluster.js';

/** The database the target's grants are about. */
export const TARGET_DATABASE = 'orders';

/** The broker admin setup exactly as docs/connectors.md gives it for PostgreSQL 15 (the password follows the first line). */
export const DOCUMENTED_ADMIN_SETUP = ['CREATE ROLE broker_admin LOGIN CREATEROLE PASSWORD', 'GRANT orders_read, orders_write TO broker_admin WITH ADMIN OPTION;'] as const;

/** The privileged roles, then the documented setup, run as a superuser. */
function adminSetupSql(adminPassword: string): string {
  return `
    CREATE ROLE orders_read NOLOGIN;
    CREATE ROLE orders_write NOLOGIN;
    ${DOCUMENTED_ADMIN_SETUP[0]} ${pg.escapeLiteral(adminPassword)};
    ${DOCUMENTED_ADMIN_SETUP[1]}`;
}

/** The application's schema and what the privileged roles may do with it. */
const SCHEMA_SQL = `
  CREATE TABLE orders (id int PRIMARY KEY, item text NOT NULL);
  INSERT INTO orders VALUES (1, 'seed');
  GRANT SELECT ON orders TO orders_read;
  GRANT SELECT, INSERT, UPDATE ON orders TO orders_write;
  CREATE SCHEMA scratch;
  GRANT USAGE, CREATE ON SCHEMA scratch TO orders_write;`;

/** A running, set-up cluster and a connector using its dedicated admin. */
export interface PostgresTestEnv {
  readonly cluster: PrivateCluster;
  readonly adminUrl: string;
  readonly adminPassword: string;
  /** The admin URL of {@link PostgresTestEnv.unreachableTarget} (it carries the admin password too). */
  readonly unreachableUrl: string;
  readonly connector: PostgresConnector;
  /** A target named `name` with the dedicated admin and the given role grants. */
  target(roleGrants: Record<string, unknown>, name?: string): ConnectorTarget;
  /** A target whose admin URL points at 127.0.0.1:1, where nothing listens. */
  unreachableTarget(roleGrants: Record<string, unknown>): ConnectorTarget;
  /** Runs SQL as the cluster's superuser in `database` (default: the target database). */
  superuser<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[], database?: string): Promise<R[]>;
  destroy(): Promise<void>;
}

/** Starts a cluster, runs the documented setup, and makes a connector. */
export async function createPostgresTestEnv(options: PostgresConnectorOptions = {}): Promise<PostgresTestEnv> {
  const cluster = await startPrivateCluster();
  const adminPassword = randomBytes(18).toString('base64url');
  const adminUrl = cluster.urlFor('broker_admin', adminPassword, TARGET_DATABASE);
  const unreachableUrl = `postgres://broker_admin:${adminPassword}@127.0.0.1:1/${TARGET_DATABASE}`;
  const pools = new Map<string, pg.Pool>();
  const poolFor = (database: string): pg.Pool => {
    let pool = pools.get(database);
    if (pool === undefined) {
      pool = new pg.Pool({ connectionString: cluster.urlFor('postgres', new URL(cluster.superuserUrl).password, database), max: 2 });
      pool.on('error', () => undefined);
      pools.set(database, pool);
    }
    return pool;
  };
  const superuser = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = [], database = TARGET_DATABASE): Promise<R[]> =>
    (await poolFor(database).query<R>(sql, params)).rows;
  const connector = createPostgresConnector(options);
  try {
    await superuser(`CREATE DATABASE ${TARGET_DATABASE}`, [], 'postgres');
    await poolFor('postgres').query(adminSetupSql(adminPassword));
    await poolFor(TARGET_DATABASE).query(SCHEMA_SQL);
  } catch (err) {
    await Promise.all([...pools.values()].map((p) => p.end()));
    await cluster.destroy();
    throw err;
  }
  const targetWith = (url: string, roleGrants: Record<string, unknown>, name: string): ConnectorTarget => ({
    name,
    connector: 'postgres',
    connection: { url: makeSecret(url, 'env:ORDERS_DB_ADMIN_URL') },
    roleGrants,
  });
  return {
    cluster,
    adminUrl,
    adminPassword,
    unreachableUrl,
    connector,
    target: (roleGrants, name = 'orders-db') => targetWith(adminUrl, roleGrants, name),
    unreachableTarget: (roleGrants) => targetWith(unreachableUrl, roleGrants, 'orders-db-down'),
    superuser,
    destroy: async () => {
      await connector.close();
      await Promise.all([...pools.values()].map((p) => p.end().catch(() => undefined)));
      pools.clear();
      await cluster.destroy();
    },
  };
}

/** A session as the requester: a pg.Client logged in with the issued credential. */
export interface PostgresSession extends ClientSession {
  readonly client: pg.Client;
}

/** Logs in with `credential.url`; SELECT is what `orders_read` allows, INSERT is not. */
export async function openSession(credential: IssuedCredential): Promise<PostgresSession> {
  const client = new pg.Client({ connectionString: credential.url, connectionTimeoutMillis: 5_000 });
  // A terminated backend makes the client emit 'error'; the next query rejects, which is what
  // the tests look at, so the event itself must not crash the test process.
  client.on('error', () => undefined);
  await client.connect();
  return {
    client,
    runAllowed: async () => void (await client.query('SELECT count(*) FROM orders')),
    runForbidden: async () => void (await client.query("INSERT INTO orders VALUES (1000 + floor(random() * 1e6)::int, 'forbidden')")),
    runUnprivileged: async () => void (await client.query('SELECT 1')),
    close: () => client.end(),
  };
}

/** The table that keeps a grant role from being dropped (see `blockRemoval`). */
function blockerTable(recipe: { data: Readonly<Record<string, unknown>> }): string {
  return pg.escapeIdentifier(`blocker_${String(recipe.data.name)}`);
}

/** The conformance harness: the `read` role (member of orders_read) on a fresh cluster. */
export function postgresHarness(): ConnectorHarness {
  let env: PostgresTestEnv | undefined;
  const ready = (): PostgresTestEnv => {
    if (env === undefined) throw new Error('harness used before setup()');
    return env;
  };
  const roleGrants = { memberOf: ['orders_read'] };
  return {
    get connector() {
      return ready().connector;
    },
    get target() {
      return ready().target(roleGrants);
    },
    roleName: 'read',
    get unreachableTarget() {
      return ready().unreachableTarget(roleGrants);
    },
    get adminSecrets() {
      const e = ready();
      return [e.adminUrl, e.unreachableUrl, e.adminPassword, new URL(e.cluster.superuserUrl).password];
    },
    connect: openSession,
    // An object the role owns in another database: DROP OWNED runs in the target database only,
    // so DROP ROLE fails with 2BP01 (dependent objects) until it is gone.
    blockRemoval: async (recipe) => {
      const role = pg.escapeIdentifier(String(recipe.data.name));
      await ready().superuser(`CREATE TABLE ${blockerTable(recipe)} (x int); ALTER TABLE ${blockerTable(recipe)} OWNER TO ${role}`, [], 'postgres');
    },
    unblockRemoval: async (recipe) => {
      await ready().superuser(`DROP TABLE IF EXISTS ${blockerTable(recipe)}`, [], 'postgres');
    },
    stopTarget: () => ready().cluster.stop(),
    startTarget: () => ready().cluster.start(),
    setup: async () => {
      env = await createPostgresTestEnv();
    },
    teardown: async () => {
      await env?.destroy();
      env = undefined;
    },
  };
}

/**
 * Adds a PostgreSQL target named `name` (admin URL from env ORDERS_PG_ADMIN_URL, privileged
 * roles orders_read / orders_write) to the YAML of the example configuration.
 */
export function withPostgresTarget(name: string): (yaml: string) => string {
  return (yaml) =>
    yaml.replace(
      'targets:\n',
      `targets:
  ${name}:
    connector: postgres
    env: prod
    owners: [group:dba]
    connection:
      url: env:ORDERS_PG_ADMIN_URL
    roles:
      read:  { maxTtl: 1h, riskTier: low, grants: { memberOf: [orders_read] } }
      write: { maxTtl: 30m, riskTier: high, approvals: 2, grants: { memberOf: [orders_write] } }
`,
    );
}

/**
 * Logs in at `url` and runs `SELECT 1`: 'ok', or the SQLSTATE (or message) of the failure, e.g.
 * '28P01' for a refused password, '28000' for a role that is gone. A real client, as the holder
 * of the credential would use it.
 */
export async function loginCode(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  } finally {
    await client.end().catch(() => undefined);
  }
}
