/**
 * Seeds for tests that generate their own traffic (test/api/concurrent-lifecycles.test.ts,
 * test/e2e/random-kill.test.ts): fresh each run, or `STINT_TEST_SEED` to generate the same steps
 * again. The interleaving of concurrent requests still varies; what they are does not.
 */
import { onTestFailed } from 'vitest';

/** The run's seed; a failing test prints how to generate its steps again. Call inside a test. */
export function testSeed(): number {
  const given = process.env.STINT_TEST_SEED;
  const seed = given !== undefined ? Number(given) : Math.floor(Math.random() * 2 ** 31);
  if (!Number.isSafeInteger(seed)) throw new Error(`STINT_TEST_SEED must be an integer, not "${given}"`);
  onTestFailed(() => console.error(`generate the same steps again with STINT_TEST_SEED=${seed}`));
  return seed;
}

/** A small deterministic generator (mulberry32) of numbers in [0, 1), for choices made outside fast-check. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
