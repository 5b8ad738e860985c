/**
 * The verifier's fast paths (src/audit/verify-fast-entry.ts, verify-merkle.ts, verify-row.ts)
 * against reference oracles written here from the definitions: `JSON.parse` + `canonicalize` +
 * the entry shape rules for one row, `leafHash` / `frontierAppend` / `frontierRoot` of
 * src/audit/merkle.ts for hashing. A fast path may only ever agree with them: on random entries,
 * on random mutations of real entry texts, and on the cases that tell canonical JSON apart.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/core/events.js';
import { buildAuditEntry } from '../../src/audit/event.js';
import { canonicalize } from '../../src/audit/jcs.js';
import { frontierAppend, frontierRoot, leafHash, toHex } from '../../src/audit/merkle.js';
import { readCanonicalEntry } from '../../src/audit/verify-fast-entry.js';
import { leafHashHex, MerkleAccumulator } from '../../src/audit/verify-merkle.js';
import { inspectRow } from '../../src/audit/verify-row.js';
import type { AuditProblem } from '../../src/audit/verify-types.js';

const MEMBERS = ['seq', 'time', 'type', 'actor', 'grantId', 'tenant', 'data', 'prev'];

/** The shape rules of an entry body (src/audit/event.ts), restated as the oracle. */
function referenceShape(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const body = value as Record<string, unknown>;
  const extra = Object.keys(body).find((k) => !MEMBERS.includes(k));
  if (extra !== undefined) return `unexpected member "${extra}"`;
  if (!Number.isSafeInteger(body.seq) || (body.seq as number) < 0) return 'seq is not a non-negative integer';
  if (typeof body.time !== 'number') return 'time is not a number';
  if (typeof body.type !== 'string' || typeof body.actor !== 'string') return 'type or actor is not a string';
  if (body.grantId !== undefined && typeof body.grantId !== 'string') return 'grantId is not a string';
  if (body.tenant !== undefined && typeof body.tenant !== 'string') return 'tenant is not a string';
  if (typeof body.data !== 'object' || body.data === null || Array.isArray(body.data)) return 'data is not an object';
  if (typeof body.prev !== 'string' || !/^(?:|[0-9a-f]{64})$/.test(body.prev)) return 'prev is not a hex SHA-256 or empty';
  return undefined;
}

/** The row checks by definition: what inspectRow must report for `record` at `index`. */
function referenceRow(record: AuditRecord, index: number): { leafHex: string; seq: number | null; prev: string | null; problems: AuditProblem[] } {
  const leafHex = toHex(leafHash(record.canonical));
  const problems: AuditProblem[] = [];
  if (leafHex !== record.leafHash) problems.push({ kind: 'modified', index, detail: `entry ${index}: stored leaf hash does not match its content` });
  let value: unknown;
  let textProblem: string | undefined;
  try {
    value = JSON.parse(record.canonical);
    try {
      if (canonicalize(value) !== record.canonical) textProblem = 'is not RFC 8785 canonical JSON';
    } catch {
      textProblem = 'holds a value canonical JSON cannot encode';
    }
  } catch {
    textProblem = 'is not JSON';
  }
  if (textProblem !== undefined) {
    problems.push({ kind: 'non_canonical', index, detail: `entry ${index}: text ${textProblem}` });
    return { leafHex, seq: null, prev: null, problems };
  }
  const shape = referenceShape(value);
  if (shape !== undefined) {
    problems.push({ kind: 'non_canonical', index, detail: `entry ${index}: not an audit entry (${shape})` });
    return { leafHex, seq: null, prev: null, problems };
  }
  const body = value as { seq: number; time: number; type: string; actor: string; grantId?: string; prev: string };
  for (const name of ['time', 'type', 'actor', 'grantId'] as const) {
    if ((record[name] ?? undefined) !== body[name]) {
      problems.push({ kind: 'modified', index, detail: `entry ${index}: stored ${name} differs from the hashed entry` });
      break;
    }
  }
  return { leafHex, seq: body.seq, prev: body.prev, problems };
}

/** Characters that matter to JSON and to canonical form, plus anything at all. */
const TRICKY = [' ', '\n', '\t', '"', '\\', ',', ':', '{', '}', '[', ']', '0', '1', '9', '-', '+', '.', 'e', 'E', 't', 'f', 'n', 'a', 'é', 'ÿ', 'ā', '\u2028', '\u007f', '\u0001', '\ud800', '\udc00', '😀'];
const anyChar = fc.oneof(fc.constantFrom(...TRICKY), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)));
const anyString = fc.string({ unit: anyChar, maxLength: 12 });
/** Strings JSON writes as they are (no escape, no surrogate): the texts the fast path must take. */
const plainString = fc.string({ unit: fc.constantFrom('a', 'z', 'A', '0', '9', ' ', '-', ':', ',', '{', ']', '.', 'é', 'ÿ', 'ā', '\u2028', '\u007f', '中'), maxLength: 12 });

