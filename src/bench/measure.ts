/**
 * Throughput measurement: run an operation a fixed number of times with a fixed number of
 * concurrent callers and report the rate. Any failed operation fails the measurement, so a
 * benchmark never reports the speed of errors.
 */
import { performance } from 'node:perf_hooks';

/** A measured rate. */
export interface Rate {
  /** Operations completed. */
  readonly ops: number;
  /** Wall-clock seconds from the first start to the last completion. */
  readonly seconds: number;
  /** ops / seconds. */
  readonly perSecond: number;
}

/**
 * Runs `op(i)` for i in [0, total) with `concurrency` callers, each starting its next operation
 * when its previous one finished (a closed loop, like a keep-alive client pool).
 */
export async function measureRate(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<Rate> {
  if (!Number.isSafeInteger(total) || total < 1) throw new RangeError('total must be a positive integer');
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a positive integer');
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      await op(i);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { ops: total, seconds, perSecond: total / seconds };
}

/** Warm-up before a measurement (JIT, connection pools, caches): a tenth of the run, 5..500 ops. */
export function warmUpCount(total: number): number {
  return Math.max(5, Math.min(500, Math.floor(total / 10)));
}

/** How long {@link measureWarm} warms up. */
export interface WarmUp {
  /**
   * Keep warming up (in rounds of `warmUpCount(total)` operations) until this many ms have
   * passed: V8 goes on optimising the JavaScript and tiering up WebAssembly for seconds, so a
   * short warm-up measures a process that is still getting faster. Default 0: one round.
   * `op` then also sees indices beyond `total + warmUpCount(total)`.
   */
  readonly warmUpMs?: number;
}

/** Runs `op` like `measureRate`, after a warm-up of at least `warmUpCount(total)` operations. */
export async function measureWarm(total: number, concurrency: number, op: (i: number) => Promise<unknown>, warmUp: WarmUp = {}): Promise<Rate> {
  const round = warmUpCount(total);
  const started = performance.now();
  let offset = total;
  do {
    const from = offset;
    await measureRate(round, concurrency, (i) => op(from + i));
    offset += round;
  } while (performance.now() - started < (warmUp.warmUpMs ?? 0));
  return measureRate(total, concurrency, op);
}

/** Options of {@link measureInterleaved}. */
export interface InterleaveOptions {
  /** Operations per measured party over all rounds (each round measures `total / rounds`). */
  readonly total: number;
  readonly rounds: number;
  readonly concurrency: number;
  /** Warm-up of each party before the first round, as in {@link measureWarm}. */
  readonly warmUpMs?: number;
}

/**
 * Measures several parties (a Stint path and its references) in alternating slices: all warm up
 * first, then every round measures each party once, in order and in reverse order on alternate
 * rounds (A B C, C B A, ...), so a party is never measured only at the start or the end. On the
 * shared 2-core bench machines the speed of the machine drifts over tens of seconds (session 10:
 * the same phase measured 28% to 62% of the same reference in back-to-back runs, with 10-25% of
 * the CPU stolen by the host); measured phase after phase, a ratio compares two different
 * machines, while slices a few seconds apart see the same one. Before each slice a party runs
 * `2 x concurrency` operations that are not counted (its sockets, caches and pipeline were idle
 * while the others ran). Returns each party's slices, in round order.
 */
export async function measureInterleaved<K extends string>(
  parties: Readonly<Record<K, (i: number) => Promise<unknown>>>,
  opts: InterleaveOptions,
): Promise<Record<K, Rate[]>> {
  if (!Number.isSafeInteger(opts.rounds) || opts.rounds < 1) throw new RangeError('rounds must be a positive integer');
  const names = Object.keys(parties) as K[];
  const slice = Math.max(1, Math.floor(opts.total / opts.rounds));
  const offsets = new Map<K, number>();
  for (const name of names) {
    const op = parties[name];
    const round = warmUpCount(opts.total);
    const started = performance.now();
    let offset = opts.total;
    do {
      const from = offset;
      await measureRate(round, opts.concurrency, (i) => op(from + i));
      offset += round;
    } while (performance.now() - started < (opts.warmUpMs ?? 0));
    offsets.set(name, offset);
  }
  const slices = Object.fromEntries(names.map((name) => [name, [] as Rate[]])) as Record<K, Rate[]>;
  for (let r = 0; r < opts.rounds; r++) {
    for (const name of r % 2 === 0 ? names : [...names].reverse()) {
      const op = parties[name];
      const from = offsets.get(name)!;
      const refill = 2 * opts.concurrency;
      await measureRate(refill, opts.concurrency, (i) => op(from + i));
      offsets.set(name, from + refill + slice);
      slices[name].push(await measureRate(slice, opts.concurrency, (i) => op(from + refill + i)));
    }
  }
  return slices;
}

/** The mean rate of several runs of the same measurement (total ops over total seconds). */
export function combineRates(runs: readonly Rate[]): Rate {
  const ops = runs.reduce((sum, r) => sum + r.ops, 0);
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0);
  return { ops, seconds, perSecond: ops / seconds };
}

/** Milliseconds of wall-clock time `fn` takes, and its result. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

/** Rejects with a clear message when `promise` takes longer than `ms` (bounds each bench phase). */
export async function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
