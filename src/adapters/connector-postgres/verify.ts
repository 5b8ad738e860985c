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
