/** Keyset cursors and page-size clamping. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clampPageSize, decodeCursor, encodeCursor } from '../../src/adapters/store-sql/cursor.js';
import { rejectsWith } from './fixtures.js';

describe('page cursors', () => {
  it('decode to the id they were made from', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), (id) => {
        expect(decodeCursor(encodeCursor(id))).toBe(id);
      }),
    );
  });

  it('are rejected when not made by encodeCursor', async () => {
    for (const forged of ['', 'a', 'not a cursor!', `${encodeCursor('g-1')}=`, `${encodeCursor('g-1')}*`]) {
      await rejectsWith(Promise.resolve().then(() => decodeCursor(forged)), 'invalid_request');
    }
  });
});

describe('page size', () => {
  it('is clamped to 1..500', () => {
    expect([0, -5, Number.NaN, 1, 7.9, 500, 501, 1e9, Number.POSITIVE_INFINITY].map(clampPageSize)).toEqual([
      1, 1, 1, 1, 7, 500, 500, 500, 500,
    ]);
  });
});
