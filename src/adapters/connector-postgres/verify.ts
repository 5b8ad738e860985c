/**
 * The post-revocation proof (issue #3, item 6): three independent observations, each recorded
 * with what was tried and what the server said. `verified` only when all pass.
 *   login:    a real login with the issued credential is refused by the server (a network
 *             failure proves nothing and does not pass);
 *   sessions: pg_stat_activity lists no backend of the role;
 *   role:     pg_roles has no such role.
 * Details name the role and SQLSTATEs, never the password or a URL.
 */
import type pg from 'pg';
import type { RevocationEvidence } from '../../core/grant.js';
import type { IssuedCredential } from '../../ports/connector.js';
import { tryLogin } from './login.js';

type Check = RevocationEvidence['checks'][number];

async function loginCheck(clientUrl: string, name: string, credential: IssuedCredential, timeoutMs: number): Promise<Check> {
  const username = credential.username ?? name;
  const password = credential.password;
  if (password === undefined || password === '') {
    return { check: 'login', passed: false, detail: 'the credential given has no password to try' };
  }
  const outcome = await tryLogin(clientUrl, username, password, timeoutMs);
  switch (outcome.kind) {
    case 'refused':
      return { check: 'login', passed: true, detail: `login as ${username} with the issued password was refused (${outcome.reason})` };
    case 'accepted':
      return { check: 'login', passed: false, detail: `login as ${username} with the issued password SUCCEEDED: the credential still works` };
    case 'unreachable':
      return { check: 'login', passed: false, detail: `could not try the credential: the server did not answer (${outcome.reason})` };
    case 'error':
      return { check: 'login', passed: false, detail: `login as ${username} failed for a reason that proves nothing about the credential (${outcome.reason})` };
  }
}

/** Collects the evidence. Throws (mapped by the caller) when the admin queries cannot run. */
export async function proveRevoked(
  pool: pg.Pool,
  clientUrl: string,
  name: string,
  credential: IssuedCredential | undefined,
  loginTimeoutMs: number,
  now: () => number,
): Promise<RevocationEvidence> {
  const checks: Check[] = [];
  // Login first: a session it opened by mistake then shows up in the sessions check too.
  if (credential !== undefined) checks.push(await loginCheck(clientUrl, name, credential, loginTimeoutMs));
  const { rows } = await pool.query<{ sessions: number; present: boolean; canlogin: boolean | null }>(
    `SELECT (SELECT count(*)::int FROM pg_stat_activity WHERE usename = $1) AS sessions,
            EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS present,
            (SELECT rolcanlogin FROM pg_roles WHERE rolname = $1) AS canlogin`,
    [name],
  );
  const state = rows[0] ?? { sessions: 0, present: false, canlogin: null };
  checks.push(
    state.sessions === 0
      ? { check: 'sessions', passed: true, detail: `pg_stat_activity lists no backend of ${name}` }
      : { check: 'sessions', passed: false, detail: `pg_stat_activity lists ${state.sessions} backend(s) of ${name}` },
  );
  checks.push(
    state.present
      ? { check: 'role', passed: false, detail: `role ${name} still exists in pg_roles (${state.canlogin ? 'LOGIN' : 'NOLOGIN'})` }
      : { check: 'role', passed: true, detail: `pg_roles has no role ${name}` },
  );
  return { verified: checks.every((c) => c.passed), checks, at: now() };
}

/** One role of a batch proof. */
export interface RoleProofRequest {
  readonly name: string;
  readonly credential?: IssuedCredential;
}

/** What the catalog says about one role. */
interface RoleState {
  readonly sessions: number;
  readonly present: boolean;
  readonly canlogin: boolean | null;
}

function catalogChecks(name: string, state: RoleState): Check[] {
  return [
    state.sessions === 0
      ? { check: 'sessions', passed: true, detail: `pg_stat_activity lists no backend of ${name}` }
      : { check: 'sessions', passed: false, detail: `pg_stat_activity lists ${state.sessions} backend(s) of ${name}` },
    state.present
      ? { check: 'role', passed: false, detail: `role ${name} still exists in pg_roles (${state.canlogin ? 'LOGIN' : 'NOLOGIN'})` }
      : { check: 'role', passed: true, detail: `pg_roles has no role ${name}` },
  ];
}

/**
 * The proof of {@link proveRevoked} for many roles (issue #3, items 5 and 6): the same three
 * observations per role, but the catalog is read once for all of them (sessions and existence
 * in one query) while the login attempts run through `probes` (a bounded number of parallel
 * connections, in the order given). Returns one promise per role that settles as soon as that
 * role's own login attempt is done, so the first proofs are ready long before the last. A
 * catalog query that fails rejects every promise (mapped by the caller).
 */
export function proveRevokedMany(
  pool: pg.Pool,
  clientUrl: string,
  requests: readonly RoleProofRequest[],
  loginTimeoutMs: number,
  probes: { run<T>(fn: () => Promise<T>): Promise<T> },
  now: () => number,
): Promise<RevocationEvidence>[] {
  const names = requests.map((r) => r.name);
  const catalog = pool
    .query<{ name: string } & RoleState>(
      `SELECT n.name,
              (SELECT count(*)::int FROM pg_stat_activity a WHERE a.usename = n.name) AS sessions,
              r.oid IS NOT NULL AS present,
              r.rolcanlogin AS canlogin
         FROM unnest($1::text[]) AS n(name) LEFT JOIN pg_roles r ON r.rolname = n.name`,
      [names],
    )
    .then(({ rows }) => new Map(rows.map((row) => [row.name, row])));
  // Every request awaits it, but possibly only after its login attempt: until then a failure
  // must not count as an unhandled rejection (which would end the process).
  catalog.catch(() => undefined);
  return requests.map(async ({ name, credential }) => {
    const login = credential === undefined ? undefined : await probes.run(() => loginCheck(clientUrl, name, credential, loginTimeoutMs));
    const state = (await catalog).get(name) ?? { sessions: 0, present: false, canlogin: null };
    const checks = [...(login === undefined ? [] : [login]), ...catalogChecks(name, state)];
    return { verified: checks.every((c) => c.passed), checks, at: now() };
  });
}
