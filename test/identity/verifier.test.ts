import { createHmac, createPublicKey } from 'node:crypto';

import { beforeAll, describe, expect, it } from 'vitest';

import { createIdentityVerifier } from '../../src/adapters/identity-jwt/index.js';
import type { IssuerConfig } from '../../src/config/types.js';
import { StintError } from '../../src/core/errors.js';
import { ManualClock } from '../../src/ports/clock.js';
import { b64url, expectUnauthenticated, githubIssuer, jwksOf, secondsOf, sign, tempDir, testKey, writeJwksFile, type TestKey } from './fixtures.js';

const GITHUB_ISS = 'https://token.actions.githubusercontent.com';
const CORP_ISS = 'https://login.corp.example';

let gh: TestKey;
let corp: TestKey;
let rsa: TestKey;
let ghFile: string;
let corpFile: string;
let clock: ManualClock;

function humanIssuer(overrides: Partial<IssuerConfig> = {}): IssuerConfig {
  return {
    name: 'corp',
    issuer: CORP_ISS,
    jwksFile: corpFile,
    audiences: ['stint'],
    algorithms: ['EdDSA'],
    leewaySeconds: 30,
    // `kind` on a human mapping must be ignored.
    principal: { type: 'human', kind: 'agent', nameClaim: 'email', attributes: { team: 'team' }, require: {}, tenant: 'corp' },
    ...overrides,
  };
}

function verifier(issuers: IssuerConfig[] = [githubIssuer(ghFile), humanIssuer()]) {
  return createIdentityVerifier({ issuers, clock });
}

/** Valid GitHub-like claims at the clock's time. */
function ghClaims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = secondsOf(clock.now());
  return {
    iss: GITHUB_ISS,
    aud: 'stint',
    sub: 'repo:acme/deploy:environment:prod',
    iat: now - 5,
    nbf: now - 5,
    exp: now + 300,
    repository: 'acme/deploy',
    repository_owner: 'acme',
    environment: 'prod',
    run_number: 42,
    ref_protected: true,
    'kubernetes.io': { namespace: 'ci' },
    ...extra,
  };
}

beforeAll(async () => {
  [gh, corp, rsa] = await Promise.all([testKey('EdDSA'), testKey('EdDSA'), testKey('RS256')]);
  const dir = await tempDir();
  ghFile = await writeJwksFile(dir, 'github', jwksOf(gh));
  corpFile = await writeJwksFile(dir, 'corp', jwksOf(corp));
  clock = new ManualClock();
});

describe('identity verifier: mapping', () => {
  it('maps a workload token with its attributes', async () => {
    const principal = await verifier().verify(await sign(gh, ghClaims()));
    expect(principal).toEqual({
      type: 'workload',
      id: 'workload:acme/deploy',
      kind: 'ci',
      tenant: 'acme',
      attributes: { env: 'prod', repo: 'acme/deploy', run: '42', protected: 'true', namespace: 'ci' },
      issuer: 'github',
      subject: 'repo:acme/deploy:environment:prod',
    });
    expect(Object.isFrozen(principal)).toBe(true);
  });

  it('accepts any of the configured audiences, also inside an aud array', async () => {
    const v = verifier();
    await expect(v.verify(await sign(gh, ghClaims({ aud: 'https://stint.example' })))).resolves.toMatchObject({ id: 'workload:acme/deploy' });
    await expect(v.verify(await sign(gh, ghClaims({ aud: ['other', 'stint'] })))).resolves.toMatchObject({ id: 'workload:acme/deploy' });
  });

  it('maps a human token and ignores a kind on a human mapping', async () => {
    const now = secondsOf(clock.now());
    const token = await sign(corp, { iss: CORP_ISS, aud: 'stint', sub: '00u1', email: 'alice@corp.example', team: 'dba', iat: now, exp: now + 60 });
    const principal = await verifier().verify(token);
    expect(principal).toEqual({
      type: 'human',
      id: 'human:alice@corp.example',
      tenant: 'corp',
      attributes: { team: 'dba' },
      issuer: 'corp',
      subject: '00u1',
    });
    expect('kind' in principal).toBe(false);
  });

  it('never reads attributes through the prototype', async () => {
    const issuer = githubIssuer(ghFile, {
      principal: { ...githubIssuer(ghFile).principal, attributes: { proto: '__proto__', ctor: 'constructor.name' } },
    });
    const principal = await verifier([issuer]).verify(await sign(gh, ghClaims()));
    expect(principal.attributes).toEqual({});
  });
});

