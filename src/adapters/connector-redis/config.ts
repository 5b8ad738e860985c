/**
 * Parses a Redis target's `connection` and a role's `grants` (docs/connectors.md, "Redis").
 * Errors are `config_invalid` and name the key path, never the value: the URL carries the
 * broker's password.
 */
import { StintError } from '../../core/errors.js';
import { aclRuleProblem } from './acl-rules.js';

/** How the broker reaches a Redis server as its own (admin) ACL user. */
export interface RedisConnection {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** ACL user of the broker; absent means Redis's `default` user. */
  readonly username?: string;
  readonly password?: string;
  /** Identifies this admin login (host, port, user, password); used to share one client per URL. Secret. */
  readonly key: string;
}

/** What a role confers on a grant's ACL user: Redis ACL rules, applied in order after `reset on #<hash>`. */
export interface RedisGrants {
  readonly rules: readonly string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A `Secret` from the config (src/config/types.ts) or, in tests, a plain string. */
function revealString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isRecord(value) && typeof value.reveal === 'function') {
    const revealed: unknown = (value.reveal as () => unknown)();
    return typeof revealed === 'string' ? revealed : undefined;
  }
  return undefined;
}

function refuseUnknownKeys(value: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new StintError('config_invalid', `${path}.${key}: unknown key (allowed: ${allowed.join(', ')})`);
  }
}

function decode(part: string, path: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new StintError('config_invalid', `${path}: the ${what} in the URL is not valid percent-encoding`);
  }
}

/**
 * Parses `connection: { url: redis[s]://user:password@host:port }`; `path` is where it sits in
 * the config (`targets.cache.connection`), for error messages. The URL may hold no database
 * number (ACL users are server-wide) and no query.
 */
export function parseRedisConnection(connection: Readonly<Record<string, unknown>>, path: string): RedisConnection {
  refuseUnknownKeys(connection, ['url'], path);
  const text = revealString(connection.url);
  if (text === undefined) throw new StintError('config_invalid', `${path}.url: required (a redis:// or rediss:// URL, usually a secret reference)`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new StintError('config_invalid', `${path}.url: not a valid URL`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new StintError('config_invalid', `${path}.url: the scheme must be redis:// or rediss://`);
  }
  if (url.hostname === '') throw new StintError('config_invalid', `${path}.url: has no host`);
  if (!['', '/', '/0'].includes(url.pathname)) {
    throw new StintError('config_invalid', `${path}.url: must not select a database (ACL users are server-wide)`);
  }
  if (url.search !== '' || url.hash !== '') throw new StintError('config_invalid', `${path}.url: must not have a query or fragment`);
  const username = url.username === '' ? undefined : decode(url.username, `${path}.url`, 'user name');
  const password = url.password === '' ? undefined : decode(url.password, `${path}.url`, 'password');
  // URL keeps IPv6 literals bracketed; sockets want them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/u, '$1');
  const port = url.port === '' ? 6379 : Number(url.port);
  return {
    host,
    port,
    tls: url.protocol === 'rediss:',
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    key: JSON.stringify([url.protocol, host, port, username ?? '', password ?? '']),
  };
}

/**
 * Parses a role's `grants: { rules: [...] }`; `path` is where it sits in the config
 * (`targets.cache.roles.reader.grants`). Every rule must pass {@link aclRuleProblem}; at least
 * one rule is required.
 */
export function parseRedisGrants(grants: Readonly<Record<string, unknown>>, path: string): RedisGrants {
  refuseUnknownKeys(grants, ['rules'], path);
  return { rules: parseRules(grants.rules, `${path}.rules`) };
}

/** Validates a list of ACL rules (from config, or read back from a stored recipe). */
export function parseRules(value: unknown, path: string): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new StintError('config_invalid', `${path}: required, a non-empty list of Redis ACL rules (e.g. ["~orders:*", "+@read"])`);
  }
  return value.map((rule: unknown, i) => {
    if (typeof rule !== 'string') throw new StintError('config_invalid', `${path}[${i}]: must be a string`);
    const problem = aclRuleProblem(rule);
    if (problem !== undefined) throw new StintError('config_invalid', `${path}[${i}]: ${problem}`);
    return rule;
  });
}
