/**
 * Latency measurement: one operation at a time, each timed on its own, summarised as
 * percentiles (nearest rank). Any failed operation fails the measurement.
 */
import { performance } from 'node:perf_hooks';

/** Percentiles of a set of durations, in milliseconds. */
export interface Latency {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/** Nearest-rank percentile `p` (0-100] of `sorted` (ascending, non-empty). */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** p50, p99 and max of `durationsMs`. */
export function summarizeLatency(durationsMs: readonly number[]): Latency {
  if (durationsMs.length === 0) throw new RangeError('no samples');
  const sorted = [...durationsMs].sort((a, b) => a - b);
  return { samples: sorted.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted[sorted.length - 1]! };
}

/**
 * Runs `op(i)` for i in [0, warmUp + count) one after another and times the last `count`
 * (the warm-up opens pools and connections, and lets the JIT settle).
 */
export async function measureSequential(count: number, warmUp: number, op: (i: number) => Promise<unknown>): Promise<Latency> {
  const durations: number[] = [];
  for (let i = 0; i < warmUp + count; i++) {
    const started = performance.now();
    await op(i);
    if (i >= warmUp) durations.push(performance.now() - started);
  }
  return summarizeLatency(durations);
}
