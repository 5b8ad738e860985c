/**
 * A counting limiter for concurrent async work: at most `max` calls of `run` are in progress at
 * once, the rest wait in FIFO order (so work handed in first finishes first: issue #3, early
 * revocations must not wait behind later ones). Pure: no I/O, no timers.
 */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('Limiter max must be a positive integer');
  }

  /** Runs `fn` once a slot is free; settles as `fn` does. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `active` never drops in between.
      if (next) next();
      else this.active -= 1;
    }
  }
}
