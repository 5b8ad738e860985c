import { describe, expect, it } from 'vitest';
import { Limiter } from '../../src/core/limiter.js';

/** A promise with its resolve/reject exposed. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** Lets every queued microtask run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Limiter', () => {
  it('runs at most max at once and starts the waiting ones in the order they came', async () => {
    const limiter = new Limiter(2);
    const gates = Array.from({ length: 5 }, () => deferred());
    const started: number[] = [];
    const runs = gates.map((gate, i) =>
      limiter.run(async () => {
        started.push(i);
        await gate.promise;
        return i;
      }),
    );
    const first = runs[0]!.then(() => 'resolved', (e: unknown) => (e as Error).message);
    await settle();
    expect(started).toEqual([0, 1]);
    gates[1]!.resolve();
    await settle();
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.reject(new Error('boom'));
    await settle();
    // A failure frees its slot like a success does.
    expect(started).toEqual([0, 1, 2, 3]);
    for (const g of gates.slice(2)) g.resolve();
    expect(await first).toBe('boom');
    expect(await Promise.all(runs.slice(1))).toEqual([1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new Limiter(0)).toThrow(RangeError);
    expect(() => new Limiter(1.5)).toThrow(RangeError);
  });
});
