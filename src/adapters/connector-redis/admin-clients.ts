/**
 * The broker's admin connections: one client per admin URL, opened lazily on first use and
 * shared by every target with that URL. A client whose socket died, or whose command timed out
 * (its reply could still arrive and be mistaken for the next one), is discarded and the next
 * command opens a fresh one, so a target that comes back is used again at once (issue #3: every
 * due revocation done within 60 s of recovery).
 */
import type { RedisConnection } from './config.js';
import { discard, openClient, type RedisClient } from './open-client.js';
import { isErrorReply, targetError } from './redis-errors.js';

export interface AdminClientOptions {
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
}

/** Runs admin commands on Redis targets. */
export class AdminClients {
  private readonly clients = new Map<string, Promise<RedisClient>>();

  constructor(private readonly opts: AdminClientOptions) {}

  private connected(conn: RedisConnection): Promise<RedisClient> {
    const existing = this.clients.get(conn.key);
    if (existing) return existing;
    const opening = openClient(conn, conn.username, conn.password, this.opts.connectTimeoutMs);
    this.clients.set(conn.key, opening);
    // A failed connect is forgotten so the next command tries again.
    opening.catch(() => {
      if (this.clients.get(conn.key) === opening) this.clients.delete(conn.key);
    });
    return opening;
  }

  /** Drops a dead client (only if it is still the cached one) so the next command reconnects. */
  private forget(conn: RedisConnection, opening: Promise<RedisClient>, client: RedisClient): void {
    if (this.clients.get(conn.key) === opening) this.clients.delete(conn.key);
    discard(client);
  }

  /**
   * Sends one command as the broker's admin user of target `targetName` and returns the raw
   * RESP3 reply. A client reused from earlier calls whose connection turns out dead (the server
   * restarted, or closed it) is replaced and the command sent once more; every command this
   * connector sends is idempotent. Every failure becomes `target_unavailable` naming `LOGIN` or
   * `args[0..1]`; its texts are scrubbed of the admin password and of `argSecrets` (secret
   * values inside `args`).
   */
  async command(conn: RedisConnection, targetName: string, args: readonly string[], argSecrets: readonly string[] = []): Promise<unknown> {
    const action = args.slice(0, 2).join(' ').toUpperCase();
    const secrets = [conn.password, conn.key, ...argSecrets];
    for (let attempt = 1; ; attempt += 1) {
      const reused = this.clients.has(conn.key);
      const opening = this.connected(conn);
      let client: RedisClient;
      try {
        client = await opening;
      } catch (e) {
        throw targetError(targetName, 'LOGIN', e, secrets);
      }
      try {
        if (!client.isReady) throw new Error('the admin connection is closed');
        return await client.sendCommand([...args], { timeout: this.opts.commandTimeoutMs });
      } catch (e) {
        if (isErrorReply(e)) throw targetError(targetName, action, e, secrets);
        this.forget(conn, opening, client);
        if (!reused || attempt > 1) throw targetError(targetName, action, e, secrets);
      }
    }
  }

  /** Closes every client (graceful QUIT, falling back to dropping the socket). */
  async close(): Promise<void> {
    const opening = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(
      opening.map(async (p) => {
        const client = await p.catch(() => undefined);
        if (!client) return;
        await client.close().catch(() => discard(client));
      }),
    );
  }
}
