/**
 * The verifier's fast path for one entry text (issue #2, item 13: >= 200,000 entries per second):
 * a single pass over the stored text that recognises a well-formed entry in RFC 8785 canonical
 * form, without JSON.parse and without re-serialising it.
 *
 * It accepts a text only when the reference checks (verify-row.ts: `JSON.parse`, then
 * `canonicalize(value) === text`, then `shapeProblem(value)`) would all pass, and then returns
 * the members JSON.parse would give. Whatever it does not accept, the reference checks decide,
 * so no verdict and no message ever differs from theirs. Why acceptance implies that:
 *
 * - It accepts "plain" texts only: no backslash, control character or surrogate. No string has
 *   an escape then, so a string's value is its text between the quotes, which holds nothing
 *   JSON.stringify escapes (`"`, `\`, control characters, lone surrogates): its canonical form
 *   (RFC 8785 3.2.2.2) is the text as it stands.
 * - It accepts the JSON grammar (RFC 8259) without any whitespace between tokens, so the text is
 *   valid JSON and, token for token, laid out as canonicalize lays it out (RFC 8785 3.2.1).
 * - Member names must be strictly ascending by UTF-16 code units (3.2.3): the order canonicalize
 *   sorts them in, and no name twice (parsing would collapse a repeated name).
 * - A number must be written as Number::toString writes its value (3.2.2.3), which is also a
 *   valid JSON number.
 * By induction over the value, canonicalize(JSON.parse(text)) is then the text itself. The entry
 * rules are those of `shapeProblem` (verify-entry-shape.ts), checked on the text; seq and time
 * must be plain decimal integers below 10^15 (exact doubles), which every stored entry has.
 */
import { PREV_PATTERN, type EntryFields } from './verify-entry-shape.js';

const QUOTE = 0x22;
const COMMA = 0x2c;
const MINUS = 0x2d;
const COLON = 0x3a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/** Control characters and surrogates (pairs too: such texts just take the reference path). */
const NOT_PLAIN = /[\u0000-\u001f\ud800-\udfff]/;
/** Deepest nesting followed; deeper texts take the reference path. */
const MAX_DEPTH = 64;
/** Longest integer read as seq or time: below 10^15 < 2^53, so exact. */
const MAX_INTEGER_DIGITS = 15;

/** Whether text[a0, a1) sorts strictly before text[b0, b1) by UTF-16 code units. */
function sortsBefore(text: string, a0: number, a1: number, b0: number, b1: number): boolean {
  const n = Math.min(a1 - a0, b1 - b0);
  for (let k = 0; k < n; k++) {
    const a = text.charCodeAt(a0 + k);
    const b = text.charCodeAt(b0 + k);
    if (a !== b) return a < b;
  }
  return a1 - a0 < b1 - b0;
}

/** Value of the canonical non-negative integer text[start, end) of at most 15 digits, or -1. */
function smallInteger(text: string, start: number, end: number): number {
  const length = end - start;
  if (length < 1 || length > MAX_INTEGER_DIGITS || (length > 1 && text.charCodeAt(start) === DIGIT_0)) return -1;
  let value = 0;
  for (let k = start; k < end; k++) {
    const c = text.charCodeAt(k);
    if (c < DIGIT_0 || c > DIGIT_9) return -1;
    value = value * 10 + (c - DIGIT_0);
  }
  return value;
}

/** End of the run of number characters (digits, '-', '+', '.', 'e', 'E') starting at `start`. */
function numberEnd(text: string, start: number): number {
  let end = start;
  for (; end < text.length; end++) {
    const c = text.charCodeAt(end);
    if (!((c >= DIGIT_0 && c <= DIGIT_9) || c === MINUS || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45)) break;
  }
  return end;
}

/** End of the canonical number at `start`, or -1. */
function skipNumber(text: string, start: number): number {
  const end = numberEnd(text, start);
  if (smallInteger(text, start, end) >= 0) return end;
  const token = text.slice(start, end);
  // What Number::toString writes for a finite value is a valid JSON number (and never "NaN" or
  // "Infinity", which these characters cannot spell).
  return String(Number(token)) === token ? end : -1;
}

/** End of the string at `start` (plain: the next quote closes it), or -1. */
function skipString(text: string, start: number): number {
  if (text.charCodeAt(start) !== QUOTE) return -1;
  const close = text.indexOf('"', start + 1);
  return close < 0 ? -1 : close + 1;
}

/** End of the canonical JSON value at `start`, or -1. */
function skipValue(text: string, start: number, depth: number): number {
  const c = text.charCodeAt(start);
  if (c === QUOTE) return skipString(text, start);
  if (c === OPEN_OBJECT) return skipObject(text, start, depth + 1);
  if (c === OPEN_ARRAY) return skipArray(text, start, depth + 1);
  if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) return skipNumber(text, start);
  if (c === 0x74) return text.startsWith('true', start) ? start + 4 : -1;
  if (c === 0x66) return text.startsWith('false', start) ? start + 5 : -1;
  if (c === 0x6e) return text.startsWith('null', start) ? start + 4 : -1;
  return -1;
}

