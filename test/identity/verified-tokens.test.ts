/**
 * The memo of verified identity tokens (src/adapters/identity-jwt/verified-tokens.ts): a token
 * presented again is answered without a new signature check, and is refused exactly when a
 * fresh verification would refuse it (time claims with leeway, a key the issuer withdrew).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';
import type { JSONWebKeySet } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { createIdentityVerifier } from '../../src/adapters/identity-jwt/index.js';
import { ManualClock } from '../../src/ports/clock.js';
import { expectUnauthenticated, githubIssuer, jwksOf, secondsOf, sign, testKey, writeJwksFile, type TestKey } from './fixtures.js';

let key: TestKey;
let other: TestKey;
let dir: string;
let jwksFile: string;

beforeAll(async () => {
  key = await testKey('EdDSA');
  other = await testKey('EdDSA');
  dir = mkdtempSync(join(tmpdir(), 'stint-verified-'));
  jwksFile = await writeJwksFile(dir, 'github', jwksOf(key));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const claimsAt = (clock: ManualClock, extra: Record<string, unknown> = {}) => {
  const now = secondsOf(clock.now());
  return { iss: 'https://token.actions.githubusercontent.com', aud: 'stint', sub: 'repo:acme/deploy', repository: 'acme/deploy', repository_owner: 'acme', iat: now, exp: now + 300, ...extra };
};

describe('verified identity tokens', () => {
  it('answers the same token again from the memo, with one frozen principal', async () => {
    const clock = new ManualClock();
    const verifier = createIdentityVerifier({ issuers: [githubIssuer(jwksFile)], clock });
    const token = await sign(key, claimsAt(clock));
    const first = await verifier.verify(token);
    const second = await verifier.verify(token);
    expect(second).toBe(first);
    expect(Object.isFrozen(second)).toBe(true);
    expect(Object.isFrozen(second.attributes)).toBe(true);
    expect(verifier.verifiedTokens.counts).toEqual({ hits: 1, misses: 1 });
    expect(verifier.verifiedTokens.size).toBe(1);
    // Another token of the same workload is verified on its own.
    await verifier.verify(await sign(key, claimsAt(clock, { jti: 'another' })));
    expect(verifier.verifiedTokens.counts).toEqual({ hits: 1, misses: 2 });
  });

  it('refuses a remembered token once it expires, with the reason a fresh verification gives', async () => {
    const clock = new ManualClock();
    const verifier = createIdentityVerifier({ issuers: [githubIssuer(jwksFile)], clock });
    const token = await sign(key, claimsAt(clock));
    await verifier.verify(token);
    // exp is now + 300 s, the issuer's leeway 30 s: accepted up to exp + 29 s, refused at exp + 30 s.
    clock.advance(329_000);
    await expect(verifier.verify(token)).resolves.toMatchObject({ id: 'workload:acme/deploy' });
    clock.advance(1_000);
    await expectUnauthenticated(verifier.verify(token), 'token expired', token);
    expect(verifier.verifiedTokens.size).toBe(0);
  });

  it('keeps nothing from a failed verification, so a bad token costs a full check every time', async () => {
    const clock = new ManualClock();
    const verifier = createIdentityVerifier({ issuers: [githubIssuer(jwksFile)], clock });
    const forged = await sign(other, claimsAt(clock), { kid: key.kid });
    await expectUnauthenticated(verifier.verify(forged), /signature/);
    await expectUnauthenticated(verifier.verify(forged), /signature/);
    expect(verifier.verifiedTokens.size).toBe(0);
    expect(verifier.verifiedTokens.counts.hits).toBe(0);
  });

  it('is bounded, dropping the least recently used token first', async () => {
    const clock = new ManualClock();
    const verifier = createIdentityVerifier({ issuers: [githubIssuer(jwksFile)], clock, verifiedTokensKept: 2 });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((jti) => sign(key, claimsAt(clock, { jti }))));
    await verifier.verify(a!);
    await verifier.verify(b!);
    await verifier.verify(a!); // a is now the most recently used
    await verifier.verify(c!); // pushes out b
    expect(verifier.verifiedTokens.size).toBe(2);
    const before = verifier.verifiedTokens.counts.hits;
    await verifier.verify(a!);
    await verifier.verify(b!);
    expect(verifier.verifiedTokens.counts.hits).toBe(before + 1);
  });

  it('with 0 kept, verifies every presentation from scratch', async () => {
    const clock = new ManualClock();
    const verifier = createIdentityVerifier({ issuers: [githubIssuer(jwksFile)], clock, verifiedTokensKept: 0 });
    const token = await sign(key, claimsAt(clock));
    await verifier.verify(token);
    await verifier.verify(token);
    expect(verifier.verifiedTokens.size).toBe(0);
    expect(verifier.verifiedTokens.counts).toEqual({ hits: 0, misses: 0 });
  });

  it('accepts and refuses exactly what a verifier without the memo does, at any later time (property)', async () => {
    const start = new ManualClock().now();
    await fc.assert(
      fc.asyncProperty(
        // Token times relative to its first presentation, in seconds, and when it is shown again.
        fc.record({ iat: fc.integer({ min: -60, max: 20 }), nbf: fc.option(fc.integer({ min: -60, max: 20 }), { nil: undefined }), exp: fc.integer({ min: 1, max: 120 }) }),
        fc.array(fc.integer({ min: -5_000, max: 200_000 }), { minLength: 1, maxLength: 4 }),
        async (times, laterMs) => {
          const clock = new ManualClock(start);
          const remembering = createIdentityVerifier({ issuers: [githubIssuer(jwksFile)], clock });
          const fresh = createIdentityVerifier({ issuers: [githubIssuer(jwksFile)], clock, verifiedTokensKept: 0 });
          const now = secondsOf(start);
          const token = await sign(key, claimsAt(clock, { iat: now + times.iat, exp: now + times.exp, ...(times.nbf !== undefined ? { nbf: now + times.nbf } : {}) }));
          for (const offset of [0, ...laterMs]) {
            clock.set(start + offset);
            const [a, b] = await Promise.all([remembering.verify(token).then(() => 'ok', (e: { internalReason?: string }) => e.internalReason), fresh.verify(token).then(() => 'ok', (e: { internalReason?: string }) => e.internalReason)]);
            expect(a).toBe(b);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('verified identity tokens: a key the issuer withdraws', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    vi.useRealTimers();
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('stops answering from the memo the moment the re-downloaded key set no longer holds the key', async () => {
    // jose decides that its downloaded key set is stale (10 minutes) by Date.now(): fake only Date.
    vi.useFakeTimers({ toFake: ['Date'] });
    let served: JSONWebKeySet = jwksOf(key);
    const server = createServer((_req, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(served));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    const clock = new ManualClock();
    const verifier = createIdentityVerifier({ issuers: [githubIssuer('unused', { jwksFile: undefined, jwksUrl })], clock });

    const token = await sign(key, claimsAt(clock, { exp: secondsOf(clock.now()) + 3600 }));
    await verifier.verify(token); // downloads the key set
    vi.setSystemTime(Date.now() + 590_000);
    await verifier.verify(token);
    expect(verifier.verifiedTokens.counts.hits).toBe(1);

    // The issuer withdraws the key. The key set jose holds is still fresh: the token is still
    // accepted, as it would be without the memo.
    served = jwksOf(other);
    await verifier.verify(token);
    // Past 10 minutes jose downloads the key set again; the key is gone, so is the token.
    vi.setSystemTime(Date.now() + 11_000);
    await expectUnauthenticated(verifier.verify(token), 'no matching key in jwks', token);
    expect(verifier.verifiedTokens.size).toBe(0);
  });
});