/** JSON values like those in entry data, nested, with strings from `str`. */
function jsonData(str: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  return fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      str,
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(str, tie('value'), { maxKeys: 4 }),
    ),
  })).value;
}

function entryInput(str: fc.Arbitrary<string>) {
  return fc.record({
    actor: str,
    grantId: fc.option(str, { nil: undefined }),
    tenant: fc.option(str, { nil: undefined }),
    data: fc.dictionary(str, jsonData(str), { maxKeys: 5 }),
    seq: fc.nat({ max: 10_000_000 }),
    time: fc.nat({ max: 4_000_000_000_000 }),
    prev: fc.option(fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }), { nil: '' }),
  });
}
type EntryInput = ReturnType<typeof entryInput> extends fc.Arbitrary<infer T> ? T : never;

function entryText(e: EntryInput): AuditRecord {
  return buildAuditEntry(
    { type: 'grant.requested', actor: e.actor, ...(e.grantId !== undefined ? { grantId: e.grantId } : {}), ...(e.tenant !== undefined ? { tenant: e.tenant } : {}), data: e.data as Record<string, unknown> },
    e.seq,
    e.time,
    e.prev,
  ).record;
}

/** The canonical text of `value` as a list of JSON tokens. */
function tokens(value: unknown): string[] {
  if (Array.isArray(value)) return ['[', ...value.flatMap((v, i) => [...(i > 0 ? [','] : []), ...tokens(v)]), ']'];
  if (typeof value === 'object' && value !== null) {
    const obj = value as Record<string, unknown>;
    return ['{', ...Object.keys(obj).sort().flatMap((k, i) => [...(i > 0 ? [','] : []), JSON.stringify(k), ':', ...tokens(obj[k])]), '}'];
  }
  return [canonicalize(value)];
}

/** Tokens a broken or non-canonical text might hold instead: typos of the same length too. */
const TOKEN = fc.constantFrom('{', '}', '[', ']', ',', ':', ' ', '"a"', '"b"', '"', '1', '0', '01', '-', '-0', '1.0', '2.5', '1e2', '1E2', 'true', 'false', 'null', 'trux', 'falsx', 'nulx', 'tru', '[]', '{}', '"a":', 'x');
const tokenEdits = fc.array(fc.tuple(fc.constantFrom('replace', 'insert', 'delete', 'duplicate'), fc.noBias(fc.nat({ max: 1_000_000 })), TOKEN), { minLength: 1, maxLength: 2 });
function editTokens(list: readonly string[], edits: ReadonlyArray<readonly [string, number, string]>): string {
  const t = [...list];
  for (const [how, at, token] of edits) {
    const i = at % t.length;
    if (how === 'replace') t[i] = token;
    if (how === 'insert') t.splice(i, 0, token);
    if (how === 'delete') t.splice(i, 1);
    if (how === 'duplicate') t.splice(i, 0, t[i]!);
  }
  return t.join('');
}

/** Random edits of a text: insert, delete, replace, duplicate or move a slice, anywhere in it. */
const mutation = fc.array(
  fc.tuple(fc.constantFrom('insert', 'delete', 'replace', 'duplicate', 'move'), fc.noBias(fc.nat({ max: 1_000_000 })), fc.nat({ max: 12 }), anyChar),
  { minLength: 1, maxLength: 3 },
);
function mutate(text: string, edits: ReadonlyArray<readonly [string, number, number, string]>): string {
  let t = text;
  for (const [how, at, length, ch] of edits) {
    const i = t.length === 0 ? 0 : at % t.length;
    if (how === 'insert') t = t.slice(0, i) + ch + t.slice(i);
    if (how === 'delete') t = t.slice(0, i) + t.slice(i + 1 + length);
    if (how === 'replace') t = t.slice(0, i) + ch + t.slice(i + 1);
    if (how === 'duplicate') t = t.slice(0, i + length) + t.slice(i, i + length) + t.slice(i + length);
    if (how === 'move') {
      const piece = t.slice(i, i + length);
      const rest = t.slice(0, i) + t.slice(i + length);
      const to = rest.length === 0 ? 0 : (at * 7) % rest.length;
      t = rest.slice(0, to) + piece + rest.slice(to);
    }
  }
  return t;
}

