/**
 * Batched reads-for-update and version-checked writes of existing grants (issue #3, revocation
 * lag). The worker's claims and the revocation group commits used to lock and write each grant
 * with its own statement; on PGlite every statement is a full extended-protocol round trip on
 * the Node thread (docs/benchmarks.md, "Where the time and memory go": store work was 47-62% of
 * the main thread while 1,000 grants were revoked). Here one statement locks or writes a whole
 * batch, with exactly the single-grant statements' columns, types and version check.
 */
import type { Grant } from '../../core/grant.js';
import { StintError } from '../../core/errors.js';
import type { SqlExecutor } from './driver.js';
import { GRANT_ROWS_PER_STATEMENT, grantValueTuples } from './grant-rows.js';
import { GRANT_COLUMNS, GRANT_SELECT, grantToParams, rowToGrant } from './row.js';

/**
 * SQL type of each `GRANT_COLUMNS` entry (migrations.ts, `CREATE TABLE grants`). A `VALUES` list
 * has no target column to infer parameter types from, so every parameter is cast explicitly:
 * without it the bigint, integer, boolean and jsonb columns would be assigned text.
 */
export const GRANT_COLUMN_TYPES: Readonly<Record<(typeof GRANT_COLUMNS)[number], string>> = {
  id: 'text',
  kind: 'text',
  parent_id: 'text',
  tenant: 'text',
  principal: 'text',
  principal_type: 'text',
  target: 'text',
  role: 'text',
  status: 'text',
  break_glass: 'boolean',
  needs_review: 'boolean',
  created_at: 'bigint',
  expires_at: 'bigint',
  decision_deadline: 'bigint',
  credential_state: 'text',
  revoke_next_at: 'bigint',
  version: 'integer',
  doc: 'jsonb',
};

/** `UPDATE ... FROM (VALUES ...)` for `rows` rows, built once per row count. */
const updateStatements = new Map<number, string>();

function updateStatement(rows: number): string {
  let sql = updateStatements.get(rows);
  if (sql === undefined) {
    const tuples = grantValueTuples(rows, (n, column) => `$${n}::${GRANT_COLUMN_TYPES[column]}`);
    // Every column except the key is rewritten, as in updateGrant; the version check makes each
    // row's write conditional on the version the caller read.
    const assignments = GRANT_COLUMNS.slice(1)
      .map((column) => `${column} = v.${column}`)
      .join(', ');
    sql = `UPDATE grants SET ${assignments}
      FROM (VALUES ${tuples}) AS v (${GRANT_SELECT})
      WHERE grants.id = v.id AND grants.version = v.version - 1
      RETURNING grants.id`;
    if (rows <= GRANT_ROWS_PER_STATEMENT) updateStatements.set(rows, sql);
  }
  return sql;
}

/**
 * Splits `grants` into statement-sized runs in which no id repeats. One UPDATE changes a row at
 * most once whatever its VALUES list holds, so a grant written twice in one call (version n+1,
 * then n+2) needs a second statement to behave as two `updateGrant` calls would.
 */
function statementRuns(grants: readonly Grant[]): Grant[][] {
  const runs: Grant[][] = [];
  let run: Grant[] = [];
  let ids = new Set<string>();
  for (const grant of grants) {
    if (run.length >= GRANT_ROWS_PER_STATEMENT || ids.has(grant.id)) {
      runs.push(run);
      run = [];
      ids = new Set();
    }
    run.push(grant);
    ids.add(grant.id);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/**
 * Writes every grant in `grants` (in order) with `updateGrant`'s semantics: each grant's
 * `version` must be exactly its stored version + 1. Every value is checked (`grantToParams`
 * throws `invalid_request`) before any statement is sent. When a row did not match, throws
 * `StintError('conflict')` naming the first such grant in `grants` order; rows of the same call
 * may already have been written, so the caller's transaction must roll back (sql-store.ts marks
 * it failed so that it cannot commit).
 */
export async function updateGrantRows(sql: SqlExecutor, grants: readonly Grant[]): Promise<void> {
  const params = grants.map(grantToParams);
  let offset = 0;
  for (const run of statementRuns(grants)) {
    const chunk = params.slice(offset, offset + run.length);
    offset += run.length;
    const rows = await sql.query(updateStatement(run.length), chunk.flat());
    if (rows.length === run.length) continue;
    const written = new Set(rows.map((row) => String(row.id)));
    const stale = run.find((grant) => !written.has(grant.id))!;
    throw new StintError('conflict', `grant ${stale.id} changed concurrently; retry`, {
      internalReason: `no row with id ${stale.id} and version ${stale.version - 1} (batch of ${grants.length})`,
    });
  }
}

/**
 * Reads and locks (`FOR UPDATE`) the stored grants among `ids` in one statement. Rows are locked
 * in id order, so two replicas locking overlapping sets queue behind each other instead of
 * deadlocking. Unknown ids are simply absent from the result.
 */
export async function lockGrantRows(sql: SqlExecutor, ids: readonly string[]): Promise<Map<string, Grant>> {
  const locked = new Map<string, Grant>();
  if (ids.length === 0) return locked;
  const rows = await sql.query(`SELECT ${GRANT_SELECT} FROM grants WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`, [
    [...new Set(ids)],
  ]);
  for (const row of rows) {
    const grant = rowToGrant(row);
    locked.set(grant.id, grant);
  }
  return locked;
}
