/**
 * Wire batches (src/audit/wire-batch.ts, src/adapters/store-sql/audit-wire.ts) and the row checks
 * on their bytes (src/audit/verify-wire-row.ts), issue #2 item 13.
 *
 * - Decoded, a wire batch is exactly what `readAudit` returns, or it is refused: on responses
 *   written here by the protocol's definition (random values, and every way to break one), and
 *   on a real PGlite store holding odd values and values tampered with SQL (a leading U+FEFF,
 *   which PGlite's decoder drops, non-ASCII, NULLs, short hashes), for every range.
 * - The byte-level row checks report exactly what `inspectRow` reports over the decoded record,
 *   for real entries, random mutations of their texts, and columns that disagree with the text.
 * - The verifier reports the same through wire batches as row by row, on one thread and with
 *   the built worker (dist/), on a tampered PGlite store.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { PGlite } from '@electric-sql/pglite';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/adapters/store-sql/index.js';
import { readAuditWire } from '../../src/adapters/store-sql/audit-wire.js';
import { openPgliteDriver } from '../../src/adapters/store-sql/pglite.js';
import { buildAuditEntry } from '../../src/audit/event.js';
import { readCanonicalEntry } from '../../src/audit/verify-fast-entry.js';
import { MerkleAccumulator } from '../../src/audit/verify-merkle.js';
import { inspectRow } from '../../src/audit/verify-row.js';
import { inspectWireRow, readCanonicalEntryBytes } from '../../src/audit/verify-wire-row.js';
import { verifyAuditLog, type AuditVerifyReport } from '../../src/audit/verify.js';
import { WIRE_COLUMNS, decodeWireBatch, wireRecord, wireRecords, wireRowsFromMessage, wireRowsMessage, type WireRows } from '../../src/audit/wire-batch.js';
import { EVENT_TYPES, type AuditEventInput, type AuditRecord, type EventType } from '../../src/core/events.js';
import type { WireAuditBatch } from '../../src/ports/store.js';
import { assertBuilt } from '../cli/run-cli.js';
import { freshPgliteDataDir } from '../helpers/stores.js';

// The expected answer's columns; the real-store cases below check them against PGlite itself.
const COLUMNS = WIRE_COLUMNS;

/** One backend message: type byte, int32 length (itself included), body. */
function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const int16 = (v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
};
const int32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};
const int64 = (v: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(v));
  return b;
};

function rowDescription(columns = COLUMNS, format = 1): Buffer {
  return message(
    'T',
    Buffer.concat([int16(columns.length), ...columns.map(([name, oid]) => Buffer.concat([Buffer.from(`${name}\u0000`), int32(0), int16(0), int32(oid), int16(-1), int32(-1), int16(format)]))]),
  );
}

type Field = Buffer | null;

function dataRow(fields: readonly Field[]): Buffer {
  return message('D', Buffer.concat([int16(fields.length), ...fields.map((f) => (f === null ? int32(-1) : Buffer.concat([int32(f.length), f])))]));
}

function fieldsOf(r: AuditRecord): Field[] {
  return [int64(r.seq), int64(r.time), Buffer.from(r.type), Buffer.from(r.actor), r.grantId === undefined ? null : Buffer.from(r.grantId), Buffer.from(r.canonical), Buffer.from(r.leafHash, 'hex')];
}

/**
 * The backend's answer to the messages of audit-wire.ts, written by the protocol's definition:
 * CloseComplete and ParseComplete first when the statement was prepared for this batch.
 */
function response(rows: readonly Field[][], opts: { tag?: string; description?: Buffer; prepared?: boolean } = {}): Buffer {
  return Buffer.concat([
    ...(opts.prepared === true ? [] : [message('3', Buffer.alloc(0)), message('1', Buffer.alloc(0))]),
    message('2', Buffer.alloc(0)),
    opts.description ?? rowDescription(),
    ...rows.map(dataRow),
    message('C', Buffer.from(`${opts.tag ?? `SELECT ${rows.length}`}\u0000`)),
    message('Z', Buffer.from('I')),
  ]);
}

