/**
 * row.ts `assertStorable`: what PostgreSQL text/jsonb cannot round-trip is refused with the
 * path of the first offending value, and everything else passes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { assertStorable } from '../../src/adapters/store-sql/row.js';
import { isStintError } from '../../src/core/errors.js';

function refusal(value: unknown): string | undefined {
  try {
    assertStorable(value, 'grant');
    return undefined;
  } catch (e) {
    if (!isStintError(e)) throw e;
    expect(e.code).toBe('invalid_request');
    return e.message;
  }
}

/** No unpaired surrogate: encodeURIComponent throws URIError on one. */
function wellFormed(text: string): boolean {
  try {
    encodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

/** True when `test` holds for every string under `value`, member names included (an independent oracle). */
function everyString(value: unknown, test: (text: string) => boolean): boolean {
  if (typeof value === 'string') return test(value);
  if (Array.isArray(value)) return value.every((item) => everyString(item, test));
  if (typeof value === 'object' && value !== null) return Object.entries(value).every(([key, item]) => test(key) && everyString(item, test));
  return true;
}

describe('assertStorable', () => {
  it('names the first value that cannot be stored, and why', () => {
    expect(refusal({ task: 'drop\u0000table' })).toBe('grant.task contains a NUL character or an unpaired surrogate');
    expect(refusal({ credential: { notes: ['ok', 'half \ud800 pair'] } })).toBe('grant.credential.notes[1] contains a NUL character or an unpaired surrogate');
    expect(refusal({ data: { ['k\udc00']: 1 } })).toBe('grant.data key contains a NUL character or an unpaired surrogate');
    expect(refusal({ ttl: Number.NaN })).toBe('grant.ttl is not a finite number');
    expect(refusal([1, [2, Infinity]])).toBe('grant[1][1] is not a finite number');
    expect(refusal('\u0000')).toBe('grant contains a NUL character or an unpaired surrogate');
  });

  it('passes everything JSON and PostgreSQL carry exactly, including paired surrogates', () => {
    expect(refusal({ task: 'deploy 🚀', n: 1.5, b: true, nothing: null, list: [{ a: 'x' }], absent: undefined })).toBeUndefined();
    fc.assert(
      // 'binary' strings: any code unit, lone surrogates and U+0000 included.
      fc.property(fc.jsonValue({ stringUnit: 'binary' }), (value) => {
        expect(refusal(value) === undefined).toBe(everyString(value, (text) => !text.includes('\u0000') && wellFormed(text)));
      }),
      { numRuns: 300 },
    );
  });

  it('ignores inherited members, as JSON.stringify does', () => {
    const inherited = Object.create({ bad: 'a\u0000b' }) as Record<string, unknown>;
    inherited.good = 'fine';
    expect(refusal(inherited)).toBeUndefined();
  });
});
