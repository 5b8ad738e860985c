/**
 * `Store.readAuditPacked`: a range of the audit log as one row of two aggregated text values
 * (issue #2, item 13). PGlite's wire-protocol parser runs in JavaScript and costs per field
 * (docs/benchmarks.md, "Audit verification: reads from PGlite"), so 7 columns times 1,000 rows
 * become 3 fields; the concatenation runs in the database's C code. The format is the one
 * src/audit/packed-batch.ts defines and decodes back into exactly the records `readAudit`
 * returns (or refuses, and the caller reads the range with `readAudit`). The verifier reads
 * PGlite through `readAuditWire` instead (audit-wire.ts: no field parsed on the store's thread);
 * packed batches serve PostgreSQL and `GET /v1/audit`.
 */
import type { PackedAuditBatch } from '../../ports/store.js';
import type { SqlExecutor } from './driver.js';

/**
 * Both aggregates order by seq (the primary key, so the order is total and the same in both);
 * `concat_ws` builds each row's fields in one allocation. chr(1) and chr(2) are the separators
 * of src/audit/packed-batch.ts; a NULL grant id becomes "", a present one "+" and the id.
 *
 * The LIMIT never drops a row: [$1, $2) holds at most $3 = ceil($2 - $1) integer seqs. It makes
 * the planner read the primary key index in order (PGlite has no statistics, so it otherwise
 * picks a bitmap scan and sorts), and PostgreSQL 16+ (PGlite is 17) then feeds the ordered
 * aggregates without sorting.
 */
const READ_AUDIT_PACKED = `SELECT count(*) AS count,
    coalesce(string_agg(canonical, chr(2) ORDER BY seq), '') AS canonical,
    coalesce(string_agg(concat_ws(chr(1), seq, time, type, actor, coalesce('+' || grant_id, ''), encode(leaf_hash, 'hex')), chr(2) ORDER BY seq), '') AS columns
  FROM (SELECT * FROM audit_events WHERE seq >= $1 AND seq < $2 ORDER BY seq LIMIT $3) AS in_range`;

/** The events with seq in [fromSeq, fromSeq + limit), packed. */
export async function readAuditPacked(sql: SqlExecutor, fromSeq: number, limit: number): Promise<PackedAuditBatch> {
  if (limit <= 0) return { fromSeq, limit, count: 0, canonical: '', columns: '' };
  const rows = await sql.query(READ_AUDIT_PACKED, [fromSeq, fromSeq + limit, Math.ceil(limit)]);
  const row = rows[0];
  return {
    fromSeq,
    limit,
    count: Number(row?.count ?? 0),
    canonical: String(row?.canonical ?? ''),
    columns: String(row?.columns ?? ''),
  };
}
