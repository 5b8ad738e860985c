/**
 * Decoding of `Store.readAuditWire` (issue #2, item 13): the PostgreSQL wire protocol response
 * (extended query protocol, binary result columns) to the messages of
 * src/adapters/store-sql/audit-wire.ts, parsed here into the rows of the range: where the rows'
 * fields lie, the two bigints, and each row's leaf hash; no text is decoded. {@link wireRecord}
 * gives a row exactly as `Store.readAudit` returns it; the verifier's fast path
 * (verify-wire-row.ts) reads the bytes themselves. The result crosses to a worker thread with
 * its buffers transferred (`wireRowsMessage`), as verify-parallel.ts does.
 *
 * Exactness: the response is the database's own answer to `readAudit`'s statement (with a LIMIT
 * that never drops a row), so it holds the same rows in the same order. Binary and text format
 * carry the same values: text columns are their UTF-8 bytes in both, decoded here per field with
 * the decoder PGlite uses for every field (`new TextDecoder('utf-8')`: a leading U+FEFF is
 * dropped, like PGlite does); bigint arrives as 8 bytes and becomes `Number(BigInt)`, which is
 * `Number` of what PGlite's parser gives; bytea arrives as its bytes, which `readAudit` writes
 * as lowercase hex. Anything that is not the expected answer (an error, a notice, other
 * columns or types, a NULL where `readAudit` has no rule for one, bytes that do not add up)
 * makes {@link decodeWireBatch} refuse the batch: the caller then reads it with `readAudit`.
 */
import { hash } from 'node:crypto';
import type { AuditRecord, EventType } from '../core/events.js';
import type { WireAuditBatch } from '../ports/store.js';

/** The columns of the statement, in order, with their type OIDs (pg_type: int8, text, bytea). */
export const WIRE_COLUMNS: readonly (readonly [string, number])[] = [
  ['seq', 20],
  ['time', 20],
  ['type', 25],
  ['actor', 25],
  ['grant_id', 25],
  ['canonical', 25],
  ['leaf_hash', 17],
];
/** Fields per row. */
export const WIRE_FIELDS = 7;
/** Field positions in a row. */
export const F_TYPE = 2;
export const F_ACTOR = 3;
export const F_GRANT = 4;
export const F_CANONICAL = 5;
export const F_LEAF = 6;

const CLOSE_COMPLETE = 0x33; // '3'
const PARSE_COMPLETE = 0x31; // '1'
const BIND_COMPLETE = 0x32; // '2'
const ROW_DESCRIPTION = 0x54; // 'T'
const DATA_ROW = 0x44; // 'D'
const COMMAND_COMPLETE = 0x43; // 'C'
const READY_FOR_QUERY = 0x5a; // 'Z'
const BINARY = 1;

/** The rows of a decoded batch: the response bytes and where each field lies in them. */
export interface WireRows {
  readonly count: number;
  readonly bytes: Buffer;
  /** Per row, per field: start and end offsets in `bytes` (start -1: SQL NULL). */
  readonly spans: Int32Array;
  /** Per row: the seq and time columns. */
  readonly seqs: Float64Array;
  readonly times: Float64Array;
  /**
   * Per row, 64 characters: hex SHA-256(0x00 || the stored bytes of `canonical`), the RFC 6962
   * leaf hash of the text as it lies in the response. It is `leafHashHex(record.canonical)`
   * whenever the text is ASCII (the only rows verify-wire-row.ts decides from the bytes); for
   * any other row the reference checks hash the decoded record again. Computed here, by
   * whichever thread decodes the batch, so that the hashing can sit on the reading thread.
   */
  readonly leaves: string;
}

/** The parts of {@link WireRows} that cross to another thread (their buffers are transferred). */
export interface WireRowsMessage {
  readonly count: number;
  readonly bytes: Uint8Array;
  readonly spans: Int32Array;
  readonly seqs: Float64Array;
  readonly times: Float64Array;
  readonly leaves: string;
}

