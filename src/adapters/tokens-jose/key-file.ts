import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';

import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

import { StintError } from '../../core/errors.js';

/** Algorithms Stint signs its access tokens with (config `tokens.algorithm`). */
export type TokenAlgorithm = 'EdDSA' | 'ES256';

/** Key type and curve each algorithm needs. */
const KEY_SHAPE: Readonly<Record<TokenAlgorithm, { readonly kty: string; readonly crv: string }>> = {
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  ES256: { kty: 'EC', crv: 'P-256' },
};

/** One key of the token key file. */
export interface StoredTokenKey {
  /** RFC 7638 thumbprint of the public key. */
  readonly kid: string;
  readonly alg: TokenAlgorithm;
  /** Epoch ms; the newest key signs. */
  readonly createdAt: number;
  /** Private JWK (key members only). */
  readonly privateJwk: JWK;
  /** Public JWK derived from the private key: kty, crv, x (, y). No private member. */
  readonly publicJwk: JWK;
}

function isTokenAlgorithm(value: unknown): value is TokenAlgorithm {
  return value === 'EdDSA' || value === 'ES256';
}

function invalidFile(file: string, internalReason: string): StintError {
  // Never quotes the file: it holds private keys.
  return new StintError('config_invalid', `token key file ${file} is invalid`, { internalReason });
}

/** Only the members that make up a public key of this shape (allow-list, never a deny-list). */
function publicMembers(jwk: JWK): JWK {
  return jwk.kty === 'EC' ? { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } : { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
}

/**
 * Checks one stored entry. The public key is derived from the private one and the `kid`
 * recomputed, so a corrupted or hand-edited entry is refused instead of publishing a key
 * that cannot verify what it signs.
 */
async function parseEntry(file: string, index: number, entry: unknown): Promise<StoredTokenKey> {
  if (typeof entry !== 'object' || entry === null) throw invalidFile(file, `key ${index} is not an object`);
  const { kid, alg, createdAt, use, ...members } = entry as Record<string, unknown>;
  if (!isTokenAlgorithm(alg)) throw invalidFile(file, `key ${index}: alg must be EdDSA or ES256`);
  if (use !== 'sig') throw invalidFile(file, `key ${index}: use must be sig`);
  if (typeof createdAt !== 'number' || !Number.isFinite(createdAt)) throw invalidFile(file, `key ${index}: createdAt missing`);
  const shape = KEY_SHAPE[alg];
  if (members.kty !== shape.kty || members.crv !== shape.crv || typeof members.d !== 'string') {
    throw invalidFile(file, `key ${index}: not a ${shape.crv} private key`);
  }
  let publicJwk: JWK;
  try {
    publicJwk = publicMembers(createPublicKey(createPrivateKey({ key: members as JWK & { kty: string }, format: 'jwk' })).export({ format: 'jwk' }) as JWK);
  } catch {
    throw invalidFile(file, `key ${index}: key material rejected`);
  }
  const thumbprint = await calculateJwkThumbprint(publicJwk);
  if (kid !== thumbprint) throw invalidFile(file, `key ${index}: kid is not the RFC 7638 thumbprint of the key`);
  return { kid: thumbprint, alg, createdAt, privateJwk: { ...publicJwk, d: members.d }, publicJwk };
}

/** Reads and checks the key file; undefined when it does not exist. */
export async function readTokenKeyFile(file: string): Promise<StoredTokenKey[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw invalidFile(file, 'unreadable');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidFile(file, 'not JSON');
  }
  const keys = typeof parsed === 'object' && parsed !== null ? (parsed as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys) || keys.length === 0) throw invalidFile(file, 'not a JWK set with at least one key');
  return Promise.all(keys.map((entry, index) => parseEntry(file, index, entry)));
}

/** The key file's content: a JWK set of private JWKs with kid, alg, use and createdAt. */
export function serializeTokenKeys(keys: readonly StoredTokenKey[]): string {
  const entries = keys.map((key) => ({ ...key.privateJwk, kid: key.kid, alg: key.alg, use: 'sig', createdAt: key.createdAt }));
  return `${JSON.stringify({ keys: entries }, null, 2)}\n`;
}

/** Generates a new signing key. */
export async function newTokenKey(alg: TokenAlgorithm, createdAt: number): Promise<StoredTokenKey> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const exported = await exportJWK(privateKey);
  const publicJwk = publicMembers(exported);
  return { kid: await calculateJwkThumbprint(publicJwk), alg, createdAt, privateJwk: { ...publicJwk, d: exported.d }, publicJwk };
}

/** The signing key: greatest `createdAt`, the later entry on a tie. */
export function newestKey(keys: readonly StoredTokenKey[]): StoredTokenKey | undefined {
  return keys.reduce<StoredTokenKey | undefined>((newest, key) => (newest === undefined || key.createdAt >= newest.createdAt ? key : newest), undefined);
}
