/**
 * JWS Compact Serialization (RFC 7515 section 7.1) of a JSON payload, signed with `node:crypto`
 * `sign`, on this thread or, in its callback form, on libuv's thread pool (`onThreadPool`).
 *
 * Which is faster depends on what this thread does meanwhile. The broker starts signing a new
 * grant's token while the grant commits (credential-service.ts). On PostgreSQL this thread
 * then waits for the database server, and a signature made on the pool costs it ~8 us instead
 * of ~29 us (Ed25519, 8 in flight): in-process issuance +15%. On PGlite the commit runs on this
 * thread, and the pool only competes with it and the client for the second core: over HTTP
 * -12%. Measured on the 2-core bench machine, docs/benchmarks.md ("Issuance"). jose's
 * `SignJWT` goes through WebCrypto, whose per-call job and promises cost ~70 us a signature.
 * Verification stays with jose (`jwtVerify`), so anything signed here is checked by the same
 * code as before.
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

function signatureHere(alg: TokenAlgorithm, input: Buffer, key: KeyObject): Buffer {
  return alg === 'EdDSA' ? sign(null, input, key) : sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' });
}

function signatureOnThreadPool(alg: TokenAlgorithm, input: Buffer, key: KeyObject): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, signed: Buffer): void => (error === null ? resolve(signed) : reject(error));
    if (alg === 'EdDSA') sign(null, input, key, done);
    else sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, done);
  });
}

/** `base64url(JSON(header)).base64url(JSON(payload)).base64url(signature)`, signed with `key`. */
export async function signCompactJws(
  header: { readonly alg: TokenAlgorithm } & Record<string, unknown>,
  payload: Record<string, unknown>,
  key: CryptoKey,
  onThreadPool = false,
): Promise<string> {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const data = Buffer.from(input);
  const signed = onThreadPool ? await signatureOnThreadPool(header.alg, data, keyObjectOf(key)) : signatureHere(header.alg, data, keyObjectOf(key));
  return `${input}.${signed.toString('base64url')}`;
}
