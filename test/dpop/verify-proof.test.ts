/**
 * DPoP proof verification (RFC 9449 section 4.3) with real keys and the real store as replay
 * guard: what a valid proof yields, every refusal reason, and single use across replicas.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { SignJWT, calculateJwkThumbprint } from 'jose';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  DPOP_ERRORS,
  INVALID_DPOP_PROOF_DETAIL,
  dpopErrorOf,
  oauthErrorForDpop,
  storeReplayGuard,
  verifyDpopProof,
  type DpopError,
  type DpopExpectations,
  type DpopReplayGuard,
} from '../../src/adapters/dpop/index.js';
import { openStore } from '../../src/adapters/store-sql/index.js';
import { StintError } from '../../src/core/errors.js';
import { createTestDatabase, storeBackends, type OpenedStore } from '../helpers/stores.js';
import { NOW, NOW_S, TOKEN_URL, makeProof, proofKey, unsignedProof, type ProofKey } from './proofs.js';

const REQUEST: DpopExpectations = { htm: 'POST', htu: TOKEN_URL, now: NOW };

let opened: OpenedStore;
let guard: DpopReplayGuard;
let es256: ProofKey;
let eddsa: ProofKey;

beforeAll(async () => {
  const pglite = storeBackends().find((backend) => backend.name === 'pglite');
  if (pglite === undefined) throw new Error('no pglite backend');
  opened = await pglite.open();
  guard = storeReplayGuard(opened.store);
  [es256, eddsa] = await Promise.all([proofKey('ES256'), proofKey('EdDSA')]);
});
afterAll(async () => {
  await opened?.cleanup();
});

/** Verifies and expects the refusal `reason`; returns the error. */
async function refused(proof: string, reason: DpopError, expected: Partial<DpopExpectations> = {}): Promise<StintError> {
  const outcome = await verifyDpopProof(proof, { ...REQUEST, ...expected }, guard).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(outcome, `expected refusal ${reason}`).toBeInstanceOf(StintError);
  const err = outcome as StintError;
  expect(err.code).toBe('invalid_request');
  expect(dpopErrorOf(err)).toBe(reason);
  // The caller learns nothing precise; the log gets the reason but never the proof itself.
  if (reason !== 'nonce_required' && reason !== 'nonce_mismatch') expect(err.detail).toBe(INVALID_DPOP_PROOF_DETAIL);
  expect(err.internalReason).toContain(`dpop ${reason}`);
  if (proof.length > 0) expect(`${err.internalReason} ${err.detail} ${err.message}`).not.toContain(proof);
  return err;
}

