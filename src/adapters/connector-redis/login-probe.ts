/**
 * The strongest revocation proof: log in with the issued credential on a fresh connection,
 * exactly as its holder would (`HELLO 3 AUTH <user> <password>`). Redis answers WRONGPASS both
 * for a deleted user and for a wrong password, which is what "dead" means here.
 */
import type { RedisConnection } from './config.js';
import { discard, openClient } from './open-client.js';
import { isErrorReply, replyCode } from './redis-errors.js';

/**
 * `refused` when Redis rejects the login with WRONGPASS, `accepted` when it succeeds (the
 * connection is closed at once). Any other failure (unreachable, timeout, another error reply)
 * is rethrown as the driver raised it: it proves nothing either way.
 */
export async function tryLogin(
  conn: Pick<RedisConnection, 'host' | 'port' | 'tls'>,
  username: string,
  password: string,
  connectTimeoutMs: number,
): Promise<'refused' | 'accepted'> {
  try {
    const client = await openClient(conn, username, password, connectTimeoutMs);
    discard(client);
    return 'accepted';
  } catch (e) {
    if (isErrorReply(e) && replyCode(e) === 'WRONGPASS') return 'refused';
    throw e;
  }
}
