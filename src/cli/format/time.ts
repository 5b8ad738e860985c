/** Times for people: relative ("in 14m", "3m ago") followed by the exact ISO 8601 instant. */
import { formatDuration } from '../../core/duration.js';

/** `1h30m` rather than `1h30m12s`: the two most significant units are enough to read. */
function roughDuration(seconds: number): string {
  const parts = formatDuration(seconds).match(/\d+[dhms]/g) ?? [];
  return parts.slice(0, 2).join('');
}

/** `in 14m`, `3m ago` or `now` for `iso` seen at `now` (epoch ms). */
export function relativeTime(iso: string, now: number): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (Number.isNaN(seconds)) return iso;
  if (seconds === 0) return 'now';
  return seconds > 0 ? `in ${roughDuration(seconds)}` : `${roughDuration(-seconds)} ago`;
}

/** The ISO instant to the second (`2026-01-05T10:00:00Z`). */
export function isoSeconds(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `in 14m (2026-01-05T10:15:00Z)`. */
export function when(iso: string, now: number): string {
  return `${relativeTime(iso, now)} (${isoSeconds(iso)})`;
}
