/**
 * Remembers access tokens whose signature and claims verified, by SHA-256 of the token text, so a
 * resource server that introspects the same token on every request it serves (RFC 7662 section
 * 4 expects this) does not pay an Ed25519/ECDSA verification each time (issue #2 item 13).
 *
 * Why this changes no answer: a verification is a pure function of the token's bytes and the
 * verification keys, and the broker's key ring does not change while it runs (docs/operations.md,
 * "replicas pick it up on restart"); the only time-dependent check, `exp`, is repeated against the
 * clock on every hit, exactly as jose does it (expired when `exp <= now`, no leeway), and a token
 * carrying `nbf` is never remembered. Only successes are kept, so a forged or malformed token is
 * verified (and refused) every time; grant liveness is still read on every call. Entries also
 * expire after `maxAgeMs`, so even a future in-process key reload would take effect within it.
 * Bounded (least recently used evicted), so memory does not grow with the number of tokens.
 */
import { createHash } from 'node:crypto';
import type { AccessTokenClaims } from '../ports/tokens.js';

/** Options of {@link VerifiedTokenCache}. */
export interface VerifiedTokenCacheOptions {
  /** Tokens remembered at most (default 4,096: ~2 MB of claims). */
  readonly maxEntries?: number;
  /** How long one verification is reused at most, ms (default 60 s). */
  readonly maxAgeMs?: number;
}

/** Verified access-token claims by token digest; see the file comment. */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, { readonly claims: AccessTokenClaims; readonly until: number }>();
  private readonly maxEntries: number;
  private readonly maxAgeMs: number;

  constructor(opts: VerifiedTokenCacheOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 4_096;
    this.maxAgeMs = opts.maxAgeMs ?? 60_000;
    if (!Number.isSafeInteger(this.maxEntries) || this.maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    if (!(this.maxAgeMs >= 0)) throw new RangeError('maxAgeMs must not be negative');
  }

  /** Entries held now (for tests). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The claims of `token` if it verified before and is not expired at `now`; `undefined` means
   * "verify it" (never seen, too old, or expired: the verifier then gives the real answer).
   */
  get(token: string, now: number): AccessTokenClaims | undefined {
    const key = digest(token);
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    this.entries.delete(key);
    // jose: expired when exp <= floor(now / 1000); for an integer exp that is exp * 1000 <= now.
    if (hit.until <= now || hit.claims.exp * 1000 <= now) return undefined;
    this.entries.set(key, hit);
    return hit.claims;
  }

  /** Remembers claims the verifier just accepted for `token` at `now`. */
  remember(token: string, claims: AccessTokenClaims, now: number): void {
    // nbf would be a second time-dependent check; Stint never issues it, so do not remember such tokens.
    if ((claims as { nbf?: unknown }).nbf !== undefined || !Number.isSafeInteger(claims.exp)) return;
    const key = digest(token);
    this.entries.delete(key);
    this.entries.set(key, { claims, until: now + this.maxAgeMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
