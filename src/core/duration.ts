/**
 * Durations as written in config and requests: `90s`, `15m`, `1h`, `1h30m`, `2d`, or a bare
 * number of seconds. Pure; used by config, API and CLI so the three agree.
 */
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Maximum duration Stint accepts anywhere (one year); keeps arithmetic far from overflow. */
export const MAX_DURATION_SECONDS = 366 * 86400;

/**
 * Parses a duration into whole seconds. Returns `undefined` for anything malformed,
 * zero, negative or above {@link MAX_DURATION_SECONDS}.
 */
export function parseDuration(input: string | number): number | undefined {
  let seconds: number;
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input)) return undefined;
    seconds = input;
  } else {
    const text = input.trim();
    if (/^\d+$/.test(text)) {
      seconds = Number(text);
    } else {
      const m = DURATION.exec(text);
      if (!m || text === '') return undefined;
      const [, d, h, min, s] = m;
      seconds =
        Number(d ?? 0) * UNIT_SECONDS.d! +
        Number(h ?? 0) * UNIT_SECONDS.h! +
        Number(min ?? 0) * UNIT_SECONDS.m! +
        Number(s ?? 0);
    }
  }
  if (!(seconds > 0) || seconds > MAX_DURATION_SECONDS) return undefined;
  return seconds;
}

/** Formats seconds compactly (`1h30m`, `45s`). */
export function formatDuration(seconds: number): string {
  if (seconds <= 0) return '0s';
  const parts: string[] = [];
  let rest = Math.floor(seconds);
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
