/**
 * The PostgreSQL connector's part of the configuration (docs/connectors.md):
 *
 *   targets.<name>.connection:
 *     url: env:ORDERS_DB_ADMIN_URL   # the broker's admin login (a secret reference)
 *     clientUrl: postgres://db.internal:5432/orders   # optional; what requesters connect to
 *     connectionLimit: 5             # optional default per grant role
 *   targets.<name>.roles.<role>.grants:
 *     memberOf: [orders_read]        # privileged roles a grant role joins (at least one)
 *     connectionLimit: 2             # optional; overrides the target's
 *
 * Every problem is reported at once with its key path, never with the value (a URL may
 * carry a password).
 */
import { StintError } from '../../core/errors.js';
import { isSecret } from '../../config/secret.js';
import { formatKeyPath, type KeySegment } from '../../config/problems.js';
import type { ConnectorTarget } from '../../ports/connector.js';
import { ROLE_PREFIX } from './names.js';

/** A target's connection settings, resolved. */
export interface PostgresConnection {
  /** The admin connection string, with its password. Never print it. */
  readonly adminUrl: string;
  /** Where requesters connect: the same server and database, without credentials. */
  readonly clientUrl: string;
  /** Default CONNECTION LIMIT of grant roles; undefined = unlimited. */
  readonly connectionLimit?: number;
  /** Every string that must never appear in an error: the admin URL and its password. */
  readonly secrets: readonly string[];
}

/** What one configured role confers on a PostgreSQL target. */
export interface PostgresRoleGrants {
  /** Privileged roles each grant role becomes a member of. */
  readonly memberOf: readonly string[];
  readonly connectionLimit?: number;
}

/** PostgreSQL identifiers are at most 63 bytes (NAMEDATALEN - 1). */
const MAX_NAME_BYTES = 63;
/** The server's own ceiling for connections makes anything above this a typo. */
const MAX_CONNECTION_LIMIT = 100_000;

const CONNECTION_KEYS = new Set(['url', 'clientUrl', 'connectionLimit']);
const GRANT_KEYS = new Set(['memberOf', 'connectionLimit']);

/** Query parameters of a libpq URI that carry credentials; dropped from the derived client URL. */
const CREDENTIAL_PARAMS = ['user', 'password', 'passfile'];

interface Problem {
  readonly path: readonly KeySegment[];
  readonly problem: string;
}

function invalid(problems: readonly Problem[]): StintError {
  const lines = problems.map((p) => `${formatKeyPath(p.path)}: ${p.problem}`);
  return new StintError('config_invalid', lines.join('\n'), {
    extra: { errors: problems.map((p) => ({ path: formatKeyPath(p.path), problem: p.problem })) },
  });
}

function unknownKeys(raw: Readonly<Record<string, unknown>>, known: ReadonlySet<string>, path: readonly KeySegment[], problems: Problem[]): void {
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) problems.push({ path: [...path, key], problem: `is not a PostgreSQL setting (expected one of: ${[...known].join(', ')})` });
  }
}

function connectionLimit(value: unknown, path: readonly KeySegment[], problems: Problem[]): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_CONNECTION_LIMIT) {
    problems.push({ path, problem: `must be an integer from 1 to ${MAX_CONNECTION_LIMIT}` });
    return undefined;
  }
  return value;
}

/** A postgres:// URL with a host and a database, or a problem (the value is never quoted). */
function postgresUrl(text: string, path: readonly KeySegment[], problems: Problem[]): URL | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problems.push({ path, problem: 'is not a URL (expected postgres://user:password@host:port/database)' });
    return undefined;
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    problems.push({ path, problem: 'must be a postgres:// or postgresql:// URL' });
    return undefined;
  }
  if (url.hostname === '' || url.pathname.length <= 1) {
    problems.push({ path, problem: 'must name a host and a database (postgres://user:password@host:port/database)' });
    return undefined;
  }
  return url;
}

/** The admin URL without its credentials: what requesters are told to connect to. */
function withoutCredentials(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  for (const param of CREDENTIAL_PARAMS) copy.searchParams.delete(param);
  return copy.href;
}

function secretsOf(adminUrl: string, url: URL): string[] {
  const secrets = [adminUrl];
  if (url.password !== '') secrets.push(url.password, decodeURIComponent(url.password));
  const param = url.searchParams.get('password');
  if (param !== null && param !== '') secrets.push(param);
  return secrets;
}

/**
 * Parses `targets.<target>.connection`. `url` may be a `Secret` (a resolved `env:`/`file:`
 * reference) or a plain string (tests). Throws `config_invalid` listing every problem.
 */
