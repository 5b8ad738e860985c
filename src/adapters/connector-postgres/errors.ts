/**
 * Maps what `pg` throws to `StintError('target_unavailable', ...)` without secrets (issue #3:
 * admin URLs and passwords never appear in errors or evidence). The caller-facing detail names
 * the target and the SQLSTATE or network error code only; `internalReason` keeps the server's
 * message with every known secret and every URL cut out.
 */
import { StintError, isStintError } from '../../core/errors.js';

/** Matches anything shaped like `scheme://...` up to the next whitespace or quote. */
const URL_PATTERN = /[a-z][a-z0-9+.-]*:\/\/[^\s'"]+/gi;

/** Network-level failures: the server could not be reached or the connection broke. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/**
 * SQLSTATEs that mean "not available right now": class 08 (connection exception), 57P01-03
 * (shutdown, crash, starting up) and 53300 (too many connections).
 */
function isUnavailableState(state: string): boolean {
  return state.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03' || state === '53300';
}

/** pg's own messages for a connection that timed out or broke (they carry no code). */
const BROKEN_CONNECTION = /timeout|Connection terminated|connection.*(closed|ended)/i;

/** Removes every occurrence of `secrets` and every URL from `text`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length > 0) out = out.split(secret).join('[redacted]');
  }
  return out.replace(URL_PATTERN, '[url]');
}

/** The `code` property of a driver error (SQLSTATE or errno code), if any. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** The server's message and DETAIL line, redacted. */
export function describeDriverError(err: unknown, secrets: readonly string[]): string {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  const detail = typeof err === 'object' && err !== null && typeof (err as { detail?: unknown }).detail === 'string' ? `; ${(err as { detail: string }).detail}` : '';
  return redact(`${code === undefined ? '' : `${code}: `}${message}${detail}`, secrets).slice(0, 1000);
}

/** True when `err` says the target could not be reached (as opposed to refusing a statement). */
export function isUnreachable(err: unknown): boolean {
  const code = errorCode(err);
  if (code !== undefined) return NETWORK_CODES.has(code) || isUnavailableState(code);
  return err instanceof Error && BROKEN_CONNECTION.test(err.message);
}

/**
 * The StintError for a failed operation on `target`. StintErrors pass through. The error
 * carries no `cause`: the driver's error object is never handed on, so nothing downstream can
 * log a field of it that was not redacted.
 */
export function toTargetError(err: unknown, target: string, action: string, secrets: readonly string[]): StintError {
  if (isStintError(err)) return err;
  const code = errorCode(err);
  const internalReason = `${action}: ${describeDriverError(err, secrets)}`;
  if (isUnreachable(err)) {
    return new StintError('target_unavailable', `target ${target} is unreachable (${code ?? 'connection failed or timed out'})`, { internalReason });
  }
  if (code === '28P01' || code === '28000') {
    return new StintError('target_unavailable', `target ${target} refused the broker's admin login (SQLSTATE ${code})`, { internalReason });
  }
  return new StintError('target_unavailable', `target ${target} refused to ${action} (SQLSTATE ${code ?? 'unknown'})`, { internalReason });
}