const batchOf = (bytes: Buffer): WireAuditBatch => ({ fromSeq: 0, limit: 1000, bytes: new Uint8Array(bytes) });

/** Entries as the broker writes them, chained. */
function buildLog(n: number, input: (seq: number) => AuditEventInput): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (let seq = 0; seq < n; seq++) out.push(buildAuditEntry(input(seq), seq, 1_700_000_000_000 + seq, out[seq - 1]?.leafHash ?? '').record);
  return out;
}

const inputFor = (n: number): AuditEventInput => ({
  type: EVENT_TYPES[n % EVENT_TYPES.length]!,
  actor: n % 3 === 0 ? 'system' : `workload:ci-${n % 7}`,
  ...(n % 2 === 0 ? { grantId: `g-${n >> 1}` } : {}),
  ...(n % 5 === 0 ? { tenant: 'acme' } : {}),
  data: { n, reason: n % 11 === 0 ? 'said "why" \\ twice' : 'routine', list: [n, 'é', null, 1.5, -2e-7, true] },
});

/** Text values: mostly ASCII, sometimes control characters, non-ASCII, astral, a leading BOM. */
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('a', '\u0000', '\u0001', '"', '\\', 'é', '\ufeff', '🦀'), maxLength: 6 }) },
);

describe('decodeWireBatch', () => {
  it('gives back exactly the rows of the response, each text decoded as PGlite decodes a field', () => {
    const decoder = new TextDecoder('utf-8');
    const pglite = (s: string): string => decoder.decode(Buffer.from(s));
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            gap: fc.nat({ max: 3 }),
            time: fc.integer({ min: -1e15, max: 1e15 }),
            type: text,
            actor: text,
            grantId: fc.option(text, { nil: undefined }),
            canonical: text,
            leaf: fc.uint8Array({ maxLength: 40 }),
          }),
          { maxLength: 20 },
        ),
        (specs) => {
          let seq = -1;
          const records = specs.map(({ gap, leaf, grantId, ...r }): AuditRecord => {
            seq += gap + 1;
            return { seq, ...r, type: r.type as EventType, ...(grantId !== undefined ? { grantId } : {}), leafHash: Buffer.from(leaf).toString('hex') };
          });
          const rows = decodeWireBatch(batchOf(response(records.map(fieldsOf))));
          expect(rows).toBeDefined();
          const expected = records.map((r) => ({
            ...r,
            type: pglite(r.type) as EventType,
            actor: pglite(r.actor),
            ...(r.grantId !== undefined ? { grantId: pglite(r.grantId) } : {}),
            canonical: pglite(r.canonical),
          }));
          expect(wireRecords(rows!)).toStrictEqual(expected);
          // The leaf hashes: of 0x00 and the text's bytes, as they lie in the response.
          records.forEach((r, i) => {
            expect(rows!.leaves.slice(64 * i, 64 * i + 64)).toBe(createHash('sha256').update(Buffer.from([0])).update(Buffer.from(r.canonical)).digest('hex'));
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads bigints as Number(BigInt) does, beyond 2^53 too', () => {
    const record = buildLog(1, inputFor)[0]!;
    for (const value of [0, 1, -1, 2 ** 53 - 1, 2 ** 53 + 2, -(2 ** 60) - 12345, 2 ** 62 + 1]) {
      const big = BigInt(value) + 1n;
      const field = Buffer.alloc(8);
      field.writeBigInt64BE(big);
      const fields = fieldsOf(record);
      fields[0] = field;
      fields[1] = field;
      const rows = decodeWireBatch(batchOf(response([fields])))!;
      expect(rows.seqs[0]).toBe(Number(big));
      expect(rows.times[0]).toBe(Number(big));
    }
  });

  it('crosses to another thread as a message with its buffers and decodes the same there', () => {
    const log = buildLog(5, inputFor);
    const rows = decodeWireBatch(batchOf(response(log.map(fieldsOf))))!;
    const { message: m, transfer } = wireRowsMessage(rows);
    const copy = structuredClone(m, { transfer });
    expect(rows.bytes.byteLength).toBe(0); // transferred: this side holds nothing of it
    expect(wireRecords(wireRowsFromMessage(copy))).toStrictEqual(log);
  });

  it('refuses every answer that is not exactly the expected one', () => {
    const log = buildLog(3, inputFor);
    const good = response(log.map(fieldsOf));
    expect(wireRecords(decodeWireBatch(batchOf(good))!)).toStrictEqual(log);
    expect(decodeWireBatch(batchOf(response([])))).toMatchObject({ count: 0 });
    // The statement prepared by an earlier batch: the answer starts with BindComplete.
    expect(wireRecords(decodeWireBatch(batchOf(response(log.map(fieldsOf), { prepared: true })))!)).toStrictEqual(log);
    const refused = (bytes: Buffer): void => expect(decodeWireBatch(batchOf(bytes))).toBeUndefined();
    refused(Buffer.alloc(0));
    // Only those two beginnings: CloseComplete, ParseComplete, BindComplete, or BindComplete.
    const prepared = response(log.map(fieldsOf), { prepared: true });
    refused(Buffer.concat([message('1', Buffer.alloc(0)), prepared]));
    refused(Buffer.concat([message('3', Buffer.alloc(0)), prepared]));
    refused(Buffer.concat([message('3', Buffer.alloc(0)), message('3', Buffer.alloc(0)), message('1', Buffer.alloc(0)), prepared]));
    refused(prepared.subarray(5));
    for (let cut = 1; cut < good.length; cut += 7) refused(good.subarray(0, good.length - cut));
    refused(Buffer.concat([good, message('Z', Buffer.from('I'))]));
    // An error instead of the rows (what a failed statement answers before ReadyForQuery).
    refused(Buffer.concat([message('E', Buffer.from('SERROR\u0000Mboom\u0000\u0000')), message('Z', Buffer.from('I'))]));
    refused(Buffer.concat([message('3', Buffer.alloc(0)), message('1', Buffer.alloc(0)), message('E', Buffer.from('SERROR\u0000Mboom\u0000\u0000')), message('Z', Buffer.from('I'))]));
    // A notice among the rows.
    refused(Buffer.concat([good.subarray(0, good.length - 6 - 13), message('N', Buffer.from('SWARNING\u0000\u0000')), good.subarray(good.length - 6 - 13)]));
    refused(response(log.map(fieldsOf), { tag: 'SELECT 2' }));
    refused(response(log.map(fieldsOf), { description: rowDescription(COLUMNS, 0) }));
    refused(response(log.map(fieldsOf), { description: rowDescription(COLUMNS.map(([n, oid]) => [n, oid === 17 ? 25 : oid] as const)) }));
    refused(response(log.map(fieldsOf), { description: rowDescription(COLUMNS.map(([n, oid]) => [n === 'actor' ? 'actors' : n, oid] as const)) }));
    refused(response(log.map(fieldsOf), { description: rowDescription(COLUMNS.slice(0, 6)) }));
    // A NULL where readAudit has no rule for one; a bigint of the wrong size; too few fields.
    for (const f of [0, 1, 2, 3, 5, 6]) refused(response(log.map((r, i) => fieldsOf(r).map((v, k) => (i === 1 && k === f ? null : v)))));
    refused(response(log.map((r, i) => fieldsOf(r).map((v, k) => (i === 1 && k === 0 ? Buffer.alloc(4) : v)))));
    refused(response(log.map((r) => fieldsOf(r).slice(0, 6))));
    // Rows not in ascending seq: not the answer to ORDER BY seq.
    refused(response([log[1]!, log[0]!, log[2]!].map(fieldsOf)));
    refused(response([log[0]!, log[0]!].map(fieldsOf)));
  });
});

