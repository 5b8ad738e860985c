/**
 * Fills the `grants` table fast for the scale benchmark: `INSERT ... SELECT generate_series`
 * inside the database instead of one statement per grant. Each row is a real grant made by the
 * state machine (sample-grants.ts) and mapped by the store's own row mapping (row.ts), with its
 * id, principal and times varied per row, so rows have the exact shape, size and index entries
 * of rows the broker writes. No audit events are written.
 *
 * Mix, by row number modulo 100: 63% expired, 30% completed, 3% revoked, 3% denied (all ended
 * 37-60 days ago, credentials revoked), and 1% active, made in the last 5 minutes with a 1-hour
 * TTL so none falls due during the benchmark (a restart has no catch-up work to do).
 */
import type { SqlExecutor } from '../adapters/store-sql/driver.js';
import { GRANT_COLUMNS, GRANT_SELECT, grantToParams } from '../adapters/store-sql/row.js';
import { sampleGrant, type SampleStatus } from './sample-grants.js';

/** Row-number buckets (i % 100) of each status. */
const MIX: readonly { status: SampleStatus; from: number; to: number }[] = [
  { status: 'expired', from: 0, to: 62 },
  { status: 'completed', from: 63, to: 92 },
  { status: 'revoked', from: 93, to: 95 },
  { status: 'denied', from: 96, to: 98 },
  { status: 'active', from: 99, to: 99 },
];

/** Workloads the rows belong to (examples/stint.yaml), so per-principal listings are realistic. */
const PRINCIPALS = ['workload:deploy-bot', 'workload:ci-runner', 'workload:support-agent'];

/** Rows per statement: bounded so neither backend holds one huge transaction. */
const ROWS_PER_STATEMENT = 100_000;

const TIME_COLUMNS = ['expires_at', 'decision_deadline', 'revoke_next_at'] as const;
const DOC_TIMES = ['activatedAt', 'endedAt'] as const;

/**
 * The INSERT for one status. Parameters: $1 first row number, $2 last row number, $3 now (ms),
 * $4 template doc (JSON text). Times are offsets from the template's creation time.
 */
function insertFor(status: SampleStatus, from: number, to: number): { sql: string; doc: string } {
  const createdAt = 1_700_000_000_000;
  const { grant } = sampleGrant({ id: 'g0', createdAt, status, ttlSeconds: status === 'active' ? 3600 : 900 });
  const params = grantToParams(grant);
  const column = (name: (typeof GRANT_COLUMNS)[number]): unknown => params[GRANT_COLUMNS.indexOf(name)];
  const literal = (value: unknown): string => {
    if (value === null) return 'NULL';
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    if (typeof value === 'number') return String(value);
    return `'${String(value).replaceAll("'", "''")}'`;
  };
  const doc = JSON.parse(column('doc') as string) as Record<string, unknown>;
  const docTimes = DOC_TIMES.filter((key) => typeof doc[key] === 'number').map((key) => `'${key}', c + ${(doc[key] as number) - createdAt}`);
  const values: Record<(typeof GRANT_COLUMNS)[number], string> = {
    id: `'g' || lpad(to_hex(c), 12, '0') || substr(md5(i::text), 1, 20)`,
    kind: literal(column('kind')),
    parent_id: 'NULL',
    tenant: literal(column('tenant')),
    principal: `(ARRAY[${PRINCIPALS.map(literal).join(', ')}])[1 + i % ${PRINCIPALS.length}]`,
    principal_type: literal(column('principal_type')),
    target: literal(column('target')),
    role: literal(column('role')),
    status: literal(column('status')),
    break_glass: literal(column('break_glass')),
    needs_review: literal(column('needs_review')),
    created_at: 'c',
    expires_at: 'NULL',
    decision_deadline: 'NULL',
    revoke_next_at: 'NULL',
    credential_state: literal(column('credential_state')),
    version: literal(column('version')),
    doc: docTimes.length > 0 ? `$4::jsonb || jsonb_build_object(${docTimes.join(', ')})` : '$4::jsonb',
  };
  for (const name of TIME_COLUMNS) {
    const value = column(name);
    if (typeof value === 'number') values[name] = `c + ${value - createdAt}`;
  }
  // Ended grants: spread over the 23 days before 37 days ago. Active ones: the last 5 minutes.
  const created = status === 'active' ? '$3::bigint - (i * 37) % 300000' : '$3::bigint - 5184000000 + i * 2000';
  const sql = `INSERT INTO grants (${GRANT_SELECT})
    SELECT ${GRANT_COLUMNS.map((name) => values[name]).join(', ')}
    FROM (SELECT i, ${created} AS c FROM generate_series($1::bigint, $2::bigint) AS i WHERE i % 100 BETWEEN ${from} AND ${to}) AS rows`;
  return { sql, doc: JSON.stringify(doc) };
}

/** Inserts the grants numbered [from, to) (call again with [to, more) to grow the table). */
export async function fillGrants(db: SqlExecutor, from: number, to: number, now: number): Promise<void> {
  const statements = MIX.map((m) => insertFor(m.status, m.from, m.to));
  for (let start = from; start < to; start += ROWS_PER_STATEMENT) {
    const end = Math.min(to, start + ROWS_PER_STATEMENT) - 1;
    for (const { sql, doc } of statements) await db.query(sql, [start, end, now, doc]);
  }
}

/** Stored grants per status (to check and state what the fill produced). */
export async function countGrants(db: SqlExecutor): Promise<Record<string, number>> {
  const rows = await db.query('SELECT status, count(*) AS n FROM grants GROUP BY status ORDER BY status');
  return Object.fromEntries(rows.map((row) => [String(row.status), Number(row.n)]));
}
