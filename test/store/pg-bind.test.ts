/**
 * `bindExecuteSync` (pg-bind.ts) writes the bytes PGlite's own protocol serializer writes for
 * Bind (+ Describe of the portal) + Execute + Sync, on random statement names and parameters (text of any code points,
 * byte arrays, NULL): the PGlite driver sends these bytes straight into the database.
 */
import { protocol } from '@electric-sql/pglite';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bindExecuteSync, type WireParam } from '../../src/adapters/store-sql/pg-bind.js';

function reference(statement: string, params: readonly WireParam[], withDescribe = false): Uint8Array {
  const { serialize } = protocol;
  const parts = [
    serialize.bind({ statement, values: [...params] }),
    ...(withDescribe ? [serialize.describe({ type: 'P', name: '' })] : []),
    serialize.execute({}),
    serialize.sync(),
  ];
  return Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
}

const param: fc.Arbitrary<WireParam> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.uint8Array({ maxLength: 40 }),
  fc.constant(null),
  fc.constant(''),
);

describe('bindExecuteSync', () => {
  it('writes the same bytes as PGlite’s serializer', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 30 }).filter((s) => !s.includes('\0')), fc.array(param, { maxLength: 60 }), fc.boolean(), (statement, params, withDescribe) => {
        expect(Buffer.from(bindExecuteSync(statement, params, withDescribe))).toEqual(Buffer.from(reference(statement, params, withDescribe)));
      }),
      { numRuns: 500 },
    );
  });

  it('sends a byte array from its own offset, not its buffer start', () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    const view = backing.subarray(2, 5);
    expect(Buffer.from(bindExecuteSync('s', [view]))).toEqual(Buffer.from(reference('s', [new Uint8Array([1, 2, 3])])));
  });

  it('refuses more parameters than a Bind message can count', () => {
    expect(() => bindExecuteSync('s', new Array<WireParam>(65_536).fill(null))).toThrow(RangeError);
  });
});
