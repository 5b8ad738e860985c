/**
 * JWS Compact Serialization (RFC 7515 section 7.1) of a JSON payload, signed synchronously with
 * `node:crypto` `sign`. Issuance signs one token per grant on the broker's one thread; jose's
 * `SignJWT` goes through WebCrypto, whose every call is a job handed to libuv's pool and a
 * promise back, measured at ~70 us per Ed25519 signature on this machine against ~36 us for a
 * synchronous `crypto.sign` (docs/benchmarks.md, "Issuance"). Verification stays with jose
 * (`jwtVerify`), so anything signed here is checked by the same code as before.
 *
 * Algorithms (RFC 7518 section 3.4, RFC 8037 section 3.1): `EdDSA` with an Ed25519 key, and
 * `ES256` (P-256, SHA-256) with the signature as the 64-byte `R || S` JWS requires
 * (`dsaEncoding: 'ieee-p1363'`), not DER.
 */
import { KeyObject, sign } from 'node:crypto';
import type { CryptoKey } from 'jose';
import type { TokenAlgorithm } from './key-file.js';

/** The `node:crypto` view of each imported signing key, made once per key. */
const keyObjects = new WeakMap<CryptoKey, KeyObject>();

function keyObjectOf(key: CryptoKey): KeyObject {
  let object = keyObjects.get(key);
  if (object === undefined) {
    // KeyObject.from takes WebCrypto keys, extractable or not (Node >= 15).
    object = KeyObject.from(key as unknown as Parameters<typeof KeyObject.from>[0]);
    keyObjects.set(key, object);
  }
  return object;
}

function signature(alg: TokenAlgorithm, input: Buffer, key: KeyObject): Buffer {
  switch (alg) {
    case 'EdDSA':
      return sign(null, input, key);
    case 'ES256':
      return sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' });
  }
}

/** `base64url(JSON(header)).base64url(JSON(payload)).base64url(signature)`, signed with `key`. */
export function signCompactJws(header: { readonly alg: TokenAlgorithm } & Record<string, unknown>, payload: Record<string, unknown>, key: CryptoKey): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${signature(header.alg, Buffer.from(input), keyObjectOf(key)).toString('base64url')}`;
}
