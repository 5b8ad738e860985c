import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { decodeJwt, decodeProtectedHeader } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';

import {
  createIdentityVerifier,
  devIssuerConfig,
  devPublicJwks,
  loadOrCreateDevIssuerKey,
  mintDevToken,
  type DevIssuerKey,
} from '../../src/adapters/identity-jwt/index.js';
import type { DevConfig } from '../../src/config/types.js';
import { StintError } from '../../src/core/errors.js';
import { ManualClock } from '../../src/ports/clock.js';
import { expectUnauthenticated, githubIssuer, jwksOf, secondsOf, sign, tempDir, testKey, writeJwksFile } from './fixtures.js';

const clock = new ManualClock();
let dir: string;
let key: DevIssuerKey;
let dev: DevConfig;

beforeAll(async () => {
  dir = await tempDir();
  key = await loadOrCreateDevIssuerKey(join(dir, 'keys', 'dev-issuer.jwk.json'));
  dev = {
    enabled: true,
    keyFile: join(dir, 'keys', 'dev-issuer.jwk.json'),
    issuer: 'https://stint.localhost/dev',
    audience: 'stint',
    principals: {
      'workload:deploy-bot': { kind: 'ci', attributes: { env: 'prod', team: 'payments' }, tenant: 'acme' },
      'human:alice': { kind: 'agent', attributes: { team: 'dba' }, tenant: 'acme' },
    },
  };
});

const devVerifier = (config: DevConfig = dev) => createIdentityVerifier({ issuers: [], dev: { config, publicJwks: devPublicJwks(key) }, clock });

const mint = (principalId: string, extra: Partial<Parameters<typeof mintDevToken>[0]> = {}) =>
  mintDevToken({ key, issuer: dev.issuer, audience: dev.audience, principalId, principal: dev.principals[principalId], now: clock.now(), ...extra });

