import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  actorChainOfClaims,
  issueAccessToken,
  loadOrCreateTokenKeys,
  rotateTokenKeys,
  verifyAccessToken,
  type TokenAlgorithm,
  type TokenKeyRing,
} from '../../src/adapters/tokens-jose/index.js';
import { ManualClock } from '../../src/ports/clock.js';
import { expectUnauthenticated } from '../identity/fixtures.js';
import { activeGrant, keysFile } from './fixtures.js';

const ISSUER = 'https://stint.example';
const clock = new ManualClock();
const T0 = clock.now();
const iatOf = (ms: number) => Math.floor(ms / 1000);

describe.each<TokenAlgorithm>(['EdDSA', 'ES256'])('access tokens (%s)', (alg) => {
  let ring: TokenKeyRing;
  let otherRing: TokenKeyRing;

  beforeAll(async () => {
    ring = await loadOrCreateTokenKeys(await keysFile(), alg);
    otherRing = await loadOrCreateTokenKeys(await keysFile(), alg);
  });

  it('issues an RFC 9068 token with exactly the grant claims, and verifies it', async () => {
    const grant = activeGrant(T0);
    const token = await issueAccessToken(ring, { issuer: ISSUER, grant, now: T0 });
    expect(decodeProtectedHeader(token)).toEqual({ typ: 'at+jwt', alg, kid: ring.current.kid });
    const expected = {
      iss: ISSUER,
      sub: 'workload:deploy-bot',
      aud: 'orders-db',
      client_id: 'workload:deploy-bot',
      iat: iatOf(T0),
      exp: iatOf(grant.expiresAt!),
      jti: 'g_01HZX3K6',
      scope: 'migrator',
      task: 'run migration 42',
      tenant: 'acme',
    };
    expect(decodeJwt(token)).toEqual(expected);
    const claims = await verifyAccessToken(ring, token, { issuer: ISSUER, now: T0 });
    expect(claims).toEqual(expected);
    expect(actorChainOfClaims(claims)).toEqual([]);
  });

  it('signs tokens jose verifies, and a flipped signature is refused (Ed25519 is deterministic; ES256 verifies)', async () => {
    const grant = activeGrant(T0);
    const first = await issueAccessToken(ring, { issuer: ISSUER, grant, now: T0 });
    const second = await issueAccessToken(ring, { issuer: ISSUER, grant, now: T0 });
    const [h1, p1] = first.split('.');
    const [h2, p2] = second.split('.');
    expect([h2, p2]).toEqual([h1, p1]);
    if (alg === 'EdDSA') expect(second).toBe(first);
    expect(await verifyAccessToken(ring, second, { issuer: ISSUER, now: T0 })).toEqual(await verifyAccessToken(ring, first, { issuer: ISSUER, now: T0 }));
    const [h, p, sig] = second.split('.');
    const flipped = `${sig!.startsWith('A') ? 'B' : 'A'}${sig!.slice(1)}`;
    await expectUnauthenticated(verifyAccessToken(ring, `${h}.${p}.${flipped}`, { issuer: ISSUER, now: T0 }), 'signature invalid');
  });

  it('carries the actor chain as nested act (outermost = current actor) and the DPoP binding', async () => {
    const grant = activeGrant(T0, { actorChain: ['workload:agent-7', 'workload:orchestrator', 'human:alice'] });
    const token = await issueAccessToken(ring, { issuer: ISSUER, grant, now: T0, cnfJkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' });
    const claims = await verifyAccessToken(ring, token, { issuer: ISSUER, now: T0 });
    expect(claims.act).toEqual({ sub: 'workload:agent-7', act: { sub: 'workload:orchestrator', act: { sub: 'human:alice' } } });
    expect(claims.cnf).toEqual({ jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' });
    expect(actorChainOfClaims(claims)).toEqual(grant.actorChain);
  });

  it('expires exactly at the grant expiry (second precision, no leeway)', async () => {
    const grant = activeGrant(T0, { expiresAt: T0 + 60_000 });
    const token = await issueAccessToken(ring, { issuer: ISSUER, grant, now: T0 });
    const exp = iatOf(T0 + 60_000) * 1000;
    await expect(verifyAccessToken(ring, token, { issuer: ISSUER, now: exp - 1 })).resolves.toMatchObject({ jti: grant.id });
    await expectUnauthenticated(verifyAccessToken(ring, token, { issuer: ISSUER, now: exp }), 'token expired', token);
  });

  it('refuses a token of another ring, of another issuer, of another typ, and a tampered one', async () => {
    const grant = activeGrant(T0);
    const foreign = await issueAccessToken(otherRing, { issuer: ISSUER, grant, now: T0 });
    await expectUnauthenticated(verifyAccessToken(ring, foreign, { issuer: ISSUER, now: T0 }), 'no matching key in jwks', foreign);

    // Same key and kid as a real token, but signed by the other ring's key: the signature check decides.
    const impostor = await new SignJWT(decodeJwt(foreign)).setProtectedHeader({ alg, kid: ring.current.kid, typ: 'at+jwt' }).sign(otherRing.current.privateKey);
    await expectUnauthenticated(verifyAccessToken(ring, impostor, { issuer: ISSUER, now: T0 }), 'signature invalid');

    const token = await issueAccessToken(ring, { issuer: ISSUER, grant, now: T0 });
    await expectUnauthenticated(verifyAccessToken(ring, token, { issuer: 'https://evil.example', now: T0 }), 'iss mismatch');

    for (const typ of ['JWT', 'dpop+jwt', undefined]) {
      const header = { alg, kid: ring.current.kid, ...(typ !== undefined ? { typ } : {}) };
      const wrongTyp = await new SignJWT(decodeJwt(token)).setProtectedHeader(header).sign(ring.current.privateKey);
      await expectUnauthenticated(verifyAccessToken(ring, wrongTyp, { issuer: ISSUER, now: T0 }), 'typ mismatch');
    }

    const [h, , s] = token.split('.');
    const escalated = Buffer.from(JSON.stringify({ ...decodeJwt(token), scope: 'superuser' })).toString('base64url');
    await expectUnauthenticated(verifyAccessToken(ring, `${h}.${escalated}.${s}`, { issuer: ISSUER, now: T0 }), 'signature invalid');
  });

  it('refuses alg none and an algorithm outside the ring', async () => {
    const token = await issueAccessToken(ring, { issuer: ISSUER, grant: activeGrant(T0), now: T0 });
    const payload = token.split('.')[1];
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${payload}.`;
    await expectUnauthenticated(verifyAccessToken(ring, none, { issuer: ISSUER, now: T0 }), 'alg none not allowed');
    const otherAlg = alg === 'EdDSA' ? 'ES256' : 'EdDSA';
    const header = Buffer.from(JSON.stringify({ alg: otherAlg, kid: ring.current.kid, typ: 'at+jwt' })).toString('base64url');
    await expectUnauthenticated(verifyAccessToken(ring, `${header}.${payload}.${token.split('.')[2]}`, { issuer: ISSUER, now: T0 }), `alg ${otherAlg} not allowed`);
  });

  it('issues only for a grant that is active at now', async () => {
    for (const grant of [
      activeGrant(T0, { status: 'pending_approval', expiresAt: undefined }),
      activeGrant(T0, { status: 'revoked' }),
      activeGrant(T0, { expiresAt: T0 }),
      activeGrant(T0, { expiresAt: undefined }),
    ]) {
      await expect(issueAccessToken(ring, { issuer: ISSUER, grant, now: T0 })).rejects.toMatchObject({ code: 'invalid_state' });
    }
    // Active for less than the current second: a token would be dead on arrival.
    const nearlyOver = activeGrant(T0 + 100, { expiresAt: T0 + 900 });
    await expect(issueAccessToken(ring, { issuer: ISSUER, grant: nearlyOver, now: T0 + 100 })).rejects.toMatchObject({ code: 'invalid_state' });
  });
});

describe('access tokens across a key rotation', () => {
  it('a token issued before the rotation still verifies after it; new tokens use the new key', async () => {
    const file = await keysFile();
    const ring = await loadOrCreateTokenKeys(file, 'EdDSA');
    const grant = activeGrant(T0);
    const before = await issueAccessToken(ring, { issuer: ISSUER, grant, now: T0 });

    const { kid } = await rotateTokenKeys(file, 'ES256');
    // A replica that has not reloaded yet cannot verify the new key's tokens...
    const replica = await loadOrCreateTokenKeys(file, 'ES256');
    const after = await issueAccessToken(replica, { issuer: ISSUER, grant, now: T0 });
    expect(decodeProtectedHeader(after)).toMatchObject({ kid, alg: 'ES256' });
    await expectUnauthenticated(verifyAccessToken(ring, after, { issuer: ISSUER, now: T0 }), 'alg ES256 not allowed');
    // ...and can after reload, while the old token keeps verifying everywhere.
    await ring.reload();
    for (const r of [ring, replica]) {
      await expect(verifyAccessToken(r, before, { issuer: ISSUER, now: T0 })).resolves.toMatchObject({ jti: grant.id });
      await expect(verifyAccessToken(r, after, { issuer: ISSUER, now: T0 })).resolves.toMatchObject({ jti: grant.id });
    }
    expect(ring.current.kid).toBe(kid);
  });
});
