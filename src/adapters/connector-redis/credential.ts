/**
 * The per-grant secret: a random password (192 bits from node:crypto, issue #3 asks >= 128),
 * the SHA-256 form Redis stores (`#<hex>`, so the plain password never crosses the wire in an
 * `ACL SETUSER` a monitor or slow log could record), and the convenience URL handed to the
 * requester.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { RedisConnection } from './config.js';

/** A fresh random password (24 bytes, base64url: 32 URL-safe characters). */
export function newPassword(): string {
  return randomBytes(24).toString('base64url');
}

/** The hash `ACL SETUSER ... #<hash>` expects: SHA-256, lowercase hex. */
export function passwordHash(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('hex');
}

/** `redis[s]://<user>:<password>@<host>:<port>` for the issued credential. */
export function credentialUrl(conn: Pick<RedisConnection, 'host' | 'port' | 'tls'>, username: string, password: string): string {
  const host = conn.host.includes(':') ? `[${conn.host}]` : conn.host;
  const url = new URL(`${conn.tls ? 'rediss' : 'redis'}://${host}:${conn.port}`);
  url.username = username;
  url.password = password;
  return url.toString();
}
