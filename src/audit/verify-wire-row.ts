/**
 * The single-row checks of verify-row.ts over a row of a wire batch (wire-batch.ts), on its bytes
 * (issue #2, item 13: >= 200,000 events/s with the reads included). For the rows the broker
 * writes, nothing is decoded into strings but the hex hashes: the entry text is hashed as it lies
 * in the response (when the batch is decoded, wire-batch.ts), and read by a byte-level twin of
 * the fast path in verify-fast-entry.ts.
 *
 * It decides a row only when `inspectRow(wireRecord(rows, i), ...)` (the reference, over exactly
 * the record `readAudit` gives) would find nothing wrong with it, and then returns the same
 * facts; every other row is handed to `inspectRow` over that record, so no verdict and no
 * message ever differs. Why acceptance implies that:
 *
 * - The entry text must be ASCII without control characters or backslashes: its UTF-8 bytes are
 *   then its UTF-16 code units one for one (no BOM either, which PGlite's decoder would drop),
 *   so the hash of the bytes after 0x00 is `leafHashHex(record.canonical)`, and every test
 *   below on a byte is the test verify-fast-entry.ts makes on the same character (the same
 *   grammar, member order, name order and number rules: `readCanonicalEntry` accepts the text
 *   and returns the same members).
 * - The stored leaf hash must be those 32 bytes, and the stored time, type, actor and grant id
 *   must be what the entry says: byte for byte for the texts (ASCII, so the decoded strings are
 *   equal too), so `disagreeingColumn` finds nothing.
 */
import { PREV_PATTERN } from './verify-entry-shape.js';
import { inspectRow, type RowFacts } from './verify-row.js';
import type { AuditProblem } from './verify-types.js';
import { F_ACTOR, F_CANONICAL, F_GRANT, F_LEAF, F_TYPE, WIRE_FIELDS, wireRecord, type WireRows } from './wire-batch.js';

const QUOTE = 0x22;
const COMMA = 0x2c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const COLON = 0x3a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
/** Bytes below this are control characters; from 0x80 on, not ASCII. */
const FIRST_PRINTABLE = 0x20;
const FIRST_NON_ASCII = 0x80;
/** Deepest nesting followed, as in verify-fast-entry.ts. */
const MAX_DEPTH = 64;
/** Longest integer read as seq or time, as in verify-fast-entry.ts: below 10^15, exact. */
const MAX_INTEGER_DIGITS = 15;
const HASH_BYTES = 32;
/** Longer than any text Number::toString writes. */
const MAX_NUMBER_TEXT = 32;

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const ACTOR = ascii('"actor":');
const DATA = ascii(',"data":');
const GRANT = ascii(',"grantId":');
const PREV = ascii(',"prev":');
const SEQ = ascii(',"seq":');
const TENANT = ascii(',"tenant":');
const TIME = ascii(',"time":');
const TYPE = ascii(',"type":');
const TRUE = ascii('true');
const FALSE = ascii('false');
const NULL = ascii('null');
/** Lowercase hex digit codes, for comparing hex text with bytes. */
const HEX = ascii('0123456789abcdef');

/** Where `name` (bytes) ends if b[pos..] starts with it, else -1. */
function member(b: Uint8Array, pos: number, end: number, name: Uint8Array): number {
  if (pos < 0 || pos + name.length > end) return -1;
  for (let k = 0; k < name.length; k++) if (b[pos + k] !== name[k]) return -1;
  return pos + name.length;
}

/** Per byte inside a string: 0 plain (printable ASCII but `"` and `\`), 1 the closing quote, 2 refused. */
const IN_STRING = new Uint8Array(256).map((_, c) => (c === QUOTE ? 1 : c < FIRST_PRINTABLE || c >= FIRST_NON_ASCII || c === BACKSLASH ? 2 : 0));

/** End of the plain string at `at` (its opening quote), or -1: only printable ASCII, no backslash. */
function skipString(b: Uint8Array, at: number, end: number): number {
  if (at < 0 || b[at] !== QUOTE) return -1;
  let p = at + 1;
  while (p < end && IN_STRING[b[p]!] === 0) p++;
  return p < end && b[p] === QUOTE ? p + 1 : -1;
}

function numberEnd(b: Uint8Array, start: number, end: number): number {
  let p = start;
  for (; p < end; p++) {
    const c = b[p]!;
    if (!((c >= DIGIT_0 && c <= DIGIT_9) || c === MINUS || c === PLUS || c === DOT || c === 0x65 || c === 0x45)) break;
  }
  return p;
}

/** Value of the canonical non-negative integer b[start, end) of at most 15 digits, or -1. */
function smallInteger(b: Uint8Array, start: number, end: number): number {
  const length = end - start;
  if (length < 1 || length > MAX_INTEGER_DIGITS || (length > 1 && b[start] === DIGIT_0)) return -1;
  let value = 0;
  for (let k = start; k < end; k++) {
    const c = b[k]!;
    if (c < DIGIT_0 || c > DIGIT_9) return -1;
    value = value * 10 + (c - DIGIT_0);
  }
  return value;
}

