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
import { errorCode, isUnreachable } from './errors.js';
import { quoteIdent } from './sql.js';

/** SQLSTATE 42704 undefined_object: the role vanished between two statements. */
const UNDEFINED_OBJECT = '42704';

/**
 * Pause between two rounds of ending sessions. A backend ends within milliseconds of SIGTERM;
 * `pg_terminate_backend(pid, timeout)` would wait in steps of 100 ms per backend, one backend
 * after another (measured: ~2 s for 20 sessions on a loaded 2-core server), so the waiting is
 * done here, for all of them at once, by listing them again.
 */
const TERMINATE_POLL_MS = 5;

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
 * Signals every backend of the roles with oids `oids` (`pg_terminate_backend`, which returns at
 * once) and lists them again, round after round, until `pg_stat_activity` lists none (or the
 * budget is spent). Each round is one statement that both signals and counts what is still
 * listed, and its own transaction: within one transaction `pg_stat_activity` is a snapshot and would
 * keep showing a backend that has already exited. Returns, per oid, the sessions still listed
 * when the budget ran out (empty: all ended).
 */
async function endSessions(pool: pg.Pool, oids: readonly string[], budgetMs: number): Promise<Map<string, number>> {
  const deadline = performance.now() + budgetMs;
  for (;;) {
    // pg_terminate_backend sits in the aggregate's FILTER, evaluated only for rows that passed
    // WHERE. Never put it in WHERE next to the role filter: the planner orders quals by cost,
    // may call it first, and would then end every session on the server.
    const { rows } = await pool.query<{ oid: string; n: number }>(
      `SELECT usesysid::text AS oid, count(*)::int AS n, count(*) FILTER (WHERE pg_terminate_backend(pid)) AS signalled
         FROM pg_stat_activity WHERE usesysid = ANY($1::oid[]) GROUP BY usesysid`,
      [oids],
    );
    if (rows.length === 0 || performance.now() >= deadline) return new Map(rows.map((r) => [r.oid, r.n]));
    await new Promise((resolve) => setTimeout(resolve, TERMINATE_POLL_MS));
  }
}

/** Ends every session of the role with oid `oid` (see {@link endSessions}); throws when some outlive the budget. */
async function terminateSessions(pool: pg.Pool, name: string, oid: string, budgetMs: number): Promise<void> {
  const left = (await endSessions(pool, [oid], budgetMs)).get(oid);
  if (left !== undefined) {
    throw new StintError('target_unavailable', `${left} session(s) of role ${name} did not end within ${budgetMs} ms; the role is NOLOGIN and will be dropped on retry`);
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

/** A role of a batch as pg_roles lists it. */
interface BatchRoleRow extends RoleRow {
  readonly name: string;
}

/**
 * Revokes many roles with one statement batch per step of {@link revokeRole}'s order (issue #3,
 * item 5: five round trips and two commits per role cap a 2-core server at ~5.5 ms/role, while
 * the same steps batched take ~0.1 ms/role, docs/benchmarks.md):
 *   1. one catalog read for all roles (gone ones are done);
 *   2. `GRANT r1, .. TO CURRENT_USER` for those the admin is not a member of, and `ALTER ROLE ..
 *      NOLOGIN` for each, in one implicit transaction;
 *   3. `pg_terminate_backend` for all their backends in one statement, repeated until none is
 *      listed;
 *   4. `REASSIGN OWNED BY r1, .. TO CURRENT_USER; DROP OWNED BY r1, ..; DROP ROLE IF EXISTS r1, ..`
 *      in one implicit transaction.
 * A batch whose statements the server refuses (a role that cannot be dropped, one that vanished
 * in between, a deadlock) falls back to {@link revokeRole} per role, so only a role that fails on
 * its own ends with an error; a target that cannot be reached fails every role at once (one
 * connection attempt, not one per role). Returns per name `undefined` (done) or the error.
 */
export async function revokeRoles(pool: pg.Pool, names: readonly string[], terminateBudgetMs: number): Promise<unknown[]> {
  const results: unknown[] = names.map(() => undefined);
  const index = new Map(names.map((n, i) => [n, i]));
  const { rows } = await pool.query<BatchRoleRow>(
    "SELECT r.rolname AS name, r.oid::text AS oid, pg_has_role(current_user, r.oid, 'USAGE') AS member FROM pg_roles r WHERE r.rolname = ANY($1::text[])",
    [names],
  );
  if (rows.length === 0) return results;
  let dropping: BatchRoleRow[] = rows;
  try {
    const joins = rows.filter((r) => !r.member).map((r) => quoteIdent(r.name));
    const nologin = rows.map((r) => `ALTER ROLE ${quoteIdent(r.name)} NOLOGIN`);
    await pool.query(`${joins.length > 0 ? `GRANT ${joins.join(', ')} TO CURRENT_USER; ` : ''}${nologin.join('; ')}`);
    const stuck = await endSessions(pool, rows.map((r) => r.oid), terminateBudgetMs);
    for (const role of rows) {
      const left = stuck.get(role.oid);
      if (left !== undefined) {
        results[index.get(role.name)!] = new StintError(
          'target_unavailable',
          `${left} session(s) of role ${role.name} did not end within ${terminateBudgetMs} ms; the role is NOLOGIN and will be dropped on retry`,
        );
      }
    }
    dropping = rows.filter((r) => !stuck.has(r.oid));
    if (dropping.length === 0) return results;
    const list = dropping.map((r) => quoteIdent(r.name)).join(', ');
    await pool.query(`REASSIGN OWNED BY ${list} TO CURRENT_USER; DROP OWNED BY ${list}; DROP ROLE IF EXISTS ${list}`);
    return results;
  } catch (err) {
    if (isUnreachable(err)) throw err;
    // One role spoiled the batch (or the server refused it as a whole): role by role, so each
    // ends with its own outcome. Every step is idempotent, so repeating the done ones is safe.
    for (const role of dropping) {
      try {
        await revokeRole(pool, role.name, terminateBudgetMs);
      } catch (roleErr) {
        results[index.get(role.name)!] = roleErr;
      }
    }
    return results;
  }
}
