/**
 * Opens one @redis/client connection that fails fast: the whole connect (TCP, TLS, `HELLO 3
 * AUTH`) is bounded by a deadline and the client never reconnects on its own, so a down target
 * surfaces as an error within the deadline instead of an endless retry loop. The owner decides
 * when to open a new connection.
 */
import { createClient } from '@redis/client';
import type { RedisConnection } from './config.js';

/** The client this connector uses (RESP3, no extensions). */
export type RedisClient = ReturnType<typeof newClient>;

/** Raised when connecting takes longer than the deadline. */
export class ConnectDeadlineError extends Error {
  constructor(ms: number) {
    super(`connect did not complete within ${ms} ms`);
    this.name = 'ConnectDeadlineError';
  }
}

function newClient(conn: Pick<RedisConnection, 'host' | 'port' | 'tls'>, username: string | undefined, password: string | undefined, connectTimeoutMs: number) {
  const socket = conn.tls
    ? { host: conn.host, port: conn.port, tls: true as const, servername: conn.host, connectTimeout: connectTimeoutMs, reconnectStrategy: false as const }
    : { host: conn.host, port: conn.port, connectTimeout: connectTimeoutMs, reconnectStrategy: false as const };
  return createClient({
    socket,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    RESP: 3,
    // CLIENT SETINFO would need a permission the broker's minimal ACL user does not have.
    disableClientInfo: true,
  });
}

/** Closes a client without waiting and without throwing (it may already be closed). */
export function discard(client: RedisClient): void {
  try {
    client.destroy();
  } catch {
    // Already closed: nothing to release.
  }
}

/**
 * Connects as `username`/`password` (Redis's `default` user when undefined) and resolves once
 * the handshake is done. Rejects with the driver's error (an `ErrorReply` such as WRONGPASS when
 * Redis refused the login) or {@link ConnectDeadlineError}; the client is discarded on failure.
 */
export async function openClient(
  conn: Pick<RedisConnection, 'host' | 'port' | 'tls'>,
  username: string | undefined,
  password: string | undefined,
  connectTimeoutMs: number,
): Promise<RedisClient> {
  const client = newClient(conn, username, password, connectTimeoutMs);
  // Without a listener an 'error' event (emitted for every socket failure) would crash the
  // process; failures reach callers through the rejected promises instead.
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectDeadlineError(connectTimeoutMs)), connectTimeoutMs);
  });
  const connecting = client.connect();
  // If the deadline wins, the connect attempt still settles later; nobody awaits it then.
  connecting.catch(() => undefined);
  try {
    await Promise.race([connecting, deadline]);
    return client;
  } catch (e) {
    discard(client);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
