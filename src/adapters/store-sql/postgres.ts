/**
 * The server backend: PostgreSQL through a `pg` connection pool. Each transaction holds one
 * pooled client from BEGIN to COMMIT/ROLLBACK; statements outside a transaction take any
 * client. The connection string is kept out of every error (see `driver-errors.ts`).
 */
import pg from 'pg';
import type { QueryOptions, SqlDriver, SqlExecutor, SqlRow } from './driver.js';
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
  return new PostgresDriver(pool, secrets, poolSize >= 2);
}

class PostgresDriver implements SqlDriver {
  readonly kind = 'postgres' as const;
  readonly offThread = true;
  private closing: Promise<void> | undefined;
  /**
   * A connection kept for prepared statements outside transactions (the group commit of new
   * grants, one at a time): `client.query` writes the statement to the socket at once, while
   * `pool.query` hands it out only on a later tick (pg-pool's `process.nextTick`), after every
   * continuation already queued on this thread has run. So the commit reaches the server before
   * this thread goes on to the requests it just answered, and the two overlap
   * (grant-batcher.ts). Busy or broken: statements take the pool as before.
   */
  private statementClient: pg.PoolClient | undefined;
  private statementClientBusy = false;
  private statementClientPending: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly secrets: readonly string[],
    /** False for a pool of one connection: keeping it would leave transactions none. */
    private readonly keepsStatementClient: boolean,
  ) {}

  query(sql: string, params: readonly unknown[] = [], options?: QueryOptions): Promise<SqlRow[]> {
    const client = this.statementClient;
    if (options?.prepare === undefined || this.closing !== undefined) return this.run(this.pool, sql, params, options);
    if (client === undefined || this.statementClientBusy) {
      if (client === undefined && this.keepsStatementClient) this.keepStatementClient();
      return this.run(this.pool, sql, params, options);
    }
    this.statementClientBusy = true;
    return this.runOnStatementClient(client, sql, params, options.prepare);
  }

  private async runOnStatementClient(client: pg.PoolClient, sql: string, params: readonly unknown[], name: string): Promise<SqlRow[]> {
    try {
      return (await client.query<SqlRow>({ name, text: sql, values: [...params] })).rows;
    } catch (err) {
      // An error the server reported leaves the connection usable; any other (the connection
      // is gone) hands it back destroyed, and the next statement takes another.
      if (!(err instanceof pg.DatabaseError)) this.dropStatementClient(client);
      throw toStoreError(err, this.secrets);
    } finally {
      this.statementClientBusy = false;
    }
  }

  private dropStatementClient(client: pg.PoolClient): void {
    if (this.statementClient !== client) return;
    this.statementClient = undefined;
    client.release(true);
  }

  /** Checks out the statement connection in the background (the statement at hand takes the pool). */
  private keepStatementClient(): void {
    this.statementClientPending ??= this.pool
      .connect()
      .then(
        (client) => {
          if (this.closing !== undefined) {
            client.release();
            return;
          }
          // A checked-out client has no pool listener: a lost connection (server restart,
          // pg_terminate_backend) would otherwise be an unhandled 'error' that ends the process.
          client.on('error', () => this.dropStatementClient(client));
          this.statementClient = client;
        },
        () => undefined,
      )
      .finally(() => {
        this.statementClientPending = undefined;
      });
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
    // BEGIN goes out with the transaction's first statement: in the same simple-query message
    // when that statement has no parameters (the audit head lock every group commit starts
    // with), saving a round trip; a transaction that runs no statement sends nothing at all.
    let begun = false;
    const executor: SqlExecutor = {
      query: async (sql, params = [], options) => {
        if (begun) return this.run(client, sql, params, options);
        begun = true;
        if (params.length > 0 || options?.prepare !== undefined) {
          await control('BEGIN');
          return this.run(client, sql, params, options);
        }
        return this.runAfterBegin(client, sql);
      },
    };
    try {
      let result: T;
      try {
        result = await fn(executor);
      } catch (err) {
        if (begun) await control('ROLLBACK').catch(() => undefined);
        throw err;
      }
      if (begun) await control('COMMIT');
      return result;
    } finally {
      client.release(!reusable);
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.statementClientPending;
      const client = this.statementClient;
      this.statementClient = undefined;
      client?.release();
      await this.pool.end().catch((err: unknown) => {
        throw toStoreError(err, this.secrets);
      });
    })();
    return this.closing;
  }

  /**
   * `BEGIN; <sql>` as one simple-query message (one statement in `sql`, no parameters); the
   * rows of `sql`. If `sql` fails the transaction is aborted, and the caller's ROLLBACK ends it.
   */
  private async runAfterBegin(client: pg.PoolClient, sql: string): Promise<SqlRow[]> {
    try {
      const results = (await client.query(`BEGIN; ${sql}`)) as unknown as pg.QueryResult<SqlRow>[];
      if (!Array.isArray(results) || results.length !== 2) throw new Error(`expected BEGIN and one statement, got ${Array.isArray(results) ? results.length : 1} results`);
      return results[1]!.rows;
    } catch (err) {
      throw toStoreError(err, this.secrets);
    }
  }

  private async run(on: pg.Pool | pg.PoolClient, sql: string, params: readonly unknown[], options?: QueryOptions): Promise<SqlRow[]> {
    try {
      // pg parses a named statement once per connection and only binds it afterwards.
      const result =
        options?.prepare !== undefined
          ? await on.query<SqlRow>({ name: options.prepare, text: sql, values: [...params] })
          : await on.query<SqlRow>(sql, [...params]);
      return result.rows;
    } catch (err) {
      throw toStoreError(err, this.secrets);
    }
  }
}
