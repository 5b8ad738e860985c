/**
 * Keyset-pagination cursors. A cursor is the base64url of the last id on a page; the next page
 * continues strictly below it in id order, so pages never skip or repeat a row even while grants
 * are inserted (ids are time-sortable, new ones land above every cursor).
 */
import { StintError } from '../../core/errors.js';

/** Largest and smallest page sizes `listGrants` serves. */
export const MAX_PAGE_SIZE = 500;
export const MIN_PAGE_SIZE = 1;

/** The cursor that resumes after `lastId`. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

/** The id a cursor resumes after; `StintError('invalid_request')` for anything not made by `encodeCursor`. */
export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  // Node's decoder skips characters outside the alphabet; re-encoding exposes any such input.
  if (id === '' || encodeCursor(id) !== cursor) {
    throw new StintError('invalid_request', 'the page cursor is invalid');
  }
  return id;
}

/** `limit` clamped to [MIN_PAGE_SIZE, MAX_PAGE_SIZE]; fractions are truncated, NaN reads as the minimum. */
export function clampPageSize(limit: number): number {
  const whole = Math.trunc(limit);
  if (Number.isNaN(whole)) return MIN_PAGE_SIZE;
  return Math.min(MAX_PAGE_SIZE, Math.max(MIN_PAGE_SIZE, whole));
}
