/**
 * JWS Compact Serialization (RFC 7515 section 7.1) of a JSON payload, signed with `node:crypto`
 * `sign` on this thread. jose's `SignJWT` goes through WebCrypto, whose per-call job and promises
 * cost ~70 us a signature; verification stays with jose (`jwtVerify`), so anything signed here is
 * checked by the same code as before.
 *
 * Why on this thread, not on libuv's pool (`sign` with a callback, sessions 6-7 on PostgreSQL):
 * on the 2-core bench machine a pooled signature cost this thread about what signing here does
 * (the job, its completion callback and promise), and the pool thread's wake-up and signature
 * came on top, on cores the database server and the HTTP client share: measured in session 8,
 * 80 us more CPU per grant in all, in 6 of 6 alternating pairs in-process and over HTTP
 * (docs/benchmarks.md, "What changed in session 8").
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

/** `base64url(JSON(header)).base64url(JSON(payload)).base64url(signature)`, signed with `key`. */
export function signCompactJws(header: { readonly alg: TokenAlgorithm } & Record<string, unknown>, payload: Record<string, unknown>, key: CryptoKey): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const data = Buffer.from(input);
  const keyObject = keyObjectOf(key);
  const signed = header.alg === 'EdDSA' ? sign(null, data, keyObject) : sign('sha256', data, { key: keyObject, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signed.toString('base64url')}`;
}