function athOf(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

describe('valid proofs', () => {
  it.each(['ES256', 'EdDSA', 'ES384', 'PS256', 'RS256'])('accepts a %s proof and returns its key thumbprint', async (alg) => {
    const key = alg === 'ES256' ? es256 : alg === 'EdDSA' ? eddsa : await proofKey(alg);
    const proof = await makeProof(key, { jti: `valid-${alg}` });
    const verified = await verifyDpopProof(proof, REQUEST, guard);
    expect(verified).toEqual({ jkt: await calculateJwkThumbprint(key.publicJwk, 'sha256'), jti: `valid-${alg}`, jwk: key.publicJwk });
    expect(verified.jwk).not.toHaveProperty('d');
  });

  it('gives different keys different thumbprints and the same key the same one', async () => {
    const a = await verifyDpopProof(await makeProof(es256), REQUEST, guard);
    const b = await verifyDpopProof(await makeProof(es256), REQUEST, guard);
    const c = await verifyDpopProof(await makeProof(eddsa), REQUEST, guard);
    expect(a.jkt).toBe(b.jkt);
    expect(a.jkt).not.toBe(c.jkt);
  });

  it('checks ath against the presented access token', async () => {
    const token = 'eyJhbGciOiJFUzI1NiJ9.access.token';
    await expect(verifyDpopProof(await makeProof(es256, { ath: athOf(token) }), { ...REQUEST, accessToken: token }, guard)).resolves.toMatchObject({});
    await refused(await makeProof(es256, { ath: athOf(`${token}x`) }), 'ath_mismatch', { accessToken: token });
    await refused(await makeProof(es256), 'ath_mismatch', { accessToken: token });
  });

  it('accepts iat exactly at both edges of the window, with the default 60 s and 5 s leeway', async () => {
    await verifyDpopProof(await makeProof(es256, { iat: NOW_S - 65 }), REQUEST, guard);
    await verifyDpopProof(await makeProof(es256, { iat: NOW_S + 5 }), REQUEST, guard);
    await verifyDpopProof(await makeProof(es256, { iat: NOW_S - 10 }), { ...REQUEST, maxAgeSeconds: 10, leewaySeconds: 0 }, guard);
  });
});

describe('single use', () => {
  it('refuses a second use of the same proof, and of its jti with the same key', async () => {
    const proof = await makeProof(es256, { jti: 'once' });
    await verifyDpopProof(proof, REQUEST, guard);
    await refused(proof, 'replayed');
    // A fresh signature does not make the jti new again, even seconds later.
    await refused(await makeProof(es256, { jti: 'once', iat: NOW_S + 3 }), 'replayed', { now: NOW + 3000 });
  });

  it('keeps jtis of different keys apart', async () => {
    await verifyDpopProof(await makeProof(es256, { jti: 'shared-jti' }), REQUEST, guard);
    await verifyDpopProof(await makeProof(eddsa, { jti: 'shared-jti' }), REQUEST, guard);
  });

  it('remembers a jti only once the proof passed every other check', async () => {
    await refused(await makeProof(es256, { jti: 'late', htm: 'GET' }), 'htm_mismatch');
    await refused(await makeProof(es256, { jti: 'late' }), 'nonce_required', { nonce: 'n-1' });
    await verifyDpopProof(await makeProof(es256, { jti: 'late' }), REQUEST, guard);
  });

  it('keeps the record past the proof window by the replica clock skew, then lets it go', async () => {
    const skewed = storeReplayGuard(opened.store, { replicaClockSkewMs: 60_000 });
    const expiresAt = NOW + 65_000;
    expect(await skewed.remember('skew-jti', 'skew-jkt', expiresAt, NOW)).toBe(true);
    expect(await skewed.remember('skew-jti', 'skew-jkt', expiresAt, expiresAt + 1)).toBe(false);
    expect(await skewed.remember('skew-jti', 'skew-jkt', expiresAt, expiresAt + 60_000)).toBe(false);
    expect(await skewed.remember('skew-jti', 'skew-jkt', expiresAt, expiresAt + 60_001)).toBe(true);
  });

  it('lets exactly one of concurrent uses win across two replicas on PostgreSQL', async () => {
    const db = await createTestDatabase();
    const replicas = await Promise.all([openStore({ kind: 'postgres', url: db.url }), openStore({ kind: 'postgres', url: db.url })]);
    onTestFinished(async () => {
      await Promise.all(replicas.map((store) => store.close()));
      await db.drop();
    });
    const guards = replicas.map((store) => storeReplayGuard(store));
    for (let round = 0; round < 5; round += 1) {
      const proof = await makeProof(es256, { jti: `race-${round}` });
      const outcomes = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => verifyDpopProof(proof, REQUEST, guards[i % 2] as DpopReplayGuard)),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of outcomes) if (o.status === 'rejected') expect(dpopErrorOf(o.reason)).toBe('replayed');
    }
  });
});

describe('the proof is for this request', () => {
  it('compares htm exactly', async () => {
    await refused(await makeProof(es256, { htm: 'GET' }), 'htm_mismatch');
    await refused(await makeProof(es256, { htm: 'post' }), 'htm_mismatch');
  });

  it('compares htu without query and fragment, normalising case and default port', async () => {
    const ok = async (htu: string, requestUrl: string): Promise<void> => {
      await verifyDpopProof(await makeProof(es256, { htu }), { ...REQUEST, htu: requestUrl }, guard);
    };
    await ok('https://broker.example/oauth/token?x=1#frag', TOKEN_URL);
    await ok(TOKEN_URL, 'https://broker.example/oauth/token?resource=a');
    await ok('HTTPS://Broker.Example:443/oauth/token', TOKEN_URL);
    await ok('http://broker.example:80/oauth/token', 'http://broker.example/oauth/token');
    await ok('https://broker.example/oauth/%74oken', TOKEN_URL);
    await ok('https://broker.example/a%2fb', 'https://broker.example/a%2Fb');
  });

  it('refuses another URL', async () => {
    for (const htu of [
      'https://broker.example/oauth/revoke',
      'https://broker.example/oauth/token/',
      'https://broker.example/OAUTH/token',
      'http://broker.example/oauth/token',
      'https://broker.example:8443/oauth/token',
      'https://evil.example/oauth/token',
      'https://user@broker.example/oauth/token',
      '/oauth/token',
      'not a url',
    ]) {
      await refused(await makeProof(es256, { htu }), 'htu_mismatch');
    }
  });
});

