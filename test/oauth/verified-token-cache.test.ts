/**
 * The verified access-token cache (src/service/verified-token-cache.ts): only what verified is
 * remembered, `exp` is re-checked against the clock on every hit with jose's rule (expired when
 * exp <= now, in seconds, no leeway), entries age out, and the size is bounded.
 */
import { describe, expect, it } from 'vitest';
import { VerifiedTokenCache } from '../../src/service/verified-token-cache.js';
import type { AccessTokenClaims } from '../../src/ports/tokens.js';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const claims = (exp: number, extra: Record<string, unknown> = {}): AccessTokenClaims =>
  ({ iss: 'https://stint.test', sub: 'workload:a', aud: 'orders-db', client_id: 'workload:a', iat: T0 / 1000, exp, jti: 'g-1', scope: 'read', ...extra }) as AccessTokenClaims;

describe('verified access-token cache', () => {
  it('returns remembered claims for the same token text only', () => {
    const cache = new VerifiedTokenCache();
    const c = claims(T0 / 1000 + 60);
    cache.remember('a.b.c', c, T0);
    expect(cache.get('a.b.c', T0)).toBe(c);
    expect(cache.get('a.b.d', T0)).toBeUndefined();
    expect(cache.get('a.b.c ', T0)).toBeUndefined();
  });

  it('stops answering at exp exactly, like jose without leeway', () => {
    const cache = new VerifiedTokenCache({ maxAgeMs: 3_600_000 });
    const exp = T0 / 1000 + 60;
    cache.remember('tok', claims(exp), T0);
    expect(cache.get('tok', exp * 1000 - 1)).toBeDefined();
    expect(cache.get('tok', exp * 1000)).toBeUndefined();
    // Once expired it is gone, also for an earlier clock reading.
    expect(cache.get('tok', T0)).toBeUndefined();
  });

  it('forgets a verification after maxAgeMs', () => {
    const cache = new VerifiedTokenCache({ maxAgeMs: 1000 });
    cache.remember('tok', claims(T0 / 1000 + 3600), T0);
    expect(cache.get('tok', T0 + 999)).toBeDefined();
    expect(cache.get('tok', T0 + 1000)).toBeUndefined();
  });

  it('never remembers a token with nbf or a non-integer exp', () => {
    const cache = new VerifiedTokenCache();
    cache.remember('with-nbf', claims(T0 / 1000 + 60, { nbf: T0 / 1000 }), T0);
    cache.remember('odd-exp', claims(T0 / 1000 + 60.5), T0);
    expect(cache.get('with-nbf', T0)).toBeUndefined();
    expect(cache.get('odd-exp', T0)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('holds at most maxEntries, evicting the least recently used', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 2 });
    const c = claims(T0 / 1000 + 60);
    cache.remember('one', c, T0);
    cache.remember('two', c, T0);
    expect(cache.get('one', T0)).toBe(c);
    cache.remember('three', c, T0);
    expect(cache.size).toBe(2);
    expect(cache.get('two', T0)).toBeUndefined();
    expect(cache.get('one', T0)).toBe(c);
    expect(cache.get('three', T0)).toBe(c);
  });
});
