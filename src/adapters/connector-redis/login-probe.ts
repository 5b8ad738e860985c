/**
 * The strongest revocation proof: log in with the issued credential on a fresh connection,
 * exactly as its holder's client would (`HELLO 3 AUTH <user> <password>`, the first command
 * @redis/client and other RESP3 clients send). Redis answers WRONGPASS both for a deleted user
 * and for a wrong password, which is what "dead" means here.
 *
 * Written on node:net/node:tls rather than @redis/client because the probe needs one command
 * and one reply line, and because a refused @redis/client login measured ~40 ms of extra delay
 * on the next connection here (vs 0.3 ms for this probe), which would eat into the 1 s
 * revocation budget when a thousand grants end together (issue #3, goal p99 <= 1 s).
 */
import net from 'node:net';
import tls from 'node:tls';
import { SimpleError } from '@redis/client';
import type { RedisConnection } from './config.js';
import { ConnectDeadlineError } from './open-client.js';
import { replyCode } from './redis-errors.js';

/** One RESP command as an array of bulk strings. */
function encodeCommand(args: readonly string[]): Buffer {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.from(arg, 'utf8');
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Sends `HELLO 3 AUTH` and resolves with the first line of the reply (without CRLF). */
function firstReplyLine(conn: Pick<RedisConnection, 'host' | 'port' | 'tls'>, username: string, password: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = conn.tls
      ? tls.connect({ host: conn.host, port: conn.port, servername: conn.host })
      : net.connect({ host: conn.host, port: conn.port, noDelay: true });
    const connectEvent = conn.tls ? 'secureConnect' : 'connect';
    let received = Buffer.alloc(0);
    const finish = (error: Error | undefined, line?: string): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(line!);
    };
    const timer = setTimeout(() => finish(new ConnectDeadlineError(timeoutMs)), timeoutMs);
    socket.once(connectEvent, () => socket.write(encodeCommand(['HELLO', '3', 'AUTH', username, password])));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n');
      if (end >= 0) finish(undefined, received.subarray(0, end).toString('utf8'));
    });
    socket.on('error', (e) => finish(e));
    socket.once('close', () => finish(new Error('the connection closed before Redis answered the login')));
  });
}

/**
 * `refused` when Redis rejects the login with WRONGPASS, `accepted` when it succeeds. Any other
 * outcome proves nothing either way and is thrown: a socket error or {@link ConnectDeadlineError}
 * when the server cannot be reached, a `SimpleError` for another error reply (e.g. NOPROTO).
 */
export async function tryLogin(
  conn: Pick<RedisConnection, 'host' | 'port' | 'tls'>,
  username: string,
  password: string,
  timeoutMs: number,
): Promise<'refused' | 'accepted'> {
  const line = await firstReplyLine(conn, username, password, timeoutMs);
  if (line.startsWith('-')) {
    const error = new SimpleError(line.slice(1));
    if (replyCode(error) === 'WRONGPASS') return 'refused';
    throw error;
  }
  // `%` (RESP3 map) is HELLO's success reply; `*` would be a RESP2 array from an older server.
  if (line.startsWith('%') || line.startsWith('*')) return 'accepted';
  throw new Error('unexpected reply to HELLO');
}