describe('the row checks on the bytes of a wire row', () => {
  const comparable = (rows: WireRows, i: number, index: number, prev: string): void => {
    const reference = inspectRow(wireRecord(rows, i), index, prev);
    expect(inspectWireRow(rows, i, index, prev)).toStrictEqual(reference);
  };

  it('report what inspectRow reports, on real entries and on every column changed', () => {
    const log = buildLog(40, inputFor);
    const rows = decodeWireBatch(batchOf(response(log.map(fieldsOf))))!;
    for (let i = 0; i < log.length; i++) {
      comparable(rows, i, i, log[i - 1]?.leafHash ?? '');
      comparable(rows, i, i, 'f'.repeat(64));
    }
    const edits: ((r: AuditRecord) => AuditRecord)[] = [
      (r) => ({ ...r, time: r.time + 1 }),
      (r) => ({ ...r, type: 'grant.revoked' }),
      (r) => ({ ...r, actor: `${r.actor}x` }),
      (r) => ({ ...r, actor: `\ufeff${r.actor}` }),
      (r) => ({ ...r, actor: r.actor.slice(1) }),
      ({ grantId: _g, ...r }) => r,
      (r) => ({ ...r, grantId: '' }),
      (r) => ({ ...r, grantId: `${r.grantId ?? ''}é` }),
      (r) => ({ ...r, leafHash: r.leafHash.slice(2) }),
      (r) => ({ ...r, leafHash: `${r.leafHash.slice(0, 62)}00` }),
      (r) => ({ ...r, seq: r.seq + 1000 }),
      (r) => ({ ...r, canonical: r.canonical.replace('"prev":"', '"prev":"0') }),
      (r) => ({ ...r, canonical: `\ufeff${r.canonical}` }),
    ];
    for (const edit of edits) {
      for (const at of [0, 1, 2, 7]) {
        const tampered = log.slice(0, 10).map((r, i) => (i === at ? edit(r) : r));
        const t = decodeWireBatch(batchOf(response(tampered.map(fieldsOf))));
        if (t === undefined) continue; // (a seq pushed out of order)
        for (let i = 0; i < tampered.length; i++) comparable(t, i, i, log[i - 1]?.leafHash ?? '');
      }
    }
  });

  it('report what inspectRow reports on random mutations of real entry texts, hashed or not', () => {
    const log = buildLog(12, inputFor);
    const alphabet = ['"', '\\', ',', ':', '{', '}', '[', ']', '0', '1', '-', '.', 'e', 'a', ' ', '\u0001', 'é', '\u007f', 't', 'n'];
    fc.assert(
      fc.property(
        fc.nat({ max: log.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...alphabet), fc.constantFrom('set', 'insert', 'delete')), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (k, edits, rehash) => {
          const r = log[k]!;
          let canonical = r.canonical;
          for (const [pos, ch, op] of edits) {
            const p = pos % (canonical.length + 1);
            canonical = op === 'insert' ? canonical.slice(0, p) + ch + canonical.slice(p) : op === 'delete' ? canonical.slice(0, p) + canonical.slice(p + 1) : canonical.slice(0, p) + ch + canonical.slice(p + 1);
          }
          const leafHash = rehash ? createHash('sha256').update(Buffer.from([0])).update(canonical).digest('hex') : r.leafHash;
          const rows = decodeWireBatch(batchOf(response([fieldsOf({ ...r, canonical, leafHash })])))!;
          comparable(rows, 0, k, log[k - 1]?.leafHash ?? '');
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('accept only texts the string fast path accepts, with the same members', () => {
    const bodies = fc.record({
      actor: fc.string({ maxLength: 10 }),
      data: fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
      grantId: fc.option(fc.string({ maxLength: 6 }), { nil: undefined }),
      tenant: fc.option(fc.string({ maxLength: 6 }), { nil: undefined }),
      seq: fc.nat(),
      time: fc.nat(),
      type: fc.string({ maxLength: 10 }),
    });
    fc.assert(
      fc.property(bodies, fc.boolean(), ({ grantId, tenant, ...b }, knownPrev) => {
        const input = { type: b.type as EventType, actor: b.actor, ...(grantId !== undefined ? { grantId } : {}), ...(tenant !== undefined ? { tenant } : {}), data: b.data as Record<string, unknown> };
        const prev = knownPrev ? 'a'.repeat(64) : '';
        const { canonical } = buildAuditEntry(input, b.seq, b.time, prev).record;
        const bytes = Buffer.from(`xx${canonical}yy`);
        const out = { seq: 0, time: 0, actor0: 0, actor1: 0, grant0: -1, grant1: -1, type0: 0, type1: 0, prev: '' };
        if (readCanonicalEntryBytes(bytes, 2, bytes.length - 2, knownPrev ? prev : '', out)) {
          const fast = readCanonicalEntry(canonical, knownPrev ? prev : '');
          expect(fast).toBeDefined();
          expect({
            seq: out.seq,
            time: out.time,
            actor: bytes.toString('latin1', out.actor0, out.actor1),
            type: bytes.toString('latin1', out.type0, out.type1),
            ...(out.grant0 >= 0 ? { grantId: bytes.toString('latin1', out.grant0, out.grant1) } : {}),
            prev: out.prev,
          }).toStrictEqual(fast);
        } else {
          // Refused: only texts that are not plain ASCII (the reference decides those).
          expect(/^[\u0020-\u007f]*$/.test(canonical) && !canonical.includes('\\')).toBe(false);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('MerkleAccumulator.appendBytes', () => {
  it('grows the same tree as append of the same hashes in hex, and refuses a short hash', () => {
    const byHex = new MerkleAccumulator();
    const byBytes = new MerkleAccumulator();
    const bytes = Buffer.alloc(40 * 32 + 5);
    for (let i = 0; i < 40; i++) {
      const leaf = createHash('sha256').update(`leaf ${i}`).digest();
      leaf.copy(bytes, 5 + 32 * i);
      byHex.append(leaf.toString('hex'));
      byBytes.appendBytes(bytes, 5 + 32 * i);
      expect(byBytes.frontierHex()).toEqual(byHex.frontierHex());
      expect(byBytes.root()).toEqual(byHex.root());
    }
    expect(() => byBytes.appendBytes(bytes, bytes.length - 31)).toThrow(RangeError);
    expect(() => byBytes.appendBytes(bytes, -1)).toThrow(RangeError);
    expect(byBytes.size).toBe(40);
  });
});

/** The report without its timing. */
function comparableReport(report: AuditVerifyReport): Omit<AuditVerifyReport, 'eventsPerSecond'> {
  const { eventsPerSecond: _rate, ...rest } = report;
  return rest;
}

describe('wire batches of a real PGlite store', () => {
  type VerifyInWorker = typeof import('../../src/audit/verify-parallel.js').verifyAuditLogInWorker;
  let verifyInWorker: VerifyInWorker;
  beforeAll(async () => {
    assertBuilt();
    ({ verifyAuditLogInWorker: verifyInWorker } = (await import(new URL('../../dist/audit/verify-parallel.js', import.meta.url).href)) as { verifyAuditLogInWorker: VerifyInWorker });
  });

  it('decode into exactly the records readAudit returns, odd and tampered values too, and verify the same', async () => {
    const dir = await freshPgliteDataDir();
    try {
      let store = await openStore({ kind: 'pglite', dataDir: dir.dataDir });
      const odd: AuditEventInput[] = [
        { type: 'grant.requested', actor: 'workload:a"b\\c', grantId: '', data: { s: 'é 🦀 "x"' } },
        { type: 'grant.requested', actor: 'workload:\u0001split', grantId: 'g-3', data: {} },
        { type: 'grant.requested', actor: '\ufeffworkload:bom', data: { t: '\u0001\u0002' } },
      ];
      for (let n = 0; n < 240; n += 40) {
        await store.transaction((tx) => tx.appendAudit([...Array.from({ length: 40 }, (_, j) => inputFor(n + j)), ...(n === 80 ? odd : [])], 1_700_000_000_000 + n));
      }
      await store.close();
      const db = await PGlite.create(dir.dataDir);
      try {
        // A leading U+FEFF (PGlite's decoder drops it), non-ASCII, a short hash, NULLs and ''.
        await db.query(`UPDATE audit_events SET actor = chr(65279) || actor WHERE seq = 10`);
        await db.query(`UPDATE audit_events SET canonical = chr(65279) || canonical WHERE seq = 30`);
        await db.query(`UPDATE audit_events SET type = type || 'é' WHERE seq = 50`);
        await db.query(`UPDATE audit_events SET leaf_hash = substring(leaf_hash from 1 for 3) WHERE seq = 70`);
        await db.query(`UPDATE audit_events SET grant_id = NULL WHERE seq = 90`);
        await db.query(`UPDATE audit_events SET grant_id = '' WHERE seq = 110`);
        await db.query(`UPDATE audit_events SET canonical = replace(canonical, 'routine', 'routinë') WHERE seq = 150`);
        await db.query('DELETE FROM audit_events WHERE seq = 170');
      } finally {
        await db.close();
      }
      store = await openStore({ kind: 'pglite', dataDir: dir.dataDir });
      try {
        expect(store.readAuditWire).toBeDefined();
        const size = (await store.auditHead()).size;
        for (let from = 0; from < size + 2; from += 17) {
          for (const limit of [1, 9, 40, 1000]) {
            const rows = decodeWireBatch(await store.readAuditWire!(from, limit));
            expect(rows, `[${from}, +${limit})`).toBeDefined();
            expect(wireRecords(rows!), `[${from}, +${limit})`).toStrictEqual(await store.readAudit(from, limit));
          }
        }
        // An empty range is refused, and the verifier then reads it row by row.
        expect(decodeWireBatch(await store.readAuditWire!(0, 0))).toBeUndefined();
        const opts = { batchSize: 32 };
        const rowByRow = await verifyAuditLog({ readAudit: (f, l) => store.readAudit(f, l), auditHead: () => store.auditHead() }, opts);
        expect(rowByRow.ok).toBe(false);
        // (Seqs 10 and 30 read back as they were written: PGlite's decoder drops the leading
        // U+FEFF on every path, readAudit's too. Both paths must see the same, which they do.)
        expect(rowByRow.problems.map((p) => p.index)).toEqual(expect.arrayContaining([50, 70, 90, 110, 150, 170]));
        expect(comparableReport(await verifyAuditLog(store, opts))).toStrictEqual(comparableReport(rowByRow));
        expect(comparableReport(await verifyInWorker(store, opts))).toStrictEqual(comparableReport(rowByRow));
      } finally {
        await store.close();
      }
      // The statement is prepared once per session; when the session drops it, the one batch
      // read meanwhile is refused (and read row by row) and the next prepares it again.
      const driver = await openPgliteDriver(dir.dataDir);
      try {
        const read = async (): Promise<WireRows | undefined> => decodeWireBatch((await readAuditWire(driver, 0, 5))!);
        const first = await read();
        expect(first?.count).toBe(5);
        expect((await read())?.count).toBe(5);
        await driver.query('DEALLOCATE ALL');
        expect(await read()).toBeUndefined();
        expect(wireRecords((await read())!)).toStrictEqual(wireRecords(first!));
      } finally {
        await driver.close();
      }
    } finally {
      await dir.cleanup();
    }
  }, 60_000);
});