describe('dev issuer key', () => {
  it('is created on first start as an Ed25519 private JWK, file 0600 in a 0700 directory', async () => {
    const file = join(dir, 'keys', 'dev-issuer.jwk.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'keys'))).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(stored).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: key.kid, alg: 'EdDSA', use: 'sig' });
    expect(typeof stored.d).toBe('string');
    expect(key.publicJwk).toEqual({ kty: 'OKP', crv: 'Ed25519', x: stored.x, kid: key.kid, alg: 'EdDSA', use: 'sig' });
  });

  it('is loaded, not replaced, on later starts, and created once when processes start together', async () => {
    expect((await loadOrCreateDevIssuerKey(dev.keyFile)).kid).toBe(key.kid);
    const fresh = join(await tempDir(), 'a', 'b', 'dev.jwk.json');
    const kids = new Set((await Promise.all(Array.from({ length: 8 }, () => loadOrCreateDevIssuerKey(fresh)))).map((k) => k.kid));
    expect(kids.size).toBe(1);
  });

  it('refuses a damaged key file without quoting it', async () => {
    const file = join(await tempDir(), 'dev.jwk.json');
    await writeFile(file, '{"kty":"OKP","crv":"Ed25519","x":"AAAA","d":"secret-material"', { mode: 0o600 });
    const error = await loadOrCreateDevIssuerKey(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StintError);
    expect((error as StintError).code).toBe('config_invalid');
    expect(`${(error as StintError).message} ${(error as StintError).internalReason}`).not.toContain('secret-material');
  });

  it('describes the dev issuer as an EdDSA-only issuer with the dev iss and audience', () => {
    expect(devIssuerConfig(dev)).toMatchObject({ name: 'dev', issuer: dev.issuer, audiences: ['stint'], algorithms: ['EdDSA'], leewaySeconds: 30 });
  });
});

describe('dev tokens', () => {
  it('round-trip: a minted token verifies to the principal described in dev.principals', async () => {
    const token = await mint('workload:deploy-bot');
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' });
    const claims = decodeJwt(token);
    expect(claims.exp).toBe(secondsOf(clock.now()) + 3600);
    expect(await devVerifier().verify(token)).toEqual({
      type: 'workload',
      id: 'workload:deploy-bot',
      kind: 'ci',
      tenant: 'acme',
      attributes: { env: 'prod', team: 'payments' },
      issuer: 'dev',
      subject: 'workload:deploy-bot',
    });
  });

  it('maps humans without a kind and unknown principals with no attributes in the default tenant', async () => {
    expect(await devVerifier().verify(await mint('human:alice'))).toEqual({
      type: 'human',
      id: 'human:alice',
      tenant: 'acme',
      attributes: { team: 'dba' },
      issuer: 'dev',
      subject: 'human:alice',
    });
    expect(await devVerifier().verify(await mint('workload:stranger'))).toEqual({
      type: 'workload',
      id: 'workload:stranger',
      tenant: 'default',
      attributes: {},
      issuer: 'dev',
      subject: 'workload:stranger',
    });
  });

  it('honours ttlSeconds and the 30 s leeway with the injected clock', async () => {
    const token = await mint('workload:deploy-bot', { ttlSeconds: 60 });
    const start = clock.now();
    try {
      clock.advance(85_000);
      await expect(devVerifier().verify(token)).resolves.toMatchObject({ id: 'workload:deploy-bot' });
      clock.advance(10_000);
      await expectUnauthenticated(devVerifier().verify(token), 'token expired');
    } finally {
      clock.set(start);
    }
  });

  it('is refused when the dev issuer is not configured or not enabled', async () => {
    const token = await mint('workload:deploy-bot');
    await expectUnauthenticated(createIdentityVerifier({ issuers: [], clock }).verify(token), `unknown issuer ${dev.issuer}`);
    await expectUnauthenticated(devVerifier({ ...dev, enabled: false }).verify(token), `unknown issuer ${dev.issuer}`);
  });

  it('is refused when signed by another key or for another audience', async () => {
    const other = await loadOrCreateDevIssuerKey(join(await tempDir(), 'other.jwk.json'));
    await expectUnauthenticated(devVerifier().verify(await mint('workload:deploy-bot', { key: other })), 'no matching key in jwks');
    await expectUnauthenticated(devVerifier().verify(await mint('workload:deploy-bot', { audience: 'elsewhere' })), 'aud mismatch');
  });

  it('refuses a dev-signed token whose stint claims are inconsistent', async () => {
    const now = secondsOf(clock.now());
    const devKey = { alg: 'EdDSA', kid: key.kid, privateKey: key.privateKey, publicKey: key.privateKey, publicJwk: key.publicJwk };
    const base = { iss: dev.issuer, aud: 'stint', sub: 'workload:x', iat: now, exp: now + 60, stint_type: 'workload', stint_tenant: 't' };
    const v = devVerifier();
    await expectUnauthenticated(v.verify(await sign(devKey, { ...base, stint_type: 'human' })), 'dev token type does not match sub');
    await expectUnauthenticated(v.verify(await sign(devKey, { ...base, sub: 'robot:x' })), 'dev token sub is not a principal id');
    await expectUnauthenticated(v.verify(await sign(devKey, { ...base, stint_kind: 'root' })), 'dev token kind invalid');
    await expectUnauthenticated(v.verify(await sign(devKey, { ...base, stint_tenant: '' })), 'dev token tenant missing');
    await expectUnauthenticated(v.verify(await sign(devKey, { ...base, stint_attrs: { n: 1 } })), 'dev attributes malformed');
    await expect(v.verify(await sign(devKey, base))).resolves.toMatchObject({ id: 'workload:x', tenant: 't', attributes: {} });
  });

  it('never applies the dev mapping to a configured issuer, even when its token carries stint claims', async () => {
    const gh = await testKey('EdDSA');
    const ghFile = await writeJwksFile(await tempDir(), 'gh', jwksOf(gh));
    const verifier = createIdentityVerifier({ issuers: [githubIssuer(ghFile)], dev: { config: dev, publicJwks: devPublicJwks(key) }, clock });
    const now = secondsOf(clock.now());
    const token = await sign(gh, {
      iss: 'https://token.actions.githubusercontent.com',
      aud: 'stint',
      sub: 'repo:acme/deploy',
      repository: 'acme/deploy',
      repository_owner: 'acme',
      iat: now,
      exp: now + 60,
      stint_type: 'human',
      stint_tenant: 'victim',
      stint_attrs: { team: 'admins' },
    });
    expect(await verifier.verify(token)).toMatchObject({ type: 'workload', id: 'workload:acme/deploy', tenant: 'acme', issuer: 'github' });
  });

  it('refuses a dev issuer whose iss collides with a configured issuer', async () => {
    const ghFile = await writeJwksFile(await tempDir(), 'gh', jwksOf(await testKey('EdDSA')));
    expect(() =>
      createIdentityVerifier({ issuers: [githubIssuer(ghFile, { issuer: dev.issuer })], dev: { config: dev, publicJwks: devPublicJwks(key) }, clock }),
    ).toThrow(/configured twice/);
  });

  it('mints only for well-formed principal ids and positive ttls', async () => {
    for (const bad of ['deploy-bot', 'robot:x', 'workload:', 'workload:bad name']) {
      await expect(mint(bad)).rejects.toMatchObject({ code: 'invalid_request' });
    }
    await expect(mint('workload:x', { ttlSeconds: 0 })).rejects.toMatchObject({ code: 'invalid_request' });
  });
});
