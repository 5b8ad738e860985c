/**
 * Multi-row `INSERT INTO grants` for group commits (issue #2, item 13). One statement for a
 * batch of new grants instead of one per grant: on PGlite every statement is a full extended-
 * protocol round trip through the WASM module (parse, describe, bind, execute, sync), measured
 * at ~450 us of CPU per single-row insert against ~170 us per row in an 8-row statement
 * (docs/benchmarks.md, "Issuance"). The rows, their columns and their values are exactly the
 * single-row insert's (`grantToParams`), so a grant reads back the same either way.
 */
import type { Grant } from '../../core/grant.js';
import type { SqlExecutor } from './driver.js';
import { DOC_PARAM, GRANT_COLUMNS, GRANT_SELECT, grantToParams } from './row.js';

/**
 * Rows per multi-row statement (inserts here, updates in grant-batch.ts). PostgreSQL's bind
 * message holds at most 65,535 parameters (18 per row, so 3,640 rows); 500 keeps each statement's
 * parameter list and plan small.
 */
export const GRANT_ROWS_PER_STATEMENT = 500;

/**
 * `($1, .., $18), ($19, ..)`: `rows` tuples of one placeholder per `GRANT_COLUMNS` entry, each
 * written by `placeholder(n, column)` (e.g. with a cast).
 */
export function grantValueTuples(rows: number, placeholder: (n: number, column: (typeof GRANT_COLUMNS)[number], index: number) => string): string {
  const width = GRANT_COLUMNS.length;
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    tuples.push(`(${GRANT_COLUMNS.map((column, i) => placeholder(base + i + 1, column, i)).join(', ')})`);
  }
  return tuples.join(', ');
}

/** `INSERT ... VALUES (...), (...)` for `rows` rows, built once per row count. */
const statements = new Map<number, string>();

function insertStatement(rows: number): string {
  let sql = statements.get(rows);
  if (sql === undefined) {
    const tuples = grantValueTuples(rows, (n, _column, i) => (i + 1 === DOC_PARAM ? `$${n}::jsonb` : `$${n}`));
    sql = `INSERT INTO grants (${GRANT_SELECT}) VALUES ${tuples}`;
    // Batches are at most the batcher's MAX_BATCH; the cache stays as small as the sizes seen.
    if (rows <= GRANT_ROWS_PER_STATEMENT) statements.set(rows, sql);
  }
  return sql;
}

/**
 * Inserts `grants` with as few statements as the chunk size allows. Every row is checked
 * (`grantToParams` throws `invalid_request` for unstorable text) before anything is sent, so a
 * bad grant fails the call without a statement. A duplicate id fails the statement (and, on
 * PostgreSQL, the transaction) with the driver's `conflict`.
 */
export async function insertGrantRows(sql: SqlExecutor, grants: readonly Grant[]): Promise<void> {
  const params = grants.map(grantToParams);
  for (let start = 0; start < params.length; start += GRANT_ROWS_PER_STATEMENT) {
    const chunk = params.slice(start, start + GRANT_ROWS_PER_STATEMENT);
    await sql.query(insertStatement(chunk.length), chunk.flat());
  }
}
