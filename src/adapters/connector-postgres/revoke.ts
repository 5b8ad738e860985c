/**
 * Removes a grant role in the only order that leaves no working session (REFERENCE.md section
 * 1, measured on PostgreSQL 15): VALID UNTIL and DROP ROLE leave open sessions running, and
 * once the role is dropped `pg_stat_activity.usename` is NULL, so its sessions can no longer be
 * found by name. Hence:
 *   1. `ALTER ROLE r NOLOGIN`: no new session can start;
 *   2. `pg_terminate_backend` on every backend of the role (found by its oid), repeated until
 *      `pg_stat_activity` shows none (bounded; the service retries on failure);
 *   3. `REASSIGN OWNED BY r TO <admin>` and `DROP OWNED BY r`: objects the requester created
 *      are kept (now owned by the admin) and privileges granted to r are removed;
 *   4. `DROP ROLE IF EXISTS r`.
 * Vault never does step 2 (hashicorp/vault#699, #10681).
 *
 * Steps 2 and 3 need the privileges of r, which a CREATEROLE admin does not have by default:
 * the admin first makes itself a member (`GRANT r TO CURRENT_USER`; allowed by CREATEROLE on
 * PostgreSQL 15, and by the ADMIN OPTION the creator holds on 16+). That avoids granting the
 * admin `pg_signal_backend`, which could end any non-superuser's session.
 *
 * A role that does not exist is success: revoking twice, or revoking something never made,
 * is harmless (Keycloak #37621 returned 409 on a second revoke).
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { StintError } from '../../core/errors.js';
import { errorCode } from './errors.js';
import { quoteIdent } from './sql.js';

/** SQLSTATE 42704 undefined_object: the role vanished between two statements. */
const UNDEFINED_OBJECT = '42704';

/** How long one pg_terminate_backend call waits for its backend to exit (PostgreSQL 14+). */
const TERMINATE_WAIT_MS = 1_000;

interface RoleRow {
  readonly oid: string;
  readonly member: boolean;
}

/** Runs `sql`; a 42704 (the role is already gone) counts as done. */
async function unlessGone(pool: pg.Pool, sql: string): Promise<void> {
  try {
    await pool.query(sql);
  } catch (err) {
    if (errorCode(err) !== UNDEFINED_OBJECT) throw err;
  }
}

/**
 * Ends every session of the role with oid `oid` and waits until PostgreSQL no longer lists
 * any. Each statement is its own transaction: within one transaction `pg_stat_activity` is a
 * snapshot and would keep showing a backend that has already exited.
 */
async function terminateSessions(pool: pg.Pool, name: string, oid: string, budgetMs: number): Promise<void> {
  const deadline = performance.now() + budgetMs;
  for (;;) {
    await pool.query('SELECT pg_terminate_backend(pid, $2) FROM pg_stat_activity WHERE usesysid = $1::oid', [oid, TERMINATE_WAIT_MS]);
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usesysid = $1::oid', [oid]);
    const left = rows[0]?.n ?? 0;
    if (left === 0) return;
    if (performance.now() >= deadline) {
      throw new StintError('target_unavailable', `${left} session(s) of role ${name} did not end within ${budgetMs} ms; the role is NOLOGIN and will be dropped on retry`);
    }
  }
}

/** Revokes the role `name` (see the file comment for the order). Idempotent. */
export async function revokeRole(pool: pg.Pool, name: string, terminateBudgetMs: number): Promise<void> {
  const { rows } = await pool.query<RoleRow>(
    "SELECT r.oid::text AS oid, pg_has_role(current_user, r.oid, 'USAGE') AS member FROM pg_roles r WHERE r.rolname = $1",
    [name],
  );
  const found = rows[0];
  if (found === undefined) return;
  const role = quoteIdent(name);
  await unlessGone(pool, `${found.member ? '' : `GRANT ${role} TO CURRENT_USER; `}ALTER ROLE ${role} NOLOGIN`);
  // By oid, so that sessions are found even if someone dropped the role meanwhile.
  await terminateSessions(pool, name, found.oid, terminateBudgetMs);
  await unlessGone(pool, `REASSIGN OWNED BY ${role} TO CURRENT_USER; DROP OWNED BY ${role}; DROP ROLE IF EXISTS ${role}`);
}
