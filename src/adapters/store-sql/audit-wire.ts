/**
 * `Store.readAuditWire` (PGlite only): a range of the audit log as the database's own answer, the
 * PostgreSQL wire protocol response with every column in binary format, left unparsed (issue #2,
 * item 13: `stint audit verify` >= 200,000 events/s with the store reads included). PGlite parses
 * every field of a result, and decodes every text, in JavaScript on the thread that opened it;
 * measured with --cpu-prof on 200,000 packed events, that was about a third of the reading time. The bytes
 * are instead parsed by src/audit/wire-batch.ts, on the verifier's worker thread, into exactly
 * the records `readAudit` returns (or refused, and that range is read with `readAudit`).
 *
 * The statement is `readAudit`'s own, with the LIMIT of audit-packed.ts (the planner then reads
 * the primary key index in order; the LIMIT never drops a row of the range).
 */
import type { WireAuditBatch } from '../../ports/store.js';
import type { SqlDriver } from './driver.js';
import { concatBytes } from './bytes.js';

/** The columns, in this order, that src/audit/wire-batch.ts expects (it checks their names and types). */
export const READ_AUDIT_WIRE = `SELECT seq, time, type, actor, grant_id, canonical, leaf_hash FROM audit_events
  WHERE seq >= $1 AND seq < $2 ORDER BY seq LIMIT $3`;

const encoder = new TextEncoder();

/** One frontend message: its type byte, its length (itself included), its body. */
function message(type: string, body: readonly Uint8Array[]): Uint8Array {
  const length = 4 + body.reduce((n, part) => n + part.length, 0);
  const out = new Uint8Array(1 + length);
  out[0] = type.charCodeAt(0);
  new DataView(out.buffer).setInt32(1, length);
  let at = 5;
  for (const part of body) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function int16(value: number): Uint8Array {
  const out = new Uint8Array(2);
  new DataView(out.buffer).setInt16(0, value);
  return out;
}

function int32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, value);
  return out;
}

/** A C string: UTF-8 and a NUL. */
function cstring(text: string): Uint8Array {
  return encoder.encode(`${text}\u0000`);
}

/** The prepared statement's name: Parse and plan once per database session, not per batch. */
const STATEMENT = 'stint_read_audit_wire';

/**
 * The frontend messages for one batch. Unprepared: Close the named statement (no error when it
 * does not exist), Parse it (parameter types inferred: bigint). Then always: Bind (the parameters
 * as decimal text; one result format code, 1: every column binary), Describe the portal (its
 * RowDescription names the columns and their types, which the decoder checks), Execute (all
 * rows), Sync (the backend answers ReadyForQuery, after an error too, so nothing is left
 * half-done). Measured on 200,000 events: Parse and plan per batch cost ~20% of the read.
 */
export function readAuditWireMessage(params: readonly number[], prepared: boolean): Uint8Array {
  const values = params.map((p) => encoder.encode(String(p)));
  const parts = [
    ...(prepared ? [] : [message('C', [encoder.encode('S'), cstring(STATEMENT)]), message('P', [cstring(STATEMENT), cstring(READ_AUDIT_WIRE), int16(0)])]),
    message('B', [cstring(''), cstring(STATEMENT), int16(0), int16(values.length), ...values.flatMap((v) => [int32(v.length), v]), int16(1), int16(1)]),
    message('D', [encoder.encode('P'), cstring('')]),
    message('E', [cstring(''), int32(0)]),
    message('S', []),
  ];
  return concatBytes(parts);
}

/** Whether the statement is prepared in the driver's session (PGlite: one session per driver). */
const preparedOn = new WeakSet<SqlDriver>();

/** Whether the response bound the statement: a BindComplete ('2') among its first three messages. */
function bound(bytes: Uint8Array, length: number): boolean {
  let at = 0;
  for (let k = 0; k < 3 && at + 5 <= length; k++) {
    if (bytes[at] === 0x32) return true;
    at += 1 + new DataView(bytes.buffer, bytes.byteOffset + at + 1, 4).getInt32(0);
  }
  return false;
}

/**
 * The events with seq in [fromSeq, fromSeq + limit) as the wire response, or undefined when the
 * driver does not hand out its wire bytes (PostgreSQL: node-postgres parses on a socket, off
 * the critical path). `fromSeq` and `limit` are safe integers (the verifier's batches). After
 * any answer that did not bind (an error: e.g. the session dropped its prepared statements),
 * the next call prepares the statement again.
 */
export async function readAuditWire(driver: SqlDriver, fromSeq: number, limit: number): Promise<WireAuditBatch | undefined> {
  if (driver.exchangeWire === undefined) return undefined;
  if (!Number.isSafeInteger(fromSeq) || !Number.isSafeInteger(limit) || !Number.isSafeInteger(fromSeq + limit)) {
    throw new RangeError('readAuditWire reads a range of safe integers');
  }
  if (limit <= 0) return { fromSeq, limit, bytes: new Uint8Array(0) };
  const { bytes, length } = await driver.exchangeWire(readAuditWireMessage([fromSeq, fromSeq + limit, limit], preparedOn.has(driver)));
  if (bound(bytes, length)) preparedOn.add(driver);
  else preparedOn.delete(driver);
  return { fromSeq, limit, bytes: bytes.subarray(0, length) };
}
