import { StintError } from '../../core/errors.js';

/**
 * The one public detail of every authentication failure. Callers learn nothing about why a
 * token was refused (no oracle for forging); the precise reason goes to `internalReason`,
 * which only reaches the server log and the audit log (the jose model, see errors.ts).
 */
export const UNAUTHENTICATED_DETAIL = 'invalid or missing credentials';

/** Builds the `unauthenticated` error for `reason`. `reason` must never contain the token. */
export function unauthenticated(reason: string): StintError {
  return new StintError('unauthenticated', UNAUTHENTICATED_DETAIL, { internalReason: reason });
}

/**
 * Makes an attacker-controlled value (an `iss`, an `alg`) safe to put in an internal reason:
 * control characters replaced and length capped, so a token cannot forge log lines or
 * flood the audit log.
 */
export function untrusted(value: unknown, max = 120): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}
