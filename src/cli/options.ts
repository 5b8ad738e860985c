/** Parsers for option values: a bad value is a one-line usage error naming the option. */
import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../core/duration.js';

/** `90s`, `15m`, `1h30m`, `2d` or bare seconds, as whole seconds. */
export function durationSeconds(value: string): number {
  const seconds = parseDuration(value);
  if (seconds === undefined) throw new InvalidArgumentError('not a duration (examples: 90s, 15m, 1h30m, 2d).');
  return seconds;
}

/** A whole number >= 1. */
export function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('not a whole number >= 1.');
  }
  return Number(value);
}