describe('identity verifier: refusals', () => {
  const now = () => secondsOf(clock.now());

  /** Each case builds a token; all must fail with the same public detail and distinct reasons. */
  const cases: Array<[string, () => Promise<string>, string | RegExp]> = [
    ['expired', () => sign(gh, ghClaims({ exp: now() - 3600 })), 'token expired'],
    ['not yet valid', () => sign(gh, ghClaims({ nbf: now() + 3600 })), 'token not yet valid'],
    ['issued in the future', () => sign(gh, ghClaims({ iat: now() + 3600 })), 'iat in the future'],
    ['wrong audience', () => sign(gh, ghClaims({ aud: 'someone-else' })), 'aud mismatch'],
    ['no audience', () => sign(gh, ghClaims({ aud: undefined })), 'aud missing'],
    ['no exp', () => sign(gh, ghClaims({ exp: undefined })), 'exp missing'],
    ['no sub', () => sign(gh, ghClaims({ sub: undefined })), 'sub missing'],
    ['unknown issuer', () => sign(gh, ghClaims({ iss: 'https://x' })), 'unknown issuer https://x'],
    ['no issuer', () => sign(gh, ghClaims({ iss: undefined })), 'iss missing'],
    // Right iss, but signed by another configured issuer's key under this issuer's kid.
    ['wrong issuer key, same kid', async () => sign({ ...corp, kid: gh.kid }, ghClaims()), 'signature invalid'],
    ['wrong issuer key, its own kid', () => sign(corp, ghClaims()), 'no matching key in jwks'],
    [
      'tampered payload',
      async () => {
        const [h, , s] = (await sign(gh, ghClaims())).split('.');
        return `${h}.${b64url(JSON.stringify(ghClaims({ repository: 'acme/prod-admin' })))}.${s}`;
      },
      'signature invalid',
    ],
    [
      'tampered signature',
      async () => {
        const [h, p, s] = (await sign(gh, ghClaims())).split('.') as [string, string, string];
        const sig = Buffer.from(s, 'base64url');
        sig[0] = (sig[0] ?? 0) ^ 0xff;
        return `${h}.${p}.${b64url(sig)}`;
      },
      'signature invalid',
    ],
    ['alg none', async () => `${b64url('{"alg":"none"}')}.${b64url(JSON.stringify(ghClaims()))}.`, 'alg none not allowed'],
    [
      'HS256 with the public key as HMAC secret',
      async () => {
        const signingInput = `${b64url(JSON.stringify({ alg: 'HS256', kid: gh.kid, typ: 'JWT' }))}.${b64url(JSON.stringify(ghClaims()))}`;
        const publicPem = createPublicKey({ key: gh.publicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
        return `${signingInput}.${b64url(createHmac('sha256', publicPem).update(signingInput).digest())}`;
      },
      'alg HS256 not allowed',
    ],
    ['RS256 when only EdDSA is allowed', () => sign(rsa, ghClaims()), 'alg RS256 not allowed'],
    ['required claim missing', () => sign(gh, ghClaims({ repository_owner: undefined })), 'required claim repository_owner missing'],
    ['required claim wrong', () => sign(gh, ghClaims({ repository_owner: 'evil' })), 'required claim repository_owner has the wrong value'],
    ['name claim missing', () => sign(gh, ghClaims({ repository: undefined })), 'name claim repository missing or not a string'],
    ['name claim not a string', () => sign(gh, ghClaims({ repository: ['acme/deploy'] })), 'name claim repository missing or not a string'],
    ['invalid principal id', () => sign(gh, ghClaims({ repository: 'acme/de ploy;drop' })), 'invalid principal id workload:acme/de ploy;drop'],
    ['access token as identity', () => sign(gh, ghClaims(), { typ: 'at+jwt' }), 'access token (typ at+jwt) used as identity token'],
    ['not a JWT', async () => 'not-a-jwt', 'malformed token'],
    ['empty', async () => '', 'token missing'],
    ['too large', async () => `${'a'.repeat(20_000)}.b.c`, 'token too large'],
  ];

  it.each(cases)('%s', async (_name, build, reason) => {
    const token = await build();
    await expectUnauthenticated(verifier().verify(token), reason, token);
  });

  it('gives every cause the same public message and a distinct reason', async () => {
    const reasons = new Map<string, string>();
    for (const [name, build, reason] of cases) {
      const token = await build();
      const error = await verifier().verify(token).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StintError);
      expect((error as StintError).detail).toBe('invalid or missing credentials');
      if (typeof reason === 'string' && reason !== 'signature invalid' && !reason.startsWith('name claim')) {
        expect(reasons.has(reason), `${name} shares its reason with ${reasons.get(reason)}`).toBe(false);
        reasons.set(reason, name);
      }
    }
    expect(reasons.size).toBeGreaterThan(18);
  });

  it('strips none and HS* from a wrong configuration', async () => {
    const v = verifier([githubIssuer(ghFile, { algorithms: ['none', 'HS256', 'EdDSA'] })]);
    await expect(v.verify(await sign(gh, ghClaims()))).resolves.toMatchObject({ id: 'workload:acme/deploy' });
    const signingInput = `${b64url(JSON.stringify({ alg: 'HS256', kid: gh.kid }))}.${b64url(JSON.stringify(ghClaims()))}`;
    const forged = `${signingInput}.${b64url(createHmac('sha256', JSON.stringify(gh.publicJwk)).update(signingInput).digest())}`;
    await expectUnauthenticated(v.verify(forged), 'alg HS256 not allowed');
    await expectUnauthenticated(v.verify(`${b64url('{"alg":"none"}')}.${b64url(JSON.stringify(ghClaims()))}.`), 'alg none not allowed');
  });
});

describe('identity verifier: leeway', () => {
  it('accepts a token expired 10 s ago with 30 s leeway and refuses one expired 60 s ago', async () => {
    const v = verifier();
    const token = await sign(gh, ghClaims({ exp: secondsOf(clock.now()) + 100 }));
    const start = clock.now();
    try {
      clock.advance(110_000);
      await expect(v.verify(token)).resolves.toMatchObject({ id: 'workload:acme/deploy' });
      clock.advance(50_000);
      await expectUnauthenticated(v.verify(token), 'token expired');
    } finally {
      clock.set(start);
    }
  });

  it('accepts nbf 10 s ahead and refuses nbf 60 s ahead', async () => {
    const v = verifier();
    const now = secondsOf(clock.now());
    await expect(v.verify(await sign(gh, ghClaims({ nbf: now + 10, iat: now + 10 })))).resolves.toMatchObject({ id: 'workload:acme/deploy' });
    await expectUnauthenticated(v.verify(await sign(gh, ghClaims({ nbf: now + 60 }))), 'token not yet valid');
    await expectUnauthenticated(v.verify(await sign(gh, ghClaims({ iat: now + 60 }))), 'iat in the future');
  });
});

describe('identity verifier: configuration', () => {
  const expectConfigInvalid = (build: () => unknown, message: RegExp) => {
    let error: unknown;
    try {
      build();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StintError);
    expect((error as StintError).code).toBe('config_invalid');
    expect((error as StintError).detail).toMatch(message);
  };

  it('refuses an issuer whose only algorithms are symmetric or none', () => {
    expectConfigInvalid(() => verifier([githubIssuer(ghFile, { algorithms: ['HS256', 'none'] })]), /no asymmetric algorithm/);
  });

  it('refuses the same iss twice', () => {
    expectConfigInvalid(() => verifier([githubIssuer(ghFile), githubIssuer(ghFile, { name: 'github2' })]), /configured twice/);
  });

  it('refuses a key file holding a private or symmetric key', async () => {
    const dir = await tempDir();
    const { exportJWK } = await import('jose');
    const privateFile = await writeJwksFile(dir, 'private', { keys: [{ ...(await exportJWK(gh.privateKey)), kid: 'x' }] });
    expectConfigInvalid(() => verifier([githubIssuer(privateFile)]), /private key/);
    const octFile = await writeJwksFile(dir, 'oct', { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] });
    expectConfigInvalid(() => verifier([githubIssuer(octFile)]), /symmetric/);
  });

  it('refuses JWKS over plain http except on loopback, and needs exactly one key source', () => {
    const remote = (jwksUrl: string) => githubIssuer(ghFile, { jwksFile: undefined, jwksUrl });
    expectConfigInvalid(() => verifier([remote('http://issuer.example/jwks')]), /https/);
    expect(() => verifier([remote('http://127.0.0.1:1/jwks')])).not.toThrow();
    expect(() => verifier([remote('https://issuer.example/jwks')])).not.toThrow();
    expectConfigInvalid(() => verifier([githubIssuer(ghFile, { jwksUrl: 'https://issuer.example/jwks' })]), /exactly one/);
    expectConfigInvalid(() => verifier([githubIssuer(ghFile, { jwksFile: undefined })]), /exactly one/);
  });
});
