/**
 * Turns whatever a database driver throws into a `StintError`. The caller sees only a generic
 * detail; the driver's message goes to `internalReason` with every URL and every known secret
 * (the connection string and its password) cut out, so a connection string can never reach a
 * log or an HTTP response through an error.
 */
import { StintError, isStintError } from '../../core/errors.js';

/** SQLSTATE 23505: a row with the same key exists (e.g. a grant id inserted twice). */
const UNIQUE_VIOLATION = '23505';
/** SQLSTATE 40001 / 40P01: the database aborted the transaction; the caller may retry. */
const RETRYABLE = new Set(['40001', '40P01']);

/** Matches anything shaped like `scheme://...` up to the next whitespace or quote. */
const URL_PATTERN = /[a-z][a-z0-9+.-]*:\/\/[^\s'"]+/gi;

/** Removes every occurrence of `secrets` and every URL from `text`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join('[redacted]');
  }
  return out.replace(URL_PATTERN, '[url]');
}

/** The secrets hidden in a PostgreSQL URL: the URL itself and its decoded password. */
export function secretsOfUrl(url: string): string[] {
  const secrets = [url];
  try {
    const password = new URL(url).password;
    if (password !== '') secrets.push(password, decodeURIComponent(password));
  } catch {
    // Not a WHATWG URL (e.g. a libpq key=value string): the whole string is already listed.
  }
  return secrets;
}

/**
 * Maps a driver failure. `StintError`s pass through untouched; unique violations and
 * serialization failures become `conflict`; everything else (refused connections, lost
 * sessions, a closed PGlite) becomes `store_unavailable`.
 */
export function toStoreError(err: unknown, secrets: readonly string[]): StintError {
  if (isStintError(err)) return err;
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  const internalReason = redact(code === undefined ? message : `${code}: ${message}`, secrets);
  if (code === UNIQUE_VIOLATION) {
    return new StintError('conflict', 'the record already exists', { internalReason });
  }
  if (code !== undefined && RETRYABLE.has(code)) {
    return new StintError('conflict', 'the store aborted a concurrent transaction; retry', { internalReason });
  }
  return new StintError('store_unavailable', 'the store is unavailable', { internalReason });
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