export function parsePostgresConnection(raw: Readonly<Record<string, unknown>>, target: string): PostgresConnection {
  const base: KeySegment[] = ['targets', target, 'connection'];
  const problems: Problem[] = [];
  unknownKeys(raw, CONNECTION_KEYS, base, problems);
  const rawUrl = raw.url;
  const adminUrl = isSecret(rawUrl) ? rawUrl.reveal() : typeof rawUrl === 'string' ? rawUrl : undefined;
  let url: URL | undefined;
  if (adminUrl === undefined) {
    problems.push({ path: [...base, 'url'], problem: 'is required: the admin connection string, as a secret reference (env:NAME or file:path)' });
  } else {
    url = postgresUrl(adminUrl, [...base, 'url'], problems);
  }
  let clientUrl: string | undefined;
  if (raw.clientUrl !== undefined) {
    if (typeof raw.clientUrl !== 'string') {
      problems.push({ path: [...base, 'clientUrl'], problem: 'must be a postgres:// URL string' });
    } else {
      const client = postgresUrl(raw.clientUrl, [...base, 'clientUrl'], problems);
      if (client !== undefined && (client.username !== '' || client.password !== '' || CREDENTIAL_PARAMS.some((p) => client.searchParams.has(p)))) {
        problems.push({ path: [...base, 'clientUrl'], problem: 'must not contain a user or password (each grant gets its own)' });
      } else if (client !== undefined) {
        clientUrl = client.href;
      }
    }
  }
  const limit = connectionLimit(raw.connectionLimit, [...base, 'connectionLimit'], problems);
  if (problems.length > 0 || adminUrl === undefined || url === undefined) throw invalid(problems);
  return {
    adminUrl,
    clientUrl: clientUrl ?? withoutCredentials(url),
    ...(limit === undefined ? {} : { connectionLimit: limit }),
    secrets: secretsOf(adminUrl, url),
  };
}

/** Checks one privileged role name; returns a problem text or undefined. */
function roleNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name === '') return 'must be a non-empty role name';
  if (name.includes('\0')) return 'must not contain a NUL byte';
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) return `must be at most ${MAX_NAME_BYTES} bytes (PostgreSQL truncates longer names)`;
  if (name.startsWith(ROLE_PREFIX)) return `must not start with "${ROLE_PREFIX}" (reserved for the roles Stint creates per grant)`;
  return undefined;
}

/** The key path of a role's `grants` section, for error messages. */
export function roleGrantsPath(target: string, role: string): KeySegment[] {
  return ['targets', target, 'roles', role, 'grants'];
}

/**
 * Parses a role's `grants` section found at `base` (see {@link roleGrantsPath}). Throws
 * `config_invalid` listing every problem.
 */
export function parsePostgresRoleGrants(raw: Readonly<Record<string, unknown>>, base: readonly KeySegment[]): PostgresRoleGrants {
  const problems: Problem[] = [];
  unknownKeys(raw, GRANT_KEYS, base, problems);
  const memberOf: string[] = [];
  if (!Array.isArray(raw.memberOf) || raw.memberOf.length === 0) {
    problems.push({ path: [...base, 'memberOf'], problem: 'is required: a list of at least one privileged PostgreSQL role' });
  } else {
    raw.memberOf.forEach((name: unknown, i) => {
      const problem = roleNameProblem(name);
      if (problem !== undefined) problems.push({ path: [...base, 'memberOf', i], problem });
      else if (memberOf.includes(name as string)) problems.push({ path: [...base, 'memberOf', i], problem: 'is listed twice' });
      else memberOf.push(name as string);
    });
  }
  const limit = connectionLimit(raw.connectionLimit, [...base, 'connectionLimit'], problems);
  if (problems.length > 0) throw invalid(problems);
  return { memberOf, ...(limit === undefined ? {} : { connectionLimit: limit }) };
}

/**
 * The privileged roles named by `roleGrants.memberOf`, for check() and reconcile(). These get
 * the target without a specific role, so `{}` (nothing to look at) is accepted; for a full
 * picture pass {@link unionRoleGrants} of all the target's roles.
 */
export function privilegedRolesOf(target: ConnectorTarget): readonly string[] {
  if (target.roleGrants.memberOf === undefined) return [];
  return parsePostgresRoleGrants(target.roleGrants, roleGrantsPath(target.name, '*')).memberOf;
}

/**
 * One `grants` section naming every privileged role of a target's roles (deduplicated), to pass
 * as `roleGrants` to check() and reconcile(), which look at the target as a whole.
 */
export function unionRoleGrants(roleGrants: Iterable<Readonly<Record<string, unknown>>>): { memberOf: string[] } {
  const memberOf = new Set<string>();
  for (const grants of roleGrants) {
    const list = grants.memberOf;
    if (Array.isArray(list)) for (const name of list) if (typeof name === 'string') memberOf.add(name);
  }
  return { memberOf: [...memberOf] };
}
