/**
 * The packed audit batch (src/audit/packed-batch.ts): decoded, it is exactly the records
 * `readAudit` returns, or it is refused. The batches here are packed the way the SQL of
 * src/adapters/store-sql/audit-packed.ts packs them; test/store/conformance.test.ts checks the
 * real SQL on both backends.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditRecord, EventType } from '../../src/core/events.js';
import { readAuditFast, unpackAuditBatch } from '../../src/audit/packed-batch.js';
import type { PackedAuditBatch } from '../../src/ports/store.js';

/** What the SQL builds: concat_ws(chr(1), ...) per row, string_agg(..., chr(2)). */
function pack(records: readonly AuditRecord[], fromSeq = 0, limit = 1000): PackedAuditBatch {
  return {
    fromSeq,
    limit,
    count: records.length,
    canonical: records.map((r) => r.canonical).join('\u0002'),
    columns: records
      .map((r) => [String(r.seq), String(r.time), r.type, r.actor, r.grantId === undefined ? '' : `+${r.grantId}`, r.leafHash].join('\u0001'))
      .join('\u0002'),
  };
}

/** Text that is often plain and sometimes holds a separator. */
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('a', '\u0001', '\u0002', '+', '"', '\\'), maxLength: 6 }) },
);
const records = fc
  .array(
    fc.record({
      gap: fc.nat({ max: 3 }),
      time: fc.integer({ min: -1e15, max: 1e15 }),
      type: text,
      actor: text,
      grantId: fc.option(text, { nil: undefined }),
      canonical: text,
      leafHash: fc.oneof(fc.constant('ab'.repeat(32)), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 66 })),
    }),
    { maxLength: 20 },
  )
  .map((rows) => {
    let seq = -1;
    return rows.map(({ gap, grantId, ...r }): AuditRecord => {
      seq += gap + 1;
      return { seq, ...r, type: r.type as EventType, ...(grantId !== undefined ? { grantId } : {}) };
    });
  });

const holdsSeparator = (r: AuditRecord): boolean =>
  /[\u0001\u0002]/.test([r.type, r.actor, r.grantId ?? ''].join('')) || r.canonical.includes('\u0002');

describe('unpackAuditBatch', () => {
  it('gives back exactly the packed records, and refuses a batch whose values hold a separator', () => {
    fc.assert(
      fc.property(records, (rows) => {
        const unpacked = unpackAuditBatch(pack(rows));
        if (rows.some(holdsSeparator)) expect(unpacked).toBeUndefined();
        else expect(unpacked).toStrictEqual(rows);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps an empty grant id apart from none, and a U+0001 inside the text is no separator there', () => {
    const rows: AuditRecord[] = [
      { seq: 4, time: 1, type: 'grant.requested', actor: 'a', grantId: '', canonical: 'x\u0001y', leafHash: '00' },
      { seq: 9, time: 2, type: 'grant.requested', actor: 'b', canonical: '', leafHash: '' },
    ];
    expect(unpackAuditBatch(pack(rows))).toStrictEqual(rows);
  });

  it('refuses batches whose pieces do not add up', () => {
    const rows: AuditRecord[] = [
      { seq: 1, time: 1, type: 'grant.requested', actor: 'a', canonical: '{}', leafHash: 'aa' },
      { seq: 2, time: 2, type: 'grant.requested', actor: 'b', grantId: 'g', canonical: '{}', leafHash: 'bb' },
    ];
    const good = pack(rows);
    expect(unpackAuditBatch(good)).toStrictEqual(rows);
    expect(unpackAuditBatch({ ...good, count: 1 })).toBeUndefined();
    expect(unpackAuditBatch({ ...good, count: 3 })).toBeUndefined();
    expect(unpackAuditBatch({ ...good, count: -1 })).toBeUndefined();
    expect(unpackAuditBatch({ ...good, count: 1.5 })).toBeUndefined();
    expect(unpackAuditBatch({ ...good, canonical: '{}' })).toBeUndefined();
    expect(unpackAuditBatch({ ...good, columns: good.columns.split('\u0002')[0]! })).toBeUndefined();
    // The rows out of order: the two texts could not be matched up.
    expect(unpackAuditBatch(pack([rows[1]!, rows[0]!]))).toBeUndefined();
    // A grant field without its marker.
    expect(unpackAuditBatch({ ...good, columns: good.columns.replace('\u0001+g\u0001', '\u0001g\u0001') })).toBeUndefined();
    expect(unpackAuditBatch({ ...good, count: 0 })).toBeUndefined();
    expect(unpackAuditBatch(pack([]))).toStrictEqual([]);
  });

  it('reads a range row by row when its packed batch is refused (readAuditFast)', async () => {
    const rows: AuditRecord[] = [{ seq: 0, time: 1, type: 'grant.requested', actor: 'a\u0001b', canonical: '{}', leafHash: 'aa' }];
    const calls: string[] = [];
    const reader = {
      readAudit: async (from: number, limit: number) => (calls.push(`rows ${from} ${limit}`), rows),
      readAuditPacked: async (from: number, limit: number) => (calls.push(`packed ${from} ${limit}`), pack(rows, from, limit)),
    };
    expect(await readAuditFast(reader, 0, 10)).toBe(rows);
    expect(calls).toEqual(['packed 0 10', 'rows 0 10']);
  });
});
