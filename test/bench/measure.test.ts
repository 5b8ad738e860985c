import { describe, expect, it } from 'vitest';
import { measureInterleaved } from '../../src/bench/measure.js';

/** A party that records which slice each of its calls fell in (by the log's current label). */
function recorder(log: string[], name: string): (i: number) => Promise<void> {
  return async () => {
    log.push(name);
    await Promise.resolve();
  };
}

/** Collapses runs of the same name: ['a','a','b'] -> ['a','b']. */
function runs(log: readonly string[]): string[] {
  return log.filter((name, i) => i === 0 || log[i - 1] !== name);
}

describe('measureInterleaved', () => {
  it('warms every party up first, then alternates the order of the rounds, and counts only the slices', async () => {
    const log: string[] = [];
    const slices = await measureInterleaved({ a: recorder(log, 'a'), b: recorder(log, 'b'), c: recorder(log, 'c') }, { total: 30, rounds: 3, concurrency: 2 });
    // Warm-up a, b, c (5 operations each: warmUpCount(30)); then a b c, c b a, a b c, each slice
    // after 2 x concurrency uncounted operations (runs() merges the c c and a a at the turns).
    expect(runs(log)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'b', 'a', 'b', 'c']);
    for (const name of ['a', 'b', 'c'] as const) {
      expect(log.filter((n) => n === name)).toHaveLength(5 + 3 * (4 + 10));
      expect(slices[name]).toHaveLength(3);
      for (const slice of slices[name]) {
        expect(slice.ops).toBe(10);
        expect(slice.perSecond).toBeGreaterThan(0);
      }
    }
  });

  it('hands every call an index no other call of the same party got', async () => {
    const seen = new Set<number>();
    await measureInterleaved(
      {
        only: async (i: number) => {
          expect(seen.has(i)).toBe(false);
          seen.add(i);
        },
      },
      { total: 12, rounds: 2, concurrency: 3 },
    );
    expect(seen.size).toBe(5 + 2 * (6 + 6));
  });

  it('refuses a round count that is not a positive integer', async () => {
    await expect(measureInterleaved({ a: async () => undefined }, { total: 10, rounds: 0, concurrency: 1 })).rejects.toThrow(RangeError);
  });
});
