/**
 * Turns @redis/client failures into `StintError('target_unavailable')` whose texts hold no
 * secret. Redis error replies do not echo passwords (Stint only ever sends `#<sha256>`), and
 * socket errors name host and port only, but every text is still scrubbed of the secrets the
 * caller knows about, so a future driver message cannot leak one (issue #3: secrets never go
 * into errors or evidence).
 */
import { ErrorReply } from '@redis/client';
import { StintError } from '../../core/errors.js';

/** Replaces every occurrence of each secret in `text` with `[redacted]`. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret !== undefined && secret.length > 0) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/** True when Redis itself answered with an error (as opposed to a socket or timeout failure). */
export function isErrorReply(e: unknown): e is ErrorReply {
  return e instanceof ErrorReply;
}

/** The first word of a Redis error reply (`NOPERM`, `WRONGPASS`, `ERR`). */
export function replyCode(e: ErrorReply): string {
  return e.message.split(' ', 1)[0] ?? 'ERR';
}

/**
 * The StintError for a failed `action` (`LOGIN`, `ACL SETUSER`, ...) on target `targetName`.
 * The detail says whether Redis refused it or could not be reached; the driver's own text goes
 * to `internalReason`, scrubbed of `secrets`. A refusal also carries `extra.redisReply` (the
 * reply code, e.g. `NOPERM`) and `extra.action`, so callers can tell "refused" from "down".
 */
export function targetError(targetName: string, action: string, e: unknown, secrets: readonly (string | undefined)[]): StintError {
  if (e instanceof StintError) return e;
  const message = redact(e instanceof Error ? e.message : String(e), secrets).slice(0, 500);
  const detail = isErrorReply(e)
    ? `redis target "${targetName}" refused ${action} (${replyCode(e)})`
    : `redis target "${targetName}" could not be reached (${action})`;
  return new StintError('target_unavailable', detail, {
    internalReason: `${detail}: ${message}`,
    ...(isErrorReply(e) ? { extra: { redisReply: replyCode(e), action } } : {}),
  });
}
