import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { issueAccessToken, loadOrCreateTokenKeys, verifyAccessToken } from '../../src/adapters/tokens-jose/index.js';
import { isStintError } from '../../src/core/errors.js';
import { ManualClock } from '../../src/ports/clock.js';
import { tokenGarbage } from '../identity/garbage.js';
import { activeGrant, keysFile } from './fixtures.js';

describe('access-token verifier under garbage', () => {
  it('only ever answers StintError(unauthenticated) with the generic detail', async () => {
    const now = new ManualClock().now();
    const issuer = 'https://stint.example';
    const ring = await loadOrCreateTokenKeys(await keysFile(), 'EdDSA');
    const realTokens = [
      await issueAccessToken(ring, { issuer, grant: activeGrant(now), now }),
      await issueAccessToken(ring, { issuer, grant: activeGrant(now, { actorChain: ['workload:a', 'human:b'] }), now, cnfJkt: 'abc' }),
    ];
    for (const token of realTokens) await expect(verifyAccessToken(ring, token, { issuer, now })).resolves.toBeDefined();

    await fc.assert(
      fc.asyncProperty(tokenGarbage({ issuers: [issuer], kids: [ring.current.kid], realTokens }), async (token) => {
        const error = await verifyAccessToken(ring, token, { issuer, now }).then(
          (claims) => new Error(`accepted garbage as ${claims.jti}`),
          (e: unknown) => e,
        );
        if (!isStintError(error) || error.code !== 'unauthenticated' || error.detail !== 'invalid or missing credentials') throw error;
        expect(error.internalReason).toBeTruthy();
      }),
      { numRuns: 400 },
    );
  });
});
