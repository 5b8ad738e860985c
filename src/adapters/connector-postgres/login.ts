/**
 * Real login attempts with an issued credential: the first check of the post-revocation proof
 * (issue #3: "a real login attempt with the issued credential must fail").
 */
import pg from 'pg';
import { describeDriverError, errorCode, isUnreachable } from './errors.js';

/** SQLSTATE class 28 (invalid authorization specification): the server refused the login. */
const AUTH_REFUSED = /^28/;

/** What happened when the credential was tried. */
export type LoginOutcome =
  | { readonly kind: 'accepted' }
  /** The server answered and said no (28P01 wrong/expired password, 28000 no such role or NOLOGIN). */
  | { readonly kind: 'refused'; readonly code: string; readonly reason: string }
  /** No answer from the server: this proves nothing about the credential. */
  | { readonly kind: 'unreachable'; readonly reason: string }
  /** The server answered with something else (e.g. too many connections). */
  | { readonly kind: 'error'; readonly reason: string };

/** `clientUrl` with the credential filled in: what the requester is given. */
export function credentialUrl(clientUrl: string, username: string, password: string): string {
  const url = new URL(clientUrl);
  url.username = encodeURIComponent(username);
  url.password = encodeURIComponent(password);
  return url.href;
}

/**
 * Opens (and closes) one session as `username` through `pg.Client`, exactly as the credential's
 * holder would log in (SCRAM, TLS and every URL parameter handled by the driver). Reasons never
 * contain the password or URL. A hand-written protocol probe was measured at 1.64 s against
 * 1.82 s for 1,000 refused logins (docs/benchmarks.md): the server's backend fork per attempt is
 * the cost, so the well-kept driver does the attempt.
 */
export async function tryLogin(clientUrl: string, username: string, password: string, timeoutMs: number): Promise<LoginOutcome> {
  const secrets = [password, credentialUrl(clientUrl, username, password)];
  const client = new pg.Client({ connectionString: credentialUrl(clientUrl, username, password), connectionTimeoutMillis: timeoutMs });
  // A session that the server ends later must not crash the process with an unhandled 'error'.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    const code = errorCode(err);
    const reason = describeDriverError(err, secrets);
    if (code !== undefined && AUTH_REFUSED.test(code)) return { kind: 'refused', code, reason };
    return isUnreachable(err) ? { kind: 'unreachable', reason } : { kind: 'error', reason };
  }
  await client.end().catch(() => undefined);
  return { kind: 'accepted' };
}