/** `rows` as a message, and the buffers to transfer with it (this thread then holds none of them). */
export function wireRowsMessage(rows: WireRows): { message: WireRowsMessage; transfer: ArrayBuffer[] } {
  const message: WireRowsMessage = {
    count: rows.count,
    bytes: new Uint8Array(rows.bytes.buffer, rows.bytes.byteOffset, rows.bytes.byteLength),
    spans: rows.spans,
    seqs: rows.seqs,
    times: rows.times,
    leaves: rows.leaves,
  };
  const transfer = [rows.bytes.buffer, rows.spans.buffer, rows.seqs.buffer, rows.times.buffer] as ArrayBuffer[];
  return { message, transfer };
}

/** The rows a {@link WireRowsMessage} carried. */
export function wireRowsFromMessage(message: WireRowsMessage): WireRows {
  const { bytes } = message;
  return { ...message, bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/** PGlite's decoder for every text field (see the file comment). */
const decoder = new TextDecoder('utf-8');

/**
 * The big-endian int64 at `at` as `Number(BigInt)` gives it: high word times 2^32 is exact, and
 * the one addition rounds the exact sum to the nearest double, as `Number(BigInt)` does.
 */
function int64(view: DataView, at: number): number {
  return view.getInt32(at) * 4294967296 + view.getUint32(at + 4);
}

/** The big-endian int32 and int16 at `at` (bounds checked by the caller). */
function int32(b: Uint8Array, at: number): number {
  return (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
}

function int16(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16)) >> 16;
}

function cstringEnd(bytes: Uint8Array, at: number, end: number): number {
  const nul = bytes.indexOf(0, at);
  return nul < 0 || nul >= end ? -1 : nul;
}

/** Checks the RowDescription body [at, end): the seven columns, their types, binary format. */
function describesColumns(bytes: Buffer, view: DataView, at: number, end: number): boolean {
  if (end - at < 2 || view.getInt16(at) !== WIRE_FIELDS) return false;
  let p = at + 2;
  for (const [name, type] of WIRE_COLUMNS) {
    const nameEnd = cstringEnd(bytes, p, end);
    if (nameEnd < 0 || nameEnd + 19 > end || bytes.toString('latin1', p, nameEnd) !== name) return false;
    p = nameEnd + 1;
    // table OID (4), column number (2), type OID (4), type size (2), type modifier (4), format (2)
    if (view.getInt32(p + 6) !== type || view.getInt16(p + 16) !== BINARY) return false;
    p += 18;
  }
  return p === end;
}

/**
 * The rows of `batch`, or undefined when its bytes are not exactly the expected answer (see the
 * file comment): read that range with `readAudit` then.
 */
export function decodeWireBatch(batch: WireAuditBatch): WireRows | undefined {
  const raw = batch.bytes;
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const total = bytes.length;
  let p = 0;
  /** The next message: its type and body [p + 5, end). */
  const next = (): { type: number; end: number } | undefined => {
    if (p + 5 > total) return undefined;
    const length = view.getInt32(p + 1);
    if (length < 4 || p + 1 + length > total) return undefined;
    return { type: bytes[p]!, end: p + 1 + length };
  };
  // CloseComplete and ParseComplete when the statement was prepared for this batch, then
  // BindComplete: each an empty message.
  for (const expected of [CLOSE_COMPLETE, PARSE_COMPLETE, BIND_COMPLETE]) {
    const m = next();
    if (m === undefined || m.end !== p + 5) return undefined;
    if (m.type !== expected) {
      if (expected === BIND_COMPLETE || p !== 0) return undefined;
      // Prepared before: the answer starts with BindComplete.
      if (m.type !== BIND_COMPLETE) return undefined;
      p = m.end;
      break;
    }
    p = m.end;
  }
  const description = next();
  if (description === undefined || description.type !== ROW_DESCRIPTION || !describesColumns(bytes, view, p + 5, description.end)) return undefined;
  p = description.end;
  // DataRows until CommandComplete: counted first (a walk over their headers), then read.
  let capacity = 0;
  for (let at = p; at + 5 <= total && bytes[at] === DATA_ROW; capacity++) {
    const length = int32(bytes, at + 1);
    if (length < 4) return undefined;
    at += 1 + length;
  }
  const spans = new Int32Array(capacity * WIRE_FIELDS * 2);
  const seqs = new Float64Array(capacity);
  const times = new Float64Array(capacity);
  let count = 0;
  while (count < capacity) {
    const end = p + 1 + int32(bytes, p + 1);
    if (end < p + 5 || end > total || int16(bytes, p + 5) !== WIRE_FIELDS) return undefined;
    const row = count * WIRE_FIELDS * 2;
    let q = p + 7;
    for (let f = 0; f < WIRE_FIELDS; f++) {
      if (q + 4 > end) return undefined;
      const length = int32(bytes, q);
      q += 4;
      const slot = row + f * 2;
      if (length === -1) {
        // Only grant_id may be NULL (absent grant); readAudit has no such rule for the others.
        if (f !== F_GRANT) return undefined;
        spans[slot] = -1;
        spans[slot + 1] = -1;
        continue;
      }
      if (length < 0 || q + length > end) return undefined;
      spans[slot] = q;
      spans[slot + 1] = q + length;
      q += length;
    }
    if (q !== end) return undefined;
    const seqAt = spans[row]!;
    const timeAt = spans[row + 2]!;
    if (spans[row + 1]! - seqAt !== 8 || spans[row + 3]! - timeAt !== 8) return undefined;
    const seq = int64(view, seqAt);
    // readAudit's ORDER BY seq: anything else is not its answer.
    if (count > 0 && !(seq > seqs[count - 1]!)) return undefined;
    seqs[count] = seq;
    times[count] = int64(view, timeAt);
    count++;
    p = end;
  }
  // The leaf hashes: SHA-256 of 0x00 and the text where it lies. The byte before the text (the
  // last byte of its length, read above) stands in for the 0x00 for the time of the hash.
  const plain = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  const leaves = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const at = spans[(i * WIRE_FIELDS + F_CANONICAL) * 2]!;
    const before = plain[at - 1]!;
    plain[at - 1] = 0;
    leaves[i] = hash('sha256', plain.subarray(at - 1, spans[(i * WIRE_FIELDS + F_CANONICAL) * 2 + 1]!), 'hex');
    plain[at - 1] = before;
  }
  const done = next();
  if (done === undefined || done.type !== COMMAND_COMPLETE) return undefined;
  const tagEnd = cstringEnd(bytes, p + 5, done.end);
  if (tagEnd !== done.end - 1 || bytes.toString('latin1', p + 5, tagEnd) !== `SELECT ${count}`) return undefined;
  p = done.end;
  const ready = next();
  // ReadyForQuery carries one status byte; the response ends with it.
  if (ready === undefined || ready.type !== READY_FOR_QUERY || ready.end !== p + 6 || ready.end !== total) return undefined;
  return { count, bytes, spans, seqs, times, leaves: leaves.join('') };
}

