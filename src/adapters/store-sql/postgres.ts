/**
 * The server backend: PostgreSQL through a `pg` connection pool. Each transaction holds one
 * pooled client from BEGIN to COMMIT/ROLLBACK; statements outside a transaction take any
 * client. The connection string is kept out of every error (see `driver-errors.ts`).
 */
import pg from 'pg';
import type { SqlDriver, SqlExecutor, SqlRow } from './driver.js';
import { secretsOfUrl, toStoreError } from './driver-errors.js';

/** Default number of pooled connections per broker process. */
export const DEFAULT_POOL_SIZE = 10;

/**
 * How long to wait for a new connection before reporting `store_unavailable`. pg's default
 * (0) waits forever, which would hang requests when the server is unreachable.
 */
const CONNECT_TIMEOUT_MS = 10_000;

/** Creates the pool. No connection is made until the first statement (the migration). */
export function openPostgresDriver(url: string, poolSize: number = DEFAULT_POOL_SIZE): SqlDriver {
  const secrets = secretsOfUrl(url);
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // An idle client that loses its connection (server restart, pg_terminate_backend) emits
  // 'error' on the pool; unhandled, that would crash the process. The pool already discards the
  // client, and the next statement reports store_unavailable if the server stays down.
  pool.on('error', () => undefined);
  return new PostgresDriver(pool, secrets);
}

class PostgresDriver implements SqlDriver {
  readonly kind = 'postgres' as const;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly secrets: readonly string[],
  ) {}

  query(sql: string, params: readonly unknown[] = []): Promise<SqlRow[]> {
    return this.run(this.pool, sql, params);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw toStoreError(err, this.secrets);
    }
    // A client whose BEGIN, COMMIT or ROLLBACK failed is in an unknown state: destroy it
    // instead of returning it to the pool.
    let reusable = true;
    const control = async (sql: string): Promise<void> => {
      try {
        await client.query(sql);
      } catch (err) {
        reusable = false;
        throw toStoreError(err, this.secrets);
      }
    };
    try {
      await control('BEGIN');
      let result: T;
      try {
        result = await fn({ query: (sql, params = []) => this.run(client, sql, params) });
      } catch (err) {
        await control('ROLLBACK').catch(() => undefined);
        throw err;
      }
      await control('COMMIT');
      return result;
    } finally {
      client.release(!reusable);
    }
  }

  close(): Promise<void> {
    this.closing ??= this.pool.end().catch((err: unknown) => {
      throw toStoreError(err, this.secrets);
    });
    return this.closing;
  }

  private async run(on: pg.Pool | pg.PoolClient, sql: string, params: readonly unknown[]): Promise<SqlRow[]> {
    try {
      const result = await on.query<SqlRow>(sql, [...params]);
      return result.rows;
    } catch (err) {
      throw toStoreError(err, this.secrets);
    }
  }
}
