/**
 * The Bind, Execute and Sync messages of the PostgreSQL frontend/backend protocol (PostgreSQL
 * docs, "Message Formats") for an unnamed portal of a named statement, written into one buffer.
 *
 * Why not PGlite's own serializer (`protocol.serialize.bind`): it writes each parameter through a
 * growable writer, copies every byte array, and then the three messages are concatenated again;
 * for the group commit's ~300 parameters that was 6% of an issued grant's CPU time (measured,
 * docs/benchmarks.md "What changed in session 5"). The bytes are the same: a test compares them
 * with PGlite's serializer on random parameters.
 *
 * Parameters: text format for strings, binary for byte arrays, -1 length for NULL; results are
 * requested as text (zero result-format codes).
 */

/** One parameter as sent: text, bytes (binary format), or NULL. */
export type WireParam = string | Uint8Array | null;

const EXECUTE_UNNAMED_ALL_ROWS = [0x45, 0, 0, 0, 9, 0, 0, 0, 0, 0] as const; // 'E', len 9, portal "", rows 0
const SYNC = [0x53, 0, 0, 0, 4] as const; // 'S', len 4
const DESCRIBE_UNNAMED_PORTAL = [0x44, 0, 0, 0, 6, 0x50, 0] as const; // 'D', len 6, 'P'ortal ""

/**
 * Bind (unnamed portal, `statement`, `params`) + Execute (all rows) + Sync, as one byte array;
 * with `describe`, a Describe of the portal between Bind and Execute, so the answer names the
 * result's columns (a RowDescription, or NoData).
 */
export function bindExecuteSync(statement: string, params: readonly WireParam[], describe = false): Uint8Array {
  const count = params.length;
  if (count > 0xffff) throw new RangeError(`a Bind message carries at most 65535 parameters, not ${count}`);
  const statementBytes = Buffer.byteLength(statement, 'utf8');
  // Byte length of each text parameter, computed once.
  const lengths = new Int32Array(count);
  let valueBytes = 0;
  for (let i = 0; i < count; i++) {
    const param = params[i]!;
    const length = param === null ? -1 : typeof param === 'string' ? Buffer.byteLength(param, 'utf8') : param.byteLength;
    lengths[i] = length;
    valueBytes += 4 + Math.max(length, 0);
  }
  // Bind body: portal "\0", statement + "\0", format count, formats, value count, values, result-format count.
  const bindLength = 4 + 1 + statementBytes + 1 + 2 + 2 * count + 2 + valueBytes + 2;
  const out = Buffer.allocUnsafe(1 + bindLength + (describe ? DESCRIBE_UNNAMED_PORTAL.length : 0) + EXECUTE_UNNAMED_ALL_ROWS.length + SYNC.length);
  let at = 0;
  out[at++] = 0x42; // 'B'
  at = out.writeInt32BE(bindLength, at);
  out[at++] = 0; // unnamed portal
  at += out.write(statement, at, 'utf8');
  out[at++] = 0;
  at = out.writeUInt16BE(count, at);
  for (let i = 0; i < count; i++) at = out.writeInt16BE(params[i] instanceof Uint8Array ? 1 : 0, at);
  at = out.writeUInt16BE(count, at);
  for (let i = 0; i < count; i++) {
    const param = params[i]!;
    at = out.writeInt32BE(lengths[i]!, at);
    if (param === null) continue;
    if (typeof param === 'string') at += out.write(param, at, 'utf8');
    else {
      out.set(param, at);
      at += param.byteLength;
    }
  }
  at = out.writeInt16BE(0, at); // no result-format codes: every column as text
  if (describe) for (const byte of DESCRIBE_UNNAMED_PORTAL) out[at++] = byte;
  for (const byte of EXECUTE_UNNAMED_ALL_ROWS) out[at++] = byte;
  for (const byte of SYNC) out[at++] = byte;
  return out;
}