/** inspectRow agrees with the oracle on `record`; returns whether the fast path took the text. */
function expectRowAgrees(record: AuditRecord, index: number, previousLeafHex: string): boolean {
  const expected = referenceRow(record, index);
  const facts = inspectRow(record, index, previousLeafHex);
  expect({ leafHex: facts.leafHex, seq: facts.seq, prev: facts.prev, problems: facts.problems }).toEqual(expected);
  expect(facts.leafMismatch).toBe(expected.leafHex !== record.leafHash);
  const fast = readCanonicalEntry(record.canonical, previousLeafHex);
  if (fast !== undefined) {
    // Taken only for a canonical, well-formed entry, with the members JSON.parse gives.
    const parsed = JSON.parse(record.canonical) as Record<string, unknown>;
    expect(canonicalize(parsed)).toBe(record.canonical);
    expect(referenceShape(parsed)).toBeUndefined();
    expect(fast).toEqual({ seq: parsed.seq, time: parsed.time, type: parsed.type, actor: parsed.actor, ...(parsed.grantId !== undefined ? { grantId: parsed.grantId } : {}), prev: parsed.prev });
  }
  return fast !== undefined;
}

describe('the verifier row checks agree with the reference checks', () => {
  it('on random entries; the fast path takes every entry without escapes or surrogates', () => {
    fc.assert(
      fc.property(entryInput(anyString), fc.nat(), (e, index) => {
        expectRowAgrees(entryText(e), index, e.prev);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(entryInput(plainString), fc.nat(), (e, index) => {
        expect(expectRowAgrees(entryText(e), index, e.prev)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('on random edits of entry texts, with the stored hash kept or recomputed', () => {
    fc.assert(
      fc.property(entryInput(anyString), mutation, fc.boolean(), fc.boolean(), (e, edits, rehash, linked) => {
        const original = entryText(e);
        const canonical = mutate(original.canonical, edits);
        const record = { ...original, canonical, leafHash: rehash ? toHex(leafHash(canonical)) : original.leafHash };
        expectRowAgrees(record, 3, linked ? e.prev : '');
      }),
      { numRuns: 5000 },
    );
  });

  it('on token-level edits of the data member and of the whole entry', () => {
    fc.assert(
      fc.property(entryInput(plainString), tokenEdits, fc.boolean(), (e, edits, whole) => {
        const record = entryText(e);
        const canonical = whole
          ? editTokens(tokens(JSON.parse(record.canonical)), edits)
          : record.canonical.replace(canonicalize(e.data), () => editTokens(tokens(e.data), edits));
        expectRowAgrees({ ...record, canonical, leafHash: toHex(leafHash(canonical)) }, 1, e.prev);
      }),
      { numRuns: 10_000 },
    );
  });

  it('on entries missing a member, and on nesting deeper than any stack', () => {
    const members = ['"actor":"a"', '"data":{}', '"prev":""', '"seq":1', '"time":2', '"type":"t"'];
    const record = (canonical: string): AuditRecord => ({ seq: 1, time: 2, type: 'grant.requested', actor: 'a', canonical, leafHash: toHex(leafHash(canonical)) });
    for (const canonical of members.map((_, k) => `{${members.filter((__, j) => j !== k).join(',')}}`)) {
      expectRowAgrees(record(canonical), 1, '');
      expect(inspectRow(record(canonical), 1, '').problems.map((p) => p.kind)).toContain('non_canonical');
    }
    // However deep: the fast path hands it to the reference, whatever the reference makes of it.
    expectRowAgrees(record(`{"actor":"a","data":{"d":${'['.repeat(20_000)}${']'.repeat(20_000)}},"prev":"","seq":1,"time":2,"type":"t"}`), 1, '');
  });

  it('on texts that differ from canonical JSON in one detail', () => {
    const entry = (members: string): string => `{"actor":"a",${members}"prev":"","seq":1,"time":2,"type":"grant.requested"}`;
    const cases: Array<[string, boolean]> = [
      [entry('"data":{},'), true],
      [entry('"data":{"b":1,"a":2},'), false],
      [entry('"data":{"a":1,"a":1},'), false],
      [entry('"data":{"10":1,"9":2},'), true],
      [entry('"data":{"9":1,"10":2},'), false],
      [entry('"data":{"z":1,"é":2},'), true],
      [entry('"data":{"ā":1,"ÿ":2},'), false],
      [entry('"data":{"x":-0},'), false],
      [entry('"data":{"x":1.0},'), false],
      [entry('"data":{"x":1e3},'), false],
      [entry('"data":{"x":1e+21},'), true],
      [entry('"data":{"x":1E+21},'), false],
      [entry('"data":{"x":1e400},'), false],
      [entry('"data":{"x":007},'), false],
      [entry('"data":{"x":-1.5e-7},'), true],
      [entry('"data":{"x":"\\u0041"},'), false],
      [entry('"data":{"x":"\\n"},'), true],
      [entry('"data":{"x":"\\/"},'), false],
      [entry('"data":{"x":"\u2028\u007f"},'), true],
      [entry('"data":{"x":"\ud800"},'), false],
      [entry('"data":{"x":"a\u0001b"},'), false],
      [entry('"data":{"x":"a\tb"},'), false],
      [entry('"data":{"x":"a\u007fb"},'), true],
      [entry('"data":{"x":"\\ud800"},'), true],
      [entry('"data":{"x":"😀"},'), true],
      [entry('"data":{"x":[1, 2]},'), false],
      [entry('"data":{"x":[]},"grantId":"g",'), true],
      [entry('"data":[],'), false],
      [entry('"data":{},"extra":1,'), false],
      [entry('"data":{},"grantId":7,'), false],
      [`{"actor":"a","data":{},"prev":"","seq":1.5,"time":2,"type":"t"}`, false],
      [`{"actor":"a","data":{},"prev":"","seq":1,"time":2.5,"type":"t"}`, true],
      [`{"actor":"a","data":{},"prev":"","seq":1,"time":2,"type":"t"} `, false],
      [`{"actor":"a","data":{},"prev":"AB","seq":1,"time":2,"type":"t"}`, false],
      [`{"actor":"a","data":{},"prev":"${'AB'.repeat(32)}","seq":1,"time":2,"type":"t"}`, false],
      [`{"actor":"a","data":{},"prev":"${'ab'.repeat(32)}","seq":1,"time":2,"type":"t"}`, true],
      [`{"actor":"a","data":{},"prev":"","seq":1,"time":2}`, false],
      [`{"actor":"a","data":${'['.repeat(100)}${']'.repeat(100)},"prev":"","seq":1,"time":2,"type":"t"}`, false],
      [`{"actor":"a","data":{"d":${'['.repeat(100)}${']'.repeat(100)}},"prev":"","seq":1,"time":2,"type":"t"}`, true],
    ];
    for (const [canonical, wellFormed] of cases) {
      const record: AuditRecord = { seq: 1, time: 2, type: 'grant.requested', actor: 'a', canonical, leafHash: toHex(leafHash(canonical)) };
      expectRowAgrees(record, 1, '');
      expect(inspectRow(record, 1, '').problems.some((p) => p.kind === 'non_canonical'), canonical).toBe(!wellFormed);
    }
  });
});

describe('the verifier hashing agrees with src/audit/merkle.ts', () => {
  it('leaf hashes of any text, lone surrogates and long texts included', () => {
    fc.assert(
      fc.property(fc.string({ unit: anyChar, maxLength: 40 }), fc.nat({ max: 3 }), (s, doublings) => {
        const text = s.repeat(2 ** (doublings * 4));
        expect(leafHashHex(text)).toBe(toHex(leafHash(text)));
      }),
      { numRuns: 500 },
    );
  });

  it('frontier and root at every size up to 300', () => {
    const leaves = Array.from({ length: 300 }, (_, i) => leafHash(`leaf ${i}`));
    const tree = new MerkleAccumulator();
    let frontier: Uint8Array[] = [];
    expect(tree.root()).toEqual(frontierRoot(frontier));
    leaves.forEach((leaf, i) => {
      frontier = frontierAppend(frontier, i, leaf);
      tree.append(toHex(leaf));
      expect(tree.size).toBe(i + 1);
      expect(tree.frontierHex()).toEqual(frontier.map(toHex));
      expect(toHex(tree.root())).toBe(toHex(frontierRoot(frontier)));
    });
  });

  it('refuses a leaf that is not a hex SHA-256', () => {
    const tree = new MerkleAccumulator();
    expect(() => tree.append('ab'.repeat(31))).toThrow(RangeError);
    expect(() => tree.append(`${'ab'.repeat(31)}zz`)).toThrow(RangeError);
    expect(tree.size).toBe(0);
  });
});
