/**
 * Reads the replies of `ACL LIST`, `ACL GETUSER` and `CLIENT LIST` (Redis 7, RESP3). Password
 * hashes (`#<sha256>`) are dropped while parsing: nothing downstream (evidence, reports, errors)
 * can then carry one.
 */
import { StintError } from '../../core/errors.js';

/** One ACL user as `ACL LIST` describes it, without its password hashes. */
export interface AclUser {
  readonly name: string;
  readonly enabled: boolean;
  /** Anyone may log in as this user with any password. */
  readonly nopass: boolean;
  /** Key patterns (`~*`, `%R~orders:*`). */
  readonly keys: readonly string[];
  /** Channel patterns (`&*`). */
  readonly channels: readonly string[];
  /** Command rules in Redis's canonical order (`-@all`, `+@read`, `+get`). */
  readonly commands: readonly string[];
  /** Selectors, each `(<rules>)`. */
  readonly selectors: readonly string[];
}

/** The parts of `ACL GETUSER` the privilege check needs (passwords left out). */
export interface AclUserDetail {
  readonly flags: readonly string[];
  readonly commands: readonly string[];
  readonly keys: readonly string[];
  readonly channels: readonly string[];
  readonly selectorCount: number;
}

function unexpected(what: string): StintError {
  return new StintError('internal', `unexpected reply from Redis to ${what}`);
}

/** Splits a rule line on spaces, keeping each `( ... )` selector as one token. */
function tokenize(line: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let depth = 0;
  for (const ch of line) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth = Math.max(0, depth - 1);
    if (ch === ' ' && depth === 0) {
      if (current !== '') tokens.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  if (current !== '') tokens.push(current);
  return tokens;
}

/** Parses one `ACL LIST` line: `user <name> <flags and rules...>`. */
export function parseAclLine(line: string): AclUser {
  const [head, name, ...rest] = tokenize(line);
  if (head !== 'user' || name === undefined) throw unexpected('ACL LIST');
  const user = { name, enabled: false, nopass: false, keys: [] as string[], channels: [] as string[], commands: [] as string[], selectors: [] as string[] };
  for (const token of rest) {
    if (token === 'on') user.enabled = true;
    else if (token === 'nopass') user.nopass = true;
    else if (token.startsWith('~') || token.startsWith('%')) user.keys.push(token);
    else if (token.startsWith('&')) user.channels.push(token);
    else if (token.startsWith('+') || token.startsWith('-')) user.commands.push(token);
    else if (token.startsWith('(')) user.selectors.push(token);
    // `off`, `#<hash>`, `resetchannels`, `sanitize-payload`: nothing a report needs.
  }
  return user;
}

/** Parses the whole `ACL LIST` reply. */
export function parseAclList(reply: unknown): AclUser[] {
  if (!Array.isArray(reply)) throw unexpected('ACL LIST');
  return reply.map((line: unknown) => {
    if (typeof line !== 'string') throw unexpected('ACL LIST');
    return parseAclLine(line);
  });
}

/** A rule list: a space-separated string (Redis 7) or an array of patterns (Redis 6 keys/channels). */
function words(value: unknown, what: string): string[] {
  if (Array.isArray(value) && value.every((w): w is string => typeof w === 'string')) return value;
  if (typeof value !== 'string') throw unexpected(what);
  return value.split(' ').filter((w) => w.length > 0);
}

/** Parses `ACL GETUSER` (a RESP3 map); undefined when the user does not exist. */
export function parseGetUser(reply: unknown): AclUserDetail | undefined {
  if (reply === null) return undefined;
  if (typeof reply !== 'object' || Array.isArray(reply)) throw unexpected('ACL GETUSER');
  const map = reply as Record<string, unknown>;
  const flags = map.flags;
  if (!Array.isArray(flags) || !flags.every((f): f is string => typeof f === 'string')) throw unexpected('ACL GETUSER');
  const selectors = map.selectors ?? [];
  if (!Array.isArray(selectors)) throw unexpected('ACL GETUSER');
  return {
    flags,
    commands: words(map.commands, 'ACL GETUSER'),
    keys: words(map.keys ?? '', 'ACL GETUSER'),
    channels: words(map.channels ?? '', 'ACL GETUSER'),
    selectorCount: selectors.length,
  };
}

/** Ids of the connections `CLIENT LIST` shows as authenticated as `user`. */
export function clientIdsOf(reply: unknown, user: string): string[] {
  if (typeof reply !== 'string') throw unexpected('CLIENT LIST');
  const ids: string[] = [];
  for (const line of reply.split('\n')) {
    const fields = new Map(
      line
        .trim()
        .split(' ')
        .map((f) => {
          const eq = f.indexOf('=');
          return [f.slice(0, eq), f.slice(eq + 1)] as const;
        }),
    );
    const id = fields.get('id');
    if (fields.get('user') === user && id !== undefined) ids.push(id);
  }
  return ids;
}