describe('time', () => {
  it('refuses a stale iat and an iat in the future beyond the leeway', async () => {
    await refused(await makeProof(es256, { iat: NOW_S - 66 }), 'stale');
    await refused(await makeProof(es256, { iat: NOW_S - 11 }), 'stale', { maxAgeSeconds: 10, leewaySeconds: 0 });
    await refused(await makeProof(es256, { iat: NOW_S + 6 }), 'future');
    await refused(await makeProof(es256, { iat: NOW_S + 1 }), 'future', { leewaySeconds: 0 });
  });

  it('honours exp and nbf when a client adds them', async () => {
    await refused(await makeProof(es256, { exp: NOW_S - 30 }), 'stale');
    await refused(await makeProof(es256, { nbf: NOW_S + 30 }), 'future');
  });
});

describe('header', () => {
  it('requires typ to be exactly dpop+jwt', async () => {
    for (const typ of ['JWT', 'at+jwt', 'DPoP+JWT', 'application/dpop+jwt', undefined]) {
      await refused(await makeProof(es256, {}, { typ }), 'bad_typ');
    }
  });

  it('refuses alg none', async () => {
    await refused(unsignedProof(es256), 'bad_alg');
  });

  it('refuses HS256, also keyed with the public key (key confusion)', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(es256.publicJwk));
    await refused(await makeProof(es256, {}, { alg: 'HS256' }, secret), 'bad_alg');
  });

  it('refuses algorithms off the allow-list', async () => {
    const es512 = await proofKey('ES512');
    await refused(await makeProof(es512), 'bad_alg');
  });

  it('refuses a private key in the header', async () => {
    await refused(await makeProof(es256, {}, { jwk: es256.privateJwk }), 'private_key_in_header');
    await refused(await makeProof(eddsa, {}, { jwk: eddsa.privateJwk }), 'private_key_in_header');
  });

  it('refuses a missing jwk, a symmetric one, and one that does not fit alg', async () => {
    await refused(await makeProof(es256, {}, { jwk: undefined }), 'bad_jwk');
    await refused(await makeProof(es256, {}, { jwk: 'key' }), 'bad_jwk');
    const es384 = await proofKey('ES384');
    await refused(await makeProof(es256, {}, { alg: 'ES384' }, es384.privateKey), 'bad_jwk');
    await refused(await makeProof(es256, {}, { jwk: { ...es256.publicJwk, alg: 'ES384' } }), 'bad_jwk');
    await refused(await makeProof(es256, {}, { jwk: { ...es256.publicJwk, use: 'enc' } }), 'bad_jwk');
    await refused(await makeProof(es256, {}, { jwk: { ...es256.publicJwk, x: 'AAAA' } }), 'bad_jwk');
  });

  it('refuses a signature by another key than the header jwk', async () => {
    const other = await proofKey('ES256');
    await refused(await makeProof(es256, {}, {}, other.privateKey), 'bad_signature');
    // A tampered payload under the original signature, too.
    const [h, , s] = (await makeProof(es256)).split('.');
    const [, p] = (await makeProof(es256, { htm: 'GET' })).split('.');
    await refused(`${h}.${p}.${s}`, 'bad_signature');
  });
});

