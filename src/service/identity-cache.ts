/**
 * Caches verified identities by token digest until the token expires (bounded, LRU-ish). A
 * workload reuses one identity token for many calls; re-verifying the signature each time would
 * dominate introspection cost. Only successes are cached, and never past the token's own `exp`
 * or the configured cap, so a key rotation or a revoked issuer key takes effect within that cap.
 */
import { createHash } from 'node:crypto';
import type { Principal } from '../core/principal.js';
import type { IdentityVerifier } from '../ports/identity.js';
import type { Clock } from '../ports/clock.js';

export function cachingIdentityVerifier(inner: IdentityVerifier, clock: Clock, opts: { maxEntries?: number; maxAgeMs?: number } = {}): IdentityVerifier {
  const maxEntries = opts.maxEntries ?? 10_000;
  const maxAgeMs = opts.maxAgeMs ?? 60_000;
  const cache = new Map<string, { principal: Principal; until: number }>();
  return {
    async verify(token: string): Promise<Principal> {
      const key = createHash('sha256').update(token).digest('base64url');
      const now = clock.now();
      const hit = cache.get(key);
      if (hit && hit.until > now) return hit.principal;
      if (hit) cache.delete(key);
      const principal = await inner.verify(token);
      const exp = expOf(token);
      const until = Math.min(now + maxAgeMs, exp ?? now);
      if (until > now) {
        if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
        cache.set(key, { principal, until });
      }
      return principal;
    },
  };
}

/** `exp` (ms) of an already verified JWT. */
function expOf(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
