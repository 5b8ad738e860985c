/**
 * One small `pg` pool per admin URL, created on first use and closed together at shutdown.
 * Targets that share an admin URL share a pool.
 */
import pg from 'pg';
import { StintError } from '../../core/errors.js';

/** Pool settings (see PostgresConnectorOptions). */
export interface PoolSettings {
  readonly max: number;
  readonly connectTimeoutMs: number;
  readonly statementTimeoutMs: number;
}

/** `application_name` of the broker's admin sessions, so operators can tell them apart. */
export const ADMIN_APPLICATION_NAME = 'stint-broker';

export class AdminPools {
  private readonly pools = new Map<string, pg.Pool>();
  private closed = false;

  constructor(private readonly settings: PoolSettings) {}

  /** The pool for `url`, created lazily. No connection is opened until the first query. */
  get(url: string): pg.Pool {
    if (this.closed) throw new StintError('internal', 'the PostgreSQL connector has been closed');
    let pool = this.pools.get(url);
    if (pool === undefined) {
      pool = new pg.Pool({
        connectionString: url,
        max: this.settings.max,
        // pg waits forever by default; an unreachable target must fail fast and be retried.
        connectionTimeoutMillis: this.settings.connectTimeoutMs,
        statement_timeout: this.settings.statementTimeoutMs,
        application_name: ADMIN_APPLICATION_NAME,
      });
      // An idle client whose server went away emits 'error' on the pool; unhandled, that would
      // crash the broker. The pool drops the client; the next query reports target_unavailable.
      pool.on('error', () => undefined);
      this.pools.set(url, pool);
    }
    return pool;
  }

  /** Ends every pool. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
  }
}