function skipNumber(b: Uint8Array, start: number, end: number): number {
  const stop = numberEnd(b, start, end);
  if (smallInteger(b, start, stop) >= 0) return stop;
  // Number::toString writes at most 24 characters ("-1.2345678901234567e+308"): a longer token
  // is not canonical, and is refused before it is copied.
  if (stop - start > MAX_NUMBER_TEXT) return -1;
  const token = String.fromCharCode(...b.subarray(start, stop));
  return String(Number(token)) === token ? stop : -1;
}

/** The byte at `p` if it lies inside the text (before `end`), else -1. */
function byteAt(b: Uint8Array, p: number, end: number): number {
  return p >= 0 && p < end ? b[p]! : -1;
}

function skipValue(b: Uint8Array, at: number, end: number, depth: number): number {
  const c = byteAt(b, at, end);
  if (c === QUOTE) return skipString(b, at, end);
  if (c === OPEN_OBJECT) return skipObject(b, at, end, depth + 1);
  if (c === OPEN_ARRAY) return skipArray(b, at, end, depth + 1);
  if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) return skipNumber(b, at, end);
  if (c === 0x74) return member(b, at, end, TRUE);
  if (c === 0x66) return member(b, at, end, FALSE);
  if (c === 0x6e) return member(b, at, end, NULL);
  return -1;
}

function skipArray(b: Uint8Array, at: number, end: number, depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  let p = at + 1;
  if (byteAt(b, p, end) === CLOSE_ARRAY) return p + 1;
  for (;;) {
    p = skipValue(b, p, end, depth);
    if (p < 0) return -1;
    const c = byteAt(b, p, end);
    if (c === CLOSE_ARRAY) return p + 1;
    if (c !== COMMA) return -1;
    p++;
  }
}

/** Whether b[a0, a1) sorts strictly before b[b0, b1) (bytes of ASCII: UTF-16 code unit order). */
function sortsBefore(b: Uint8Array, a0: number, a1: number, b0: number, b1: number): boolean {
  const n = Math.min(a1 - a0, b1 - b0);
  for (let k = 0; k < n; k++) {
    const x = b[a0 + k]!;
    const y = b[b0 + k]!;
    if (x !== y) return x < y;
  }
  return a1 - a0 < b1 - b0;
}

function skipObject(b: Uint8Array, at: number, end: number, depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  let p = at + 1;
  if (byteAt(b, p, end) === CLOSE_OBJECT) return p + 1;
  let lastName = -1;
  let lastNameEnd = -1;
  for (;;) {
    const nameEnd = skipString(b, p, end) - 1;
    if (nameEnd < 0 || byteAt(b, nameEnd + 1, end) !== COLON) return -1;
    if (lastName >= 0 && !sortsBefore(b, lastName, lastNameEnd, p + 1, nameEnd)) return -1;
    lastName = p + 1;
    lastNameEnd = nameEnd;
    p = skipValue(b, nameEnd + 2, end, depth);
    if (p < 0) return -1;
    const c = byteAt(b, p, end);
    if (c === CLOSE_OBJECT) return p + 1;
    if (c !== COMMA) return -1;
    p++;
  }
}

/** Whether b[start, end) holds exactly the ASCII text `text`, or its `length` characters from `from`. */
function bytesAre(b: Uint8Array, start: number, end: number, text: string, from = 0, length = text.length): boolean {
  if (end - start !== length) return false;
  for (let k = 0; k < length; k++) if (b[start + k] !== text.charCodeAt(from + k)) return false;
  return true;
}

/**
 * The leaf hash string this module last returned, and where it lies in its batch's `leaves`:
 * when the next row's known leaf is that very string (the usual link), its characters are read
 * from `leaves`, one flat string, rather than from the slice.
 */
let lastRows: WireRows | undefined;
let lastAt = 0;
let lastHex = '';

function sameBytes(b: Uint8Array, a0: number, a1: number, b0: number, b1: number): boolean {
  if (a1 - a0 !== b1 - b0) return false;
  for (let k = 0; k < a1 - a0; k++) if (b[a0 + k] !== b[b0 + k]) return false;
  return true;
}

/** Whether the 32 bytes at `at` are the lowercase hex digest at `from` in `hex`. */
function digestIs(b: Uint8Array, at: number, hex: string, from: number): boolean {
  for (let k = 0; k < HASH_BYTES; k++) {
    const byte = b[at + k]!;
    if (hex.charCodeAt(from + 2 * k) !== HEX[byte >> 4] || hex.charCodeAt(from + 2 * k + 1) !== HEX[byte & 15]) return false;
  }
  return true;
}

/** The members the row checks need, as offsets into the bytes (reused: no allocation per row). */
interface EntrySpans {
  seq: number;
  time: number;
  actor0: number;
  actor1: number;
  /** -1 when the entry has no grantId. */
  grant0: number;
  grant1: number;
  type0: number;
  type1: number;
  prev: string;
}

/**
 * Whether b[start, end) is a well-formed entry in canonical form that the string fast path
 * (`readCanonicalEntry`) accepts too, filling `out` with its members (see the file comment).
 */
