/**
 * DPoP proofs for the tests, made with real keys (jose generateKeyPair) exactly as a client
 * would, plus the hand-made forgeries (alg none, HMAC) a real client library refuses to build.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, base64url, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

/** The broker's clock in these tests, epoch ms (a whole second, so iat = NOW / 1000). */
export const NOW = Date.UTC(2026, 0, 5, 12, 0, 0);
export const NOW_S = NOW / 1000;
export const TOKEN_URL = 'https://broker.example/oauth/token';

/** A client's DPoP key pair. */
export interface ProofKey {
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
  /** The private key as a JWK (with `d`), for the "private key in the header" forgery. */
  readonly privateJwk: JWK;
}

export async function proofKey(alg: string): Promise<ProofKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, privateKey, publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) };
}

/** Claims of a valid proof for `POST TOKEN_URL` at NOW; `claims` override or (as undefined) remove them. */
export function proofClaims(claims: Record<string, unknown> = {}): Record<string, unknown> {
  const all: Record<string, unknown> = { jti: randomUUID(), htm: 'POST', htu: TOKEN_URL, iat: NOW_S, ...claims };
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
}

/** A proof signed by `key`; `header` overrides header members (as undefined: removes them). */
export async function makeProof(
  key: ProofKey,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  signer: CryptoKey | Uint8Array = key.privateKey,
): Promise<string> {
  const all: Record<string, unknown> = { alg: key.alg, typ: 'dpop+jwt', jwk: key.publicJwk, ...header };
  const protectedHeader = Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
  return new SignJWT(proofClaims(claims)).setProtectedHeader(protectedHeader as { alg: string }).sign(signer);
}

/** An unsigned `alg: none` token: header.payload. with an empty signature. */
export function unsignedProof(key: ProofKey, claims: Record<string, unknown> = {}): string {
  const encode = (value: unknown): string => base64url.encode(JSON.stringify(value));
  return `${encode({ alg: 'none', typ: 'dpop+jwt', jwk: key.publicJwk })}.${encode(proofClaims(claims))}.`;
}