/** End of the canonical array at `start` (its `[`), or -1. */
function skipArray(text: string, start: number, depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  let p = start + 1;
  if (text.charCodeAt(p) === CLOSE_ARRAY) return p + 1;
  for (;;) {
    p = skipValue(text, p, depth);
    if (p < 0) return -1;
    const c = text.charCodeAt(p);
    if (c === CLOSE_ARRAY) return p + 1;
    if (c !== COMMA) return -1;
    p++;
  }
}

/** End of the canonical object at `start` (its `{`), or -1: names strictly ascending. */
function skipObject(text: string, start: number, depth: number): number {
  if (depth > MAX_DEPTH) return -1;
  let p = start + 1;
  if (text.charCodeAt(p) === CLOSE_OBJECT) return p + 1;
  let lastName = -1;
  let lastNameEnd = -1;
  for (;;) {
    // The name is text[p + 1, nameEnd): nameEnd is its closing quote.
    const nameEnd = skipString(text, p) - 1;
    if (nameEnd < 0 || text.charCodeAt(nameEnd + 1) !== COLON) return -1;
    if (lastName >= 0 && !sortsBefore(text, lastName, lastNameEnd, p + 1, nameEnd)) return -1;
    lastName = p + 1;
    lastNameEnd = nameEnd;
    p = skipValue(text, nameEnd + 2, depth);
    if (p < 0) return -1;
    const c = text.charCodeAt(p);
    if (c === CLOSE_OBJECT) return p + 1;
    if (c !== COMMA) return -1;
    p++;
  }
}

/** Start of the value of member `name` (written `,"name":` or `"name":`) at `pos`, or -1. */
function member(text: string, pos: number, name: string): number {
  return text.startsWith(name, pos) ? pos + name.length : -1;
}

/** The value of the string text[start, end) (plain: the text between its quotes). */
function stringBefore(text: string, start: number, end: number): string {
  return text.slice(start + 1, end - 1);
}

/**
 * The members of `text` if it is a well-formed entry in canonical form (see the file comment),
 * else undefined: the reference checks must then decide. `knownLeaf` is a leaf hash the verifier
 * computed, or "": a `prev` equal to it needs no pattern check (it is the usual link).
 *
 * The members must come in the one order canonical form allows, which is how every entry is
 * written (src/audit/event.ts): actor, data, grantId?, prev, seq, tenant?, time, type. Any other
 * layout, valid or not, is left to the reference checks.
 */
export function readCanonicalEntry(text: string, knownLeaf: string): EntryFields | undefined {
  if (text.charCodeAt(0) !== OPEN_OBJECT || text.indexOf('\\') >= 0 || NOT_PLAIN.test(text)) return undefined;
  // Every `at` is checked before use: startsWith and slice would read -1 as 0.
  let at = member(text, 1, '"actor":');
  let p = skipString(text, at);
  if (at < 0 || p < 0) return undefined;
  const actor = stringBefore(text, at, p);
  at = member(text, p, ',"data":');
  if (at < 0 || text.charCodeAt(at) !== OPEN_OBJECT) return undefined;
  p = skipObject(text, at, 1);
  if (p < 0) return undefined;
  let grantId: string | undefined;
  at = member(text, p, ',"grantId":');
  if (at >= 0) {
    p = skipString(text, at);
    if (p < 0) return undefined;
    grantId = stringBefore(text, at, p);
  }
  at = member(text, p, ',"prev":');
  p = skipString(text, at);
  if (at < 0 || p < 0) return undefined;
  const prev = stringBefore(text, at, p);
  if (prev !== knownLeaf && !PREV_PATTERN.test(prev)) return undefined;
  at = member(text, p, ',"seq":');
  if (at < 0) return undefined;
  p = numberEnd(text, at);
  const seq = smallInteger(text, at, p);
  if (seq < 0) return undefined;
  at = member(text, p, ',"tenant":');
  if (at >= 0) {
    p = skipString(text, at);
    if (p < 0) return undefined;
  }
  at = member(text, p, ',"time":');
  if (at < 0) return undefined;
  p = numberEnd(text, at);
  const time = smallInteger(text, at, p);
  if (time < 0) return undefined;
  at = member(text, p, ',"type":');
  p = skipString(text, at);
  if (at < 0 || p < 0 || p !== text.length - 1 || text.charCodeAt(p) !== CLOSE_OBJECT) return undefined;
  const type = stringBefore(text, at, p);
  return grantId === undefined ? { seq, time, type, actor, prev } : { seq, time, type, actor, grantId, prev };
}
