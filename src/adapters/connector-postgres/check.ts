/**
 * `stint targets` (issue #3, item 7): can the broker reach the target, and are its own
 * privileges the documented minimum (docs/connectors.md)? Required: LOGIN, CREATEROLE, INHERIT
 * and, on PostgreSQL 16+, ADMIN OPTION on every role it hands out (16 restricted CREATEROLE to
 * roles its holder administers). Excess: SUPERUSER, CREATEDB, REPLICATION, BYPASSRLS and
 * membership in predefined `pg_*` roles. A probe login also tells whether the server checks
 * passwords for requesters at all: with `trust` in pg_hba.conf, neither the issued password
 * nor VALID UNTIL is enforced.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { TargetCheck } from '../../ports/connector.js';
import { tryLogin } from './login.js';

/** The release that made ADMIN OPTION a requirement for CREATEROLE holders. */
const PG16 = 160_000;

interface AdminRow {
  readonly name: string;
  readonly super: boolean;
  readonly createrole: boolean;
  readonly createdb: boolean;
  readonly replication: boolean;
  readonly bypassrls: boolean;
  readonly inherit: boolean;
  readonly version: number;
  readonly version_text: string;
  readonly predefined: string | null;
}

interface HandedOutRow {
  readonly name: string;
  readonly present: boolean;
  readonly super: boolean;
  readonly admin: boolean;
}

/** Findings about the admin role itself; returns whether they are all as documented. */
function adminFindings(admin: AdminRow, details: string[]): boolean {
  let minimal = true;
  const excess = (flag: boolean, what: string, why: string): void => {
    if (!flag) return;
    minimal = false;
    details.push(`excess: ${admin.name} has ${what} (${why})`);
  };
  excess(admin.super, 'SUPERUSER', 'CREATEROLE suffices; a superuser can do anything on the server');
  excess(admin.createdb, 'CREATEDB', 'not needed');
  excess(admin.replication, 'REPLICATION', 'not needed');
  excess(admin.bypassrls, 'BYPASSRLS', 'not needed');
  if (admin.predefined !== null && !admin.super) excess(true, `membership in ${admin.predefined}`, 'not needed');
  if (admin.createrole) details.push(`ok: ${admin.name} has CREATEROLE (required to create and drop grant roles)`);
  else if (!admin.super) {
    minimal = false;
    details.push(`missing: ${admin.name} lacks CREATEROLE (required to create and drop grant roles)`);
  }
  if (!admin.inherit && !admin.super) {
    minimal = false;
    details.push(`missing: ${admin.name} is NOINHERIT (revoke joins each grant role to end its sessions and reassign its objects, which needs INHERIT)`);
  }
  return minimal;
}

/** Findings about the roles handed out; returns whether they are all usable. */
function handedOutFindings(admin: AdminRow, roles: readonly HandedOutRow[], details: string[]): boolean {
  let ok = true;
  const adminRequired = admin.version >= PG16;
  for (const role of roles) {
    if (!role.present) {
      ok = false;
      details.push(`missing: role ${role.name} (listed in memberOf) does not exist`);
    } else if (role.super) {
      ok = false;
      details.push(`problem: role ${role.name} is SUPERUSER and cannot be handed out by a CREATEROLE admin`);
    } else if (role.admin) {
      details.push(`ok: ${admin.name} holds ADMIN OPTION on ${role.name}`);
    } else if (adminRequired) {
      ok = false;
      details.push(`missing: ${admin.name} lacks ADMIN OPTION on ${role.name} (required on PostgreSQL 16+)`);
    } else {
      details.push(`note: ${admin.name} lacks ADMIN OPTION on ${role.name} (CREATEROLE suffices on PostgreSQL 15; required on 16+)`);
    }
  }
  return ok;
}

/** Tries a login that must fail, to see whether the server asks requesters for a password. */
async function passwordFinding(clientUrl: string, timeoutMs: number): Promise<string> {
  const outcome = await tryLogin(clientUrl, `stint_probe_${randomBytes(6).toString('hex')}`, randomBytes(24).toString('base64url'), timeoutMs);
  if (outcome.kind === 'refused' && outcome.code === '28P01') {
    return 'ok: the server checks passwords (a login with a wrong password was refused with 28P01)';
  }
  if (outcome.kind === 'refused' && /does not exist/.test(outcome.reason)) {
    return 'warning: the server looked up an unknown role without asking for a password (pg_hba.conf "trust"?): issued passwords and VALID UNTIL are NOT enforced for requesters';
  }
  if (outcome.kind === 'refused') return `warning: requester logins are refused before any password check (${outcome.reason}): grant roles may not be able to log in`;
  if (outcome.kind === 'accepted') return 'warning: a login as an unknown role with a random password was accepted';
  return `warning: could not probe requester logins at the client address (${outcome.reason})`;
}

/** Runs the checks over an admin connection that is known to work. */
export async function checkAdmin(pool: pg.Pool, clientUrl: string, memberOf: readonly string[], loginTimeoutMs: number): Promise<TargetCheck> {
  const { rows } = await pool.query<AdminRow>(
    `SELECT current_user AS name, r.rolsuper AS super, r.rolcreaterole AS createrole, r.rolcreatedb AS createdb,
            r.rolreplication AS replication, r.rolbypassrls AS bypassrls, r.rolinherit AS inherit,
            current_setting('server_version_num')::int AS version, current_setting('server_version') AS version_text,
            (SELECT string_agg(p.rolname, ', ' ORDER BY p.rolname) FROM pg_roles p
              WHERE p.rolname LIKE 'pg\\_%' AND p.rolname <> 'pg_database_owner' AND pg_has_role(current_user, p.oid, 'MEMBER')) AS predefined
       FROM pg_roles r WHERE r.rolname = current_user`,
  );
  const admin = rows[0];
  if (admin === undefined) return { reachable: true, minimalPrivileges: false, details: ['problem: the admin role is not in pg_roles'] };
  const details = [`ok: connected as ${admin.name} (PostgreSQL ${admin.version_text})`];
  let minimal = adminFindings(admin, details);
  if (memberOf.length === 0) {
    details.push('note: no memberOf roles given, so ADMIN OPTION on handed-out roles was not checked');
  } else {
    const handed = await pool.query<HandedOutRow>(
      `SELECT n.name, r.oid IS NOT NULL AS present, coalesce(r.rolsuper, false) AS super,
              coalesce(pg_has_role(current_user, r.oid, 'MEMBER WITH ADMIN OPTION'), false) AS admin
         FROM unnest($1::text[]) WITH ORDINALITY AS n(name, i) LEFT JOIN pg_roles r ON r.rolname = n.name ORDER BY n.i`,
      [memberOf],
    );
    minimal = handedOutFindings(admin, handed.rows, details) && minimal;
  }
  details.push(await passwordFinding(clientUrl, loginTimeoutMs));
  return { reachable: true, minimalPrivileges: minimal, details };
}
