/**
 * Verification of a DPoP proof JWT (RFC 9449 section 4.3) by an authorization server: header,
 * signature with the embedded public key, claims, and single use of the proof's `jti`.
 */
import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, errors, importJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';

import { StintError } from '../../core/errors.js';
import type { DpopReplayGuard } from '../../ports/dpop.js';
import { untrusted } from '../identity-jwt/unauthenticated.js';
import { dpopError } from './dpop-error.js';
import { htuMatches, normalizeHtu } from './htu.js';
import { DPOP_TYP, checkProofHeader, type CheckedProofHeader } from './proof-header.js';

/** How old a proof's `iat` may be, in seconds, unless the caller says otherwise. */
export const DEFAULT_DPOP_MAX_AGE_SECONDS = 60;

/** Clock difference tolerated between client and server, in seconds, unless the caller says otherwise. */
export const DEFAULT_DPOP_LEEWAY_SECONDS = 5;

/**
 * Longest proof accepted, in characters. A proof with an RSA-4096 key is under 2 KB; refusing
 * anything much larger before decoding keeps garbage from costing memory and CPU.
 */
export const MAX_DPOP_PROOF_LENGTH = 8192;

/** Longest `jti` accepted, in characters (it is stored per key until the proof expires). */
export const MAX_DPOP_JTI_LENGTH = 256;

/** PostgreSQL text cannot hold U+0000 and unpaired surrogates do not round-trip. */
const UNSTORABLE_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What the request that carried the proof looks like, and what the server demands of it. */
export interface DpopExpectations {
  /** The request's HTTP method, compared exactly (RFC 9449 section 4.3 step 8). */
  readonly htm: string;
  /** The request's absolute URL as the client addressed it; query and fragment are ignored. */
  readonly htu: string;
  /** The server's clock, epoch milliseconds. */
  readonly now: number;
  /** When given, the proof must carry `ath` = base64url(SHA-256(accessToken)) (section 4.3 step 11). */
  readonly accessToken?: string;
  /** When given, the proof must carry exactly this `nonce` (section 8); otherwise `use_dpop_nonce`. */
  readonly nonce?: string;
  /** Oldest accepted `iat`, in seconds before `now` (default 60). */
  readonly maxAgeSeconds?: number;
  /** Tolerated clock difference, in seconds (default 5), both ways. */
  readonly leewaySeconds?: number;
}

/** A proof that passed every check and was used for the first time. */
export interface VerifiedDpopProof {
  /** RFC 7638 SHA-256 thumbprint of the proof key, base64url: the `cnf.jkt` to bind a token to. */
  readonly jkt: string;
  readonly jti: string;
  /** The public key from the proof header. */
  readonly jwk: JWK;
}

/**
 * Verifies `proof` against the request described by `expected` and records its `jti` with
 * `replay`, so it can be used only once (across replicas when `replay` is shared).
 *
 * Throws `StintError('invalid_request')` with the detail "invalid DPoP proof" (or, for the
 * nonce cases, a detail asking for the server nonce), `extra.dpop` set to a `DpopError` reason
 * and the precise cause in `internalReason`. Store failures of `replay` pass through unchanged
 * (fail closed), and a malformed `expected` is a bug (`internal`).
 */
export async function verifyDpopProof(proof: string, expected: DpopExpectations, replay: DpopReplayGuard): Promise<VerifiedDpopProof> {
  const window = checkedWindow(expected);
  if (typeof proof !== 'string' || proof.length === 0 || proof.length > MAX_DPOP_PROOF_LENGTH) {
    throw dpopError('malformed', `proof is empty, not text or longer than ${MAX_DPOP_PROOF_LENGTH} characters`);
  }
  const header = checkProofHeader(proof);
  const claims = readClaims(await verifySignature(proof, header, expected.now, window.leewaySeconds));
  checkRequest(claims, expected);
  checkIssuedAt(claims.iat, expected.now, window);
  checkBinding(claims.payload, expected);
  const jkt = await calculateJwkThumbprint(header.jwk, 'sha256');
  // Kept until the proof could no longer pass the iat window; the guard refuses a second use.
  const expiresAt = Math.ceil((claims.iat + window.maxAgeSeconds + window.leewaySeconds) * 1000);
  if (!(await replay.remember(claims.jti, jkt, expiresAt, expected.now))) {
    throw dpopError('replayed', 'jti already used with this key');
  }
  return { jkt, jti: claims.jti, jwk: Object.freeze({ ...header.jwk }) };
}

interface Window {
  readonly maxAgeSeconds: number;
  readonly leewaySeconds: number;
}

/** The caller's own inputs; a bad one is a bug in the broker, not in the client. */
function checkedWindow(expected: DpopExpectations): Window {
  const maxAgeSeconds = expected.maxAgeSeconds ?? DEFAULT_DPOP_MAX_AGE_SECONDS;
  const leewaySeconds = expected.leewaySeconds ?? DEFAULT_DPOP_LEEWAY_SECONDS;
  if (!(Number.isFinite(maxAgeSeconds) && maxAgeSeconds > 0) || !(Number.isFinite(leewaySeconds) && leewaySeconds >= 0)) {
    throw new StintError('internal', 'DPoP maxAgeSeconds must be > 0 and leewaySeconds >= 0');
  }
  if (!Number.isSafeInteger(expected.now)) throw new StintError('internal', 'DPoP check time must be integer epoch milliseconds');
  if (normalizeHtu(expected.htu) === undefined) throw new StintError('internal', 'the expected DPoP htu is not an absolute http(s) URL');
  return { maxAgeSeconds, leewaySeconds };
}