/** Field `f` of row `i` as `readAudit` decodes a text column. */
export function wireText(rows: WireRows, i: number, f: number): string {
  const slot = (i * WIRE_FIELDS + f) * 2;
  return decoder.decode(rows.bytes.subarray(rows.spans[slot]!, rows.spans[slot + 1]!));
}

/** Row `i` exactly as `Store.readAudit` returns it. */
export function wireRecord(rows: WireRows, i: number): AuditRecord {
  const grantAt = (i * WIRE_FIELDS + F_GRANT) * 2;
  const leafAt = (i * WIRE_FIELDS + F_LEAF) * 2;
  return {
    seq: rows.seqs[i]!,
    time: rows.times[i]!,
    type: wireText(rows, i, F_TYPE) as EventType,
    actor: wireText(rows, i, F_ACTOR),
    ...(rows.spans[grantAt]! >= 0 ? { grantId: wireText(rows, i, F_GRANT) } : {}),
    canonical: wireText(rows, i, F_CANONICAL),
    leafHash: rows.bytes.toString('hex', rows.spans[leafAt]!, rows.spans[leafAt + 1]!),
  };
}

/** Every row of `rows`, as `readAudit` returns them. */
export function wireRecords(rows: WireRows): AuditRecord[] {
  const out = new Array<AuditRecord>(rows.count);
  for (let i = 0; i < rows.count; i++) out[i] = wireRecord(rows, i);
  return out;
}

/** The seq of the last row (where the verifier reads on), if there are rows. */
export function lastSeqOfRows(rows: WireRows | undefined): number | undefined {
  return rows === undefined || rows.count === 0 ? undefined : rows.seqs[rows.count - 1];
}