export function readCanonicalEntryBytes(
  b: Uint8Array,
  start: number,
  end: number,
  knownLeaf: string,
  out: EntrySpans,
  /** Where the characters of `knownLeaf` can be read: `knownText` from `knownFrom` on. */
  knownText: string = knownLeaf,
  knownFrom = 0,
): boolean {
  if (byteAt(b, start, end) !== OPEN_OBJECT) return false;
  let at = member(b, start + 1, end, ACTOR);
  let p = skipString(b, at, end);
  if (p < 0) return false;
  out.actor0 = at + 1;
  out.actor1 = p - 1;
  at = member(b, p, end, DATA);
  if (byteAt(b, at, end) !== OPEN_OBJECT) return false;
  p = skipObject(b, at, end, 1);
  if (p < 0) return false;
  out.grant0 = -1;
  out.grant1 = -1;
  at = member(b, p, end, GRANT);
  if (at >= 0) {
    p = skipString(b, at, end);
    if (p < 0) return false;
    out.grant0 = at + 1;
    out.grant1 = p - 1;
  }
  at = member(b, p, end, PREV);
  p = skipString(b, at, end);
  if (p < 0) return false;
  if (bytesAre(b, at + 1, p - 1, knownText, knownFrom, knownLeaf.length)) {
    out.prev = knownLeaf;
  } else {
    // PREV_PATTERN takes "" or 64 hex digits: a longer text is refused before it is copied.
    if (p - 1 - (at + 1) > 2 * HASH_BYTES) return false;
    const prev = String.fromCharCode(...b.subarray(at + 1, p - 1));
    if (!PREV_PATTERN.test(prev)) return false;
    out.prev = prev;
  }
  at = member(b, p, end, SEQ);
  if (at < 0) return false;
  p = numberEnd(b, at, end);
  out.seq = smallInteger(b, at, p);
  if (out.seq < 0) return false;
  at = member(b, p, end, TENANT);
  if (at >= 0) {
    p = skipString(b, at, end);
    if (p < 0) return false;
  }
  at = member(b, p, end, TIME);
  if (at < 0) return false;
  p = numberEnd(b, at, end);
  out.time = smallInteger(b, at, p);
  if (out.time < 0) return false;
  at = member(b, p, end, TYPE);
  p = skipString(b, at, end);
  if (p < 0 || p !== end - 1 || byteAt(b, p, end) !== CLOSE_OBJECT) return false;
  out.type0 = at + 1;
  out.type1 = p - 1;
  return true;
}

const NO_PROBLEMS: readonly AuditProblem[] = Object.freeze([]);
const scratch: EntrySpans = { seq: 0, time: 0, actor0: 0, actor1: 0, grant0: -1, grant1: -1, type0: 0, type1: 0, prev: '' };

/**
 * `inspectRow(wireRecord(rows, i), index, previousLeafHex)`, from the bytes when the row is one
 * the fast path decides (see the file comment).
 */
export function inspectWireRow(rows: WireRows, i: number, index: number, previousLeafHex: string): RowFacts {
  const b = rows.bytes;
  const s = rows.spans;
  const base = i * WIRE_FIELDS * 2;
  const c0 = s[base + 2 * F_CANONICAL]!;
  const c1 = s[base + 2 * F_CANONICAL + 1]!;
  const leaf0 = s[base + 2 * F_LEAF]!;
  const inLeaves = lastRows === rows && lastHex === previousLeafHex;
  if (
    s[base + 2 * F_LEAF + 1]! - leaf0 === HASH_BYTES &&
    readCanonicalEntryBytes(b, c0, c1, previousLeafHex, scratch, inLeaves ? rows.leaves : previousLeafHex, inLeaves ? lastAt : 0)
  ) {
    // SHA-256(0x00 || the text's bytes), hashed when the batch was decoded: for this ASCII text
    // it is leafHashHex(record.canonical).
    const leafHex = rows.leaves.slice(i * 2 * HASH_BYTES, (i + 1) * 2 * HASH_BYTES);
    const e = scratch;
    const grant0 = s[base + 2 * F_GRANT]!;
    if (
      digestIs(b, leaf0, rows.leaves, i * 2 * HASH_BYTES) &&
      rows.times[i] === e.time &&
      sameBytes(b, s[base + 2 * F_TYPE]!, s[base + 2 * F_TYPE + 1]!, e.type0, e.type1) &&
      sameBytes(b, s[base + 2 * F_ACTOR]!, s[base + 2 * F_ACTOR + 1]!, e.actor0, e.actor1) &&
      (grant0 < 0 ? e.grant0 < 0 : e.grant0 >= 0 && sameBytes(b, grant0, s[base + 2 * F_GRANT + 1]!, e.grant0, e.grant1))
    ) {
      lastRows = rows;
      lastAt = i * 2 * HASH_BYTES;
      lastHex = leafHex;
      return { index, leafHex, seq: e.seq, prev: e.prev, leafMismatch: false, problems: NO_PROBLEMS };
    }
  }
  return inspectRow(wireRecord(rows, i), index, previousLeafHex);
}