/**
 * Verifies the signature with the header's own key (RFC 9449 section 4.3 step 7). The key was
 * checked to be public and to fit `alg`; `alg` is pinned so jose cannot be talked into another.
 */
async function verifySignature(proof: string, header: CheckedProofHeader, now: number, leewaySeconds: number): Promise<JWTPayload> {
  let key: Awaited<ReturnType<typeof importJWK>>;
  try {
    key = await importJWK(header.jwk, header.alg);
  } catch (err) {
    throw dpopError('bad_jwk', `jwk does not import as a ${header.alg} key: ${reasonOf(err)}`);
  }
  try {
    const { payload } = await jwtVerify(proof, key, {
      typ: DPOP_TYP,
      algorithms: [header.alg],
      currentDate: new Date(now),
      clockTolerance: leewaySeconds,
    });
    return payload;
  } catch (err) {
    throw verifyFailure(err);
  }
}

/** Maps a jose failure to the DPoP reason; jose messages never contain the token. */
function verifyFailure(err: unknown): StintError {
  if (err instanceof errors.JWSSignatureVerificationFailed) return dpopError('bad_signature', 'signature does not verify with the header jwk');
  if (err instanceof errors.JOSEAlgNotAllowed) return dpopError('bad_alg', 'alg not allowed');
  if (err instanceof errors.JWTExpired) return dpopError('stale', `${err.claim} check failed`);
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return dpopError('future', 'nbf in the future');
    if (err.claim === 'typ') return dpopError('bad_typ', 'typ mismatch');
    return dpopError('missing_claim', `${err.claim} ${err.reason}`);
  }
  if (err instanceof errors.JOSEError) return dpopError('malformed', reasonOf(err));
  // jose raises TypeError for keys it will not use, e.g. an RSA modulus under 2048 bits.
  if (err instanceof TypeError) return dpopError('bad_jwk', reasonOf(err));
  return dpopError('malformed', reasonOf(err));
}

interface ProofClaims {
  readonly jti: string;
  readonly htm: string;
  readonly htu: string;
  readonly iat: number;
  readonly payload: JWTPayload;
}

/** The required claims with their types (RFC 9449 section 4.2). */
function readClaims(payload: JWTPayload): ProofClaims {
  const { jti, htm, htu, iat } = payload;
  if (typeof jti !== 'string') throw dpopError('missing_claim', 'jti missing or not a string');
  if (typeof htm !== 'string') throw dpopError('missing_claim', 'htm missing or not a string');
  if (typeof htu !== 'string') throw dpopError('missing_claim', 'htu missing or not a string');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw dpopError('missing_claim', 'iat missing or not a number');
  if (jti.length === 0 || jti.length > MAX_DPOP_JTI_LENGTH) throw dpopError('bad_jti', `jti length ${jti.length} outside 1..${MAX_DPOP_JTI_LENGTH}`);
  if (UNSTORABLE_TEXT.test(jti)) throw dpopError('bad_jti', 'jti contains a NUL character or an unpaired surrogate');
  return { jti, htm, htu, iat, payload };
}

/** The proof is for this very request (RFC 9449 section 4.3 steps 8 and 9). */
function checkRequest(claims: ProofClaims, expected: DpopExpectations): void {
  if (claims.htm !== expected.htm) throw dpopError('htm_mismatch', `htm ${untrusted(claims.htm, 20)} for a ${expected.htm} request`);
  if (!htuMatches(claims.htu, expected.htu)) throw dpopError('htu_mismatch', `htu ${untrusted(claims.htu)} is not ${expected.htu}`);
}

/** `iat` inside [now - maxAge - leeway, now + leeway] (RFC 9449 section 4.3 step 11, section 11.1). */
function checkIssuedAt(iat: number, now: number, window: Window): void {
  const iatMs = iat * 1000;
  if (iatMs < now - (window.maxAgeSeconds + window.leewaySeconds) * 1000) {
    throw dpopError('stale', `iat ${iat} older than ${window.maxAgeSeconds}s (+${window.leewaySeconds}s leeway)`);
  }
  if (iatMs > now + window.leewaySeconds * 1000) throw dpopError('future', `iat ${iat} more than ${window.leewaySeconds}s ahead`);
}

/** `nonce` (RFC 9449 section 8) and `ath` (section 4.3 step 12), when the server asks for them. */
function checkBinding(payload: JWTPayload, expected: DpopExpectations): void {
  if (expected.nonce !== undefined) {
    if (payload.nonce === undefined) throw dpopError('nonce_required', 'proof has no nonce');
    if (payload.nonce !== expected.nonce) throw dpopError('nonce_mismatch', 'proof nonce is not the current one');
  }
  if (expected.accessToken !== undefined) {
    const ath = createHash('sha256').update(expected.accessToken, 'utf8').digest('base64url');
    if (payload.ath === undefined) throw dpopError('ath_mismatch', 'proof has no ath');
    if (payload.ath !== ath) throw dpopError('ath_mismatch', 'ath is not the hash of the presented access token');
  }
}

function reasonOf(err: unknown): string {
  return untrusted(err instanceof Error ? err.message : err);
}
