import { decodeProtectedHeader, type JWK } from 'jose';

import { untrusted } from '../identity-jwt/unauthenticated.js';
import { dpopError } from './dpop-error.js';

/**
 * The JWS algorithms a DPoP proof may use: asymmetric only. `none` and HS* are never accepted
 * (RFC 9449 section 4.3 step 5: "not none" and "not a MAC-based algorithm"; an HMAC keyed
 * with the public key bytes would be the classic key-confusion forgery, RFC 8725 section 2.1).
 */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'] as const;

/** One algorithm from `DPOP_ALGORITHMS`. */
export type DpopAlgorithm = (typeof DPOP_ALGORITHMS)[number];

/** The exact `typ` of a DPoP proof (RFC 9449 section 4.2). */
export const DPOP_TYP = 'dpop+jwt';

/**
 * JWK members that only a private (or symmetric) key has (RFC 7518 section 6.2.2, 6.3.2, 6.4
 * and RFC 8037 section 2). A proof's `jwk` must be the public key (RFC 9449 section 4.2).
 */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** The key type (and curve) each algorithm needs. */
const KEY_OF_ALGORITHM: Readonly<Record<DpopAlgorithm, { readonly kty: string; readonly crv?: string }>> = {
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  RS256: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
};

/** A protected header that passed every check that needs no cryptography. */
export interface CheckedProofHeader {
  readonly alg: DpopAlgorithm;
  /** The public key the proof claims to be signed with. */
  readonly jwk: JWK;
}

/**
 * Checks the protected header of `proof` (RFC 9449 section 4.3 steps 2-7, before the signature):
 * `typ` exactly `dpop+jwt`, `alg` on the allow-list, `jwk` a public key of the type `alg` needs.
 * Throws the DPoP `invalid_request` error otherwise.
 */
export function checkProofHeader(proof: string): CheckedProofHeader {
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(proof) as Record<string, unknown>;
  } catch {
    throw dpopError('malformed', 'protected header is not a base64url JSON object');
  }
  if (header.typ !== DPOP_TYP) throw dpopError('bad_typ', `typ ${untrusted(header.typ, 40)}`);
  const alg = header.alg;
  if (!isDpopAlgorithm(alg)) throw dpopError('bad_alg', `alg ${untrusted(alg, 20)} not allowed`);
  const jwk = header.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw dpopError('bad_jwk', 'jwk header missing or not an object');
  const members = jwk as Record<string, unknown>;
  const secret = PRIVATE_JWK_MEMBERS.filter((member) => Object.hasOwn(members, member));
  if (secret.length > 0) throw dpopError('private_key_in_header', `jwk carries private members ${secret.join(', ')}`);
  const needed = KEY_OF_ALGORITHM[alg];
  if (members.kty !== needed.kty || (needed.crv !== undefined && members.crv !== needed.crv)) {
    throw dpopError('bad_jwk', `jwk kty ${untrusted(members.kty, 10)} crv ${untrusted(members.crv, 10)} does not fit alg ${alg}`);
  }
  // The same rules jose's EmbeddedJWK applies: a key restricted to another use or alg is not this one.
  if (members.use !== undefined && members.use !== 'sig') throw dpopError('bad_jwk', `jwk use ${untrusted(members.use, 10)}`);
  if (members.alg !== undefined && members.alg !== alg) throw dpopError('bad_jwk', `jwk alg ${untrusted(members.alg, 10)} is not ${alg}`);
  return { alg, jwk: members as JWK };
}

function isDpopAlgorithm(alg: unknown): alg is DpopAlgorithm {
  return (DPOP_ALGORITHMS as readonly unknown[]).includes(alg);
}
