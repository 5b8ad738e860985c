/** Ids from timeSortableId: well-formed, time-ordered, and distinct across refills of the random pool. */
import { describe, expect, it } from 'vitest';
import { timeOfId, timeSortableId } from '../../src/service/context.js';

describe('timeSortableId', () => {
  it('encodes the time and never repeats random bits across pool refills', () => {
    const now = Date.UTC(2026, 0, 5, 10, 0, 0);
    // 2,000 ids span several refills of the 256-id pool.
    const ids = Array.from({ length: 2000 }, () => timeSortableId(now));
    for (const id of ids) {
      expect(id).toMatch(/^g[0-9a-f]{32}$/);
      expect(timeOfId(id)).toBe(now);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids.map((id) => id.slice(13))).size).toBe(ids.length);
  });

  it('sorts by time', () => {
    expect(timeSortableId(1000) < timeSortableId(1001)).toBe(true);
  });
});
