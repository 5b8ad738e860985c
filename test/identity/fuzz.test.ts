import { join } from 'node:path';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { createIdentityVerifier, devPublicJwks, loadOrCreateDevIssuerKey, mintDevToken } from '../../src/adapters/identity-jwt/index.js';
import type { DevConfig } from '../../src/config/types.js';
import { isStintError } from '../../src/core/errors.js';
import { ManualClock } from '../../src/ports/clock.js';
import { githubIssuer, jwksOf, secondsOf, sign, tempDir, testKey, writeJwksFile } from './fixtures.js';
import { tokenGarbage } from './garbage.js';

describe('identity verifier under garbage', () => {
  it('only ever answers StintError(unauthenticated) with the generic detail', async () => {
    const clock = new ManualClock();
    const dir = await tempDir();
    const gh = await testKey('EdDSA');
    const devKey = await loadOrCreateDevIssuerKey(join(dir, 'dev.jwk.json'));
    const dev: DevConfig = { enabled: true, keyFile: join(dir, 'dev.jwk.json'), issuer: 'https://stint.localhost/dev', audience: 'stint', principals: {} };
    const issuer = githubIssuer(await writeJwksFile(dir, 'gh', jwksOf(gh)));
    const verifier = createIdentityVerifier({ issuers: [issuer], dev: { config: dev, publicJwks: devPublicJwks(devKey) }, clock });

    const now = secondsOf(clock.now());
    const realTokens = [
      await sign(gh, { iss: issuer.issuer, aud: 'stint', sub: 'repo:acme/x', repository: 'acme/x', repository_owner: 'acme', iat: now, exp: now + 60 }),
      await mintDevToken({ key: devKey, issuer: dev.issuer, audience: dev.audience, principalId: 'workload:x', now: clock.now() }),
    ];
    // The genuine tokens pass, so the property below is not vacuous.
    for (const token of realTokens) await expect(verifier.verify(token)).resolves.toBeDefined();

    await fc.assert(
      fc.asyncProperty(tokenGarbage({ issuers: [issuer.issuer, dev.issuer], kids: [gh.kid, devKey.kid], realTokens }), async (token) => {
        const error = await verifier.verify(token).then(
          (principal) => new Error(`accepted garbage as ${principal.id}`),
          (e: unknown) => e,
        );
        if (!isStintError(error) || error.code !== 'unauthenticated' || error.detail !== 'invalid or missing credentials') throw error;
        expect(error.internalReason).toBeTruthy();
      }),
      { numRuns: 400 },
    );
  });
});
