/**
 * Bulk reading of the audit log (issue #2, item 13: `stint audit verify` >= 200,000 events/s with
 * the store reads included). PGlite parses every field of a result in JavaScript, on the main
 * thread, and that per-field cost dominated verification (docs/benchmarks.md, "Audit
 * verification: reads from PGlite"): 7 columns per event. A packed batch carries the same
 * columns as two text values per batch, built by the database (C code), and
 * {@link unpackAuditBatch} turns them back into exactly the records `Store.readAudit` returns
 * for the same range, or says it cannot; the caller then reads that range with `readAudit`.
 *
 * Exactness: the texts are the rows' own column values joined with two separator characters,
 * U+0001 between the fields of a row and U+0002 between rows. A value may contain a separator
 * (PostgreSQL text can hold any character but U+0000), but a separator inside a value can only
 * add pieces, never remove one: the decoder checks that there are exactly `count` rows of
 * exactly 6 fields and `count` texts, so any such value makes it refuse the whole batch instead
 * of misreading it. Integers arrive as PostgreSQL writes them in decimal and are read with
 * `Number`, as `readAudit` reads the driver's value; the leaf hash is the lowercase hex that
 * `readAudit` makes of the stored bytes, of whatever length they are. Nothing is checked by the
 * database here: the verifier still sees every column and recomputes every hash itself.
 */
import type { AuditRecord, EventType } from '../core/events.js';
import type { PackedAuditBatch } from '../ports/store.js';

/** Between two fields of a row of `PackedAuditBatch.columns`. */
export const PACKED_FIELD_SEPARATOR = '\u0001';
/** Between two rows of `PackedAuditBatch.columns`, and between two texts of `canonical`. */
export const PACKED_ROW_SEPARATOR = '\u0002';

/** Fields per row of `columns`: seq, time, type, actor, grant, leaf hash. */
const FIELDS = 6;
/** The grant field of a row with a grant id: this marker, then the id ("" stands for SQL NULL). */
const GRANT_PRESENT = '+';

/**
 * The records of `batch`, in its order, exactly as `Store.readAudit(batch.fromSeq,
 * batch.limit)` returns them, or undefined when the batch cannot be decoded exactly (a value
 * holds a separator character, or the pieces do not add up): read that range with `readAudit`.
 */
export function unpackAuditBatch(batch: PackedAuditBatch): AuditRecord[] | undefined {
  const count = batch.count;
  if (!Number.isSafeInteger(count) || count < 0) return undefined;
  if (count === 0) return batch.canonical === '' && batch.columns === '' ? [] : undefined;
  const texts = batch.canonical.split(PACKED_ROW_SEPARATOR);
  if (texts.length !== count) return undefined;
  const columns = batch.columns;
  const records = new Array<AuditRecord>(count);
  let start = 0;
  let previousSeq = -Infinity;
  for (let i = 0; i < count; i++) {
    let end = columns.indexOf(PACKED_ROW_SEPARATOR, start);
    if (end < 0) end = columns.length;
    if ((i === count - 1) !== (end === columns.length)) return undefined;
    // The five field separators of the row, each inside [start, end).
    const cuts: number[] = [];
    for (let at = columns.indexOf(PACKED_FIELD_SEPARATOR, start); at >= 0 && at < end; at = columns.indexOf(PACKED_FIELD_SEPARATOR, at + 1)) {
      cuts.push(at);
      if (cuts.length > FIELDS - 1) return undefined;
    }
    if (cuts.length !== FIELDS - 1) return undefined;
    const [a, b, c, d, e] = cuts as [number, number, number, number, number];
    const seq = Number(columns.slice(start, a));
    const time = Number(columns.slice(a + 1, b));
    // Rows come in ascending seq: anything else means the two texts do not line up.
    if (!Number.isFinite(seq) || !Number.isFinite(time) || !(seq > previousSeq)) return undefined;
    previousSeq = seq;
    const type = columns.slice(b + 1, c) as EventType;
    const actor = columns.slice(c + 1, d);
    const grant = columns.slice(d + 1, e);
    const canonical = texts[i]!;
    const leafHash = columns.slice(e + 1, end);
    if (grant === '') {
      records[i] = { seq, time, type, actor, canonical, leafHash };
    } else {
      if (!grant.startsWith(GRANT_PRESENT)) return undefined;
      records[i] = { seq, time, type, actor, grantId: grant.slice(GRANT_PRESENT.length), canonical, leafHash };
    }
    start = end + 1;
  }
  return records;
}

/** Where the log can be read in packed batches, and also row by row (the exact fallback). */
export interface PackedAuditReader {
  readAudit(fromSeq: number, limit: number): Promise<AuditRecord[]>;
  readAuditPacked(fromSeq: number, limit: number): Promise<PackedAuditBatch>;
}

/**
 * `reader.readAudit(fromSeq, limit)`, read as one packed batch when it decodes exactly, else
 * row by row: the answer is the same either way.
 */
export async function readAuditFast(reader: PackedAuditReader, fromSeq: number, limit: number): Promise<AuditRecord[]> {
  return unpackAuditBatch(await reader.readAuditPacked(fromSeq, limit)) ?? reader.readAudit(fromSeq, limit);
}
