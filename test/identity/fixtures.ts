import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet, type JWK, type JWTPayload } from 'jose';
import { expect } from 'vitest';

import type { IssuerConfig } from '../../src/config/types.js';
import { isStintError } from '../../src/core/errors.js';
import { UNAUTHENTICATED_DETAIL } from '../../src/adapters/identity-jwt/index.js';
import { tempDirForFile } from '../helpers/temp-dirs.js';

/** A real signing key of a test issuer, with its public JWK (kid = RFC 7638 thumbprint). */
export interface TestKey {
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
  readonly kid: string;
}

export async function testKey(alg: 'EdDSA' | 'ES256' | 'RS256' = 'EdDSA'): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { alg, privateKey, publicKey, publicJwk: { ...jwk, kid, alg, use: 'sig' }, kid };
}

export function jwksOf(...keys: TestKey[]): JSONWebKeySet {
  return { keys: keys.map((k) => k.publicJwk) };
}

export async function tempDir(): Promise<string> {
  return Promise.resolve(tempDirForFile('stint-identity-'));
}

/** Writes the public key set to a file and returns its path (a `jwksFile`). */
export async function writeJwksFile(dir: string, name: string, jwks: JSONWebKeySet): Promise<string> {
  const file = join(dir, `${name}.jwks.json`);
  await writeFile(file, JSON.stringify(jwks));
  return file;
}

/** Signs `claims` with `key`; header defaults to { alg: key.alg, kid: key.kid, typ: 'JWT' }. */
export function sign(key: TestKey, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }).sign(key.privateKey);
}

export const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** Epoch seconds of a ManualClock-style ms timestamp. */
export const secondsOf = (ms: number): number => Math.floor(ms / 1000);

/** A GitHub-Actions-like issuer mapped to CI workloads. */
export function githubIssuer(jwksFile: string, overrides: Partial<IssuerConfig> = {}): IssuerConfig {
  return {
    name: 'github',
    issuer: 'https://token.actions.githubusercontent.com',
    jwksFile,
    audiences: ['https://stint.example', 'stint'],
    algorithms: ['EdDSA'],
    leewaySeconds: 30,
    principal: {
      type: 'workload',
      kind: 'ci',
      nameClaim: 'repository',
      attributes: { env: 'environment', repo: 'repository', run: 'run_number', protected: 'ref_protected', namespace: 'kubernetes.io.namespace', missing: 'no_such_claim' },
      require: { repository_owner: 'acme' },
      tenant: 'acme',
    },
    ...overrides,
  };
}

/** Asserts `promise` rejects with unauthenticated, the generic detail and this internal reason. */
export async function expectUnauthenticated(promise: Promise<unknown>, reason: string | RegExp, token?: string): Promise<string> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  if (!isStintError(error)) throw error;
  expect(error.code).toBe('unauthenticated');
  expect(error.detail).toBe(UNAUTHENTICATED_DETAIL);
  expect(error.message).toBe(UNAUTHENTICATED_DETAIL);
  if (typeof reason === 'string') expect(error.internalReason).toBe(reason);
  else expect(error.internalReason).toMatch(reason);
  if (token !== undefined) {
    for (const part of token.split('.').filter((p) => p.length > 8)) expect(error.internalReason).not.toContain(part);
  }
  return error.internalReason ?? '';
}