describe('claims', () => {
  it('requires jti, htm, htu and iat of the right types', async () => {
    for (const missing of ['jti', 'htm', 'htu', 'iat']) {
      await refused(await makeProof(es256, { [missing]: undefined }), 'missing_claim');
    }
    await refused(await makeProof(es256, { jti: 42 }), 'missing_claim');
    await refused(await makeProof(es256, { iat: String(NOW_S) }), 'missing_claim');
    await refused(await makeProof(es256, { htu: ['https://broker.example/oauth/token'] }), 'missing_claim');
  });

  it('refuses a jti that is empty, longer than 256 characters, or not storable', async () => {
    await verifyDpopProof(await makeProof(es256, { jti: 'j'.repeat(256) }), REQUEST, guard);
    await refused(await makeProof(es256, { jti: 'k'.repeat(257) }), 'bad_jti');
    await refused(await makeProof(es256, { jti: '' }), 'bad_jti');
    await refused(await makeProof(es256, { jti: 'nul\u0000jti' }), 'bad_jti');
    await refused(await makeProof(es256, { jti: 'half \ud800 pair' }), 'bad_jti');
  });
});

describe('nonce', () => {
  it('demands the server nonce when one is expected, and maps it to use_dpop_nonce', async () => {
    const missing = await refused(await makeProof(es256), 'nonce_required', { nonce: 'n-42' });
    const wrong = await refused(await makeProof(es256, { nonce: 'n-41' }), 'nonce_mismatch', { nonce: 'n-42' });
    expect(missing.detail).not.toBe(INVALID_DPOP_PROOF_DETAIL);
    expect(oauthErrorForDpop('nonce_required')).toBe('use_dpop_nonce');
    expect(oauthErrorForDpop('nonce_mismatch')).toBe('use_dpop_nonce');
    expect(wrong.internalReason).not.toContain('n-42');
    await verifyDpopProof(await makeProof(es256, { nonce: 'n-42' }), { ...REQUEST, nonce: 'n-42' }, guard);
  });

  it('maps every other reason to invalid_dpop_proof', () => {
    for (const reason of DPOP_ERRORS.filter((r) => r !== 'nonce_required' && r !== 'nonce_mismatch')) {
      expect(oauthErrorForDpop(reason)).toBe('invalid_dpop_proof');
    }
  });
});

describe('bad input', () => {
  it('treats a bad expectation as a broker bug, not a client error', async () => {
    const proof = await makeProof(es256);
    for (const expected of [{ htu: '/oauth/token' }, { now: NOW + 0.5 }, { maxAgeSeconds: 0 }, { leewaySeconds: -1 }]) {
      await expect(verifyDpopProof(proof, { ...REQUEST, ...expected }, guard)).rejects.toMatchObject({ code: 'internal' });
    }
  });

  it('refuses an oversized proof before decoding it', async () => {
    const proof = await makeProof(es256, { padding: 'x'.repeat(9000) });
    await refused(proof, 'malformed');
  });

  it('answers any garbage with invalid_request and a DPoP reason, never anything else', async () => {
    const segment = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('')) });
    const json = fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value)).toString('base64url'));
    const headerLike = fc
      .record({ typ: fc.constantFrom('dpop+jwt', 'JWT', 7), alg: fc.constantFrom('ES256', 'EdDSA', 'none', 'HS256', null), jwk: fc.oneof(fc.jsonValue(), fc.constant(es256.publicJwk), fc.constant(es256.privateJwk)) }, { requiredKeys: [] })
      .map((header) => Buffer.from(JSON.stringify(header)).toString('base64url'));
    const garbage = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.tuple(segment, segment, segment).map((parts) => parts.join('.')),
      fc.tuple(fc.oneof(json, headerLike), fc.oneof(json, segment), segment).map((parts) => parts.join('.')),
    );
    await fc.assert(
      fc.asyncProperty(garbage, async (proof) => {
        const outcome = await verifyDpopProof(proof, REQUEST, guard).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(outcome).toBeInstanceOf(StintError);
        expect((outcome as StintError).code).toBe('invalid_request');
        expect(DPOP_ERRORS).toContain(dpopErrorOf(outcome));
      }),
      { numRuns: 400 },
    );
  });
});

describe('a client-built proof', () => {
  it('is accepted when built with only the public parts jose gives a client', async () => {
    // SignJWT straight, without the test helper, as a client library would.
    const proof = await new SignJWT({ jti: 'client-built', htm: 'POST', htu: `${TOKEN_URL}?x=1`, iat: NOW_S })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'dpop+jwt', jwk: eddsa.publicJwk })
      .sign(eddsa.privateKey);
    await expect(verifyDpopProof(proof, REQUEST, guard)).resolves.toMatchObject({ jti: 'client-built' });
  });
});
