/**
 * Verified identity tokens, kept so that a workload presenting the same token again (a
 * Kubernetes projected token, a CI job's OIDC token: one token for many calls, by design) is
 * not verified from scratch on every call. A full verification of an Ed25519 token (jose,
 * through WebCrypto) is 180-230 us of CPU on the bench machine, a hit 10-14 us
 * (docs/benchmarks.md, "What changed in session 8"). API gateways do the same (Envoy
 * `jwt_authn` `jwt_cache_config`).
 *
 * Why a hit is exactly as strict as a fresh verification, not a window of staleness: the entry
 * is found by the SHA-256 of the token's exact bytes, so header, claims and signature are the
 * ones already verified, and everything `jwtVerify` checked that does not depend on time or on
 * the key set (algorithm allow-list, signature over these bytes, iss, aud, required claims)
 * holds again. What can change is re-checked on every hit, by the same rules as jose:
 * - time: `exp`, `nbf` with the issuer's leeway, and Stint's `iat`-in-the-future check,
 *   against the injected clock;
 * - keys: the issuer's key resolver is asked again for the token's key and must hand back the
 *   very key object that verified it. A key removed from a JWKS (or a key set re-downloaded,
 *   whose keys are new objects) is a miss, so a rotated-out key stops working exactly when it
 *   would without this memo, and a JWKS that cannot be downloaded fails the call closed.
 * A hit that fails a check is dropped and the token is verified from scratch, which gives the
 * precise failure reason for the audit log. Only successful verifications are kept, so a bad
 * token costs a full verification every time and cannot displace anything but old entries.
 *
 * Keyed by a hash, so the memo holds no bearer token. Bounded in entries; least recently used
 * go first; an expired entry is dropped when it is next looked up or pushed out.
 */
import { createHash } from 'node:crypto';
import type { JWTVerifyGetKey } from 'jose';
import type { Principal } from '../../core/principal.js';

/** Entries kept by default: far more distinct workload tokens than one broker sees at once. */
export const VERIFIED_TOKENS_KEPT = 10_000;

/** What one successful verification established, and what a hit must check again. */
export interface VerifiedToken {
  readonly principal: Principal;
  /** The issuer's key resolver, asked again on every hit. */
  readonly keys: JWTVerifyGetKey;
  /** The key object that verified the signature, and the header the resolver was asked with. */
  readonly key: { readonly header: Parameters<JWTVerifyGetKey>[0]; readonly object: unknown };
  /** Numeric dates of the token (seconds); `exp` is required by the verifier. */
  readonly exp: number;
  readonly nbf?: number;
  readonly iat?: number;
  /** The issuer's leeway in seconds, as applied by the verification. */
  readonly leewaySeconds: number;
}

/**
 * True when the time claims that held at verification still hold at `nowMs`: jose's rules
 * (`nbf > now + leeway` and `exp <= now - leeway` fail, `now` in whole seconds) and the
 * verifier's own (`iat > now + leeway` fails).
 */
export function timeClaimsHold(entry: VerifiedToken, nowMs: number): boolean {
  const now = Math.floor(nowMs / 1000);
  const leeway = entry.leewaySeconds;
  if (entry.exp <= now - leeway) return false;
  if (entry.nbf !== undefined && entry.nbf > now + leeway) return false;
  if (entry.iat !== undefined && entry.iat > now + leeway) return false;
  return true;
}

/** Freezes a principal and what it holds, so that no caller can change what the next one gets. */
function frozenPrincipal(principal: Principal): Principal {
  Object.freeze(principal.attributes);
  if (principal.actorChain !== undefined) Object.freeze(principal.actorChain);
  if (principal.mayAct !== undefined) {
    for (const entry of principal.mayAct) Object.freeze(entry);
    Object.freeze(principal.mayAct);
  }
  return Object.freeze(principal);
}

/** A bounded least-recently-used map from token hashes to verified tokens. */
export class VerifiedTokens {
  private readonly entries = new Map<string, VerifiedToken>();
  /** Verifications answered here, and those made from scratch (counted by the verifier; tests, benchmarks). */
  readonly counts = { hits: 0, misses: 0 };

  constructor(readonly maxEntries: number = VERIFIED_TOKENS_KEPT) {}

  /** Entries held now. */
  get size(): number {
    return this.entries.size;
  }

  /** The memo key of a token: its SHA-256, so that no bearer token is held here. */
  keyOf(token: string): string {
    return createHash('sha256').update(token).digest('base64');
  }

  /** The entry for `key`, made the most recently used. */
  get(key: string): VerifiedToken | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    // A Map iterates in insertion order: re-inserting moves the key to the young end.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  /** Keeps `entry` under `key` (its principal frozen); the oldest entry goes when full. */
  set(key: string, entry: VerifiedToken): Principal {
    const principal = frozenPrincipal(entry.principal);
    if (this.maxEntries <= 0) return principal;
    if (!this.entries.has(key) && this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, Object.freeze({ ...entry, principal }));
    return principal;
  }

  /** Forgets `key` (a hit whose checks failed). */
  delete(key: string): void {
    this.entries.delete(key);
  }
}
