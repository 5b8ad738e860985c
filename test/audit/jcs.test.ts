/** RFC 8785 canonical JSON (src/audit/jcs.ts): the RFC's own examples, and properties on random values. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalize } from '../../src/audit/jcs.js';

describe('canonicalize', () => {
  it('sorts members by UTF-16 code units (RFC 8785 section 3.2.3 example)', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    expect(canonicalize(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('sorts small and large objects alike (insertion up to 32 members, the built-in sort beyond)', () => {
    for (const size of [2, 31, 32, 33, 100]) {
      const names = Array.from({ length: size }, (_, i) => `k${(i * 7919) % size}\u00e9${i % 3 === 0 ? '\ud83d\ude00' : ''}`);
      const shuffled = Object.fromEntries(names.map((name, i) => [name, i]));
      const sorted = [...names].sort();
      expect(canonicalize(shuffled)).toBe(`{${sorted.map((name) => `${JSON.stringify(name)}:${shuffled[name]}`).join(',')}}`);
    }
  });

  it('writes numbers, literals and strings as RFC 8785 section 3.2.2 says (its example)', () => {
    const input = { numbers: [333333333.33333329, 1e30, 4.5, 2e-3, 0.000000000000000000000000001], string: '\u20ac$\u000f\u000aA\'\u0042\u0022\u005c\\"/', literals: [null, true, false] };
    expect(canonicalize(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('leaves out undefined members, keeps nesting, and refuses what JSON cannot carry', () => {
    expect(canonicalize({ b: [], a: { y: undefined, x: {} }, c: [1, [2, { e: 0, d: -0 }]] })).toBe('{"a":{"x":{}},"b":[],"c":[1,[2,{"d":0,"e":0}]]}');
    expect(() => canonicalize({ a: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalize([Number.POSITIVE_INFINITY])).toThrow(TypeError);
    expect(() => canonicalize([undefined])).toThrow(TypeError);
    expect(() => canonicalize({ f: () => 1 })).toThrow(TypeError);
  });

  it('is JSON of the same value, whatever the member order', () => {
    fc.assert(
      fc.property(fc.jsonValue({ noUnicodeString: false }), (value) => {
        const text = canonicalize(value);
        // -0 is written as 0 (JSON has no negative zero), so compare through one round trip.
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        const reordered = JSON.parse(JSON.stringify(value), (_key, v: unknown) =>
          v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
        ) as unknown;
        expect(canonicalize(reordered)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});
