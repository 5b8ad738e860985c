import { StintError, isStintError } from '../../core/errors.js';

/**
 * Why a DPoP proof was refused. Carried on the error as `extra.dpop` so the OAuth layer can
 * answer `invalid_dpop_proof` or `use_dpop_nonce` (RFC 9449 sections 5, 7.1 and 8) without
 * parsing text.
 */
export const DPOP_ERRORS = [
  /** Not a compact JWS, too long, or its header or payload is not JSON. */
  'malformed',
  /** `typ` is not exactly `dpop+jwt`. */
  'bad_typ',
  /** `alg` is missing, symmetric, `none`, or not on the allow-list. */
  'bad_alg',
  /** `jwk` is missing, not an object, or not a key of the type `alg` needs. */
  'bad_jwk',
  /** `jwk` carries private key members. */
  'private_key_in_header',
  /** The signature does not verify with the `jwk` of the header. */
  'bad_signature',
  /** `jti`, `htm`, `htu` or `iat` is missing or has the wrong type. */
  'missing_claim',
  /** `jti` is empty, longer than 256 characters, or text the store cannot hold. */
  'bad_jti',
  'htm_mismatch',
  'htu_mismatch',
  /** `iat` (or `exp`) is older than the accepted window. */
  'stale',
  /** `iat` (or `nbf`) lies in the future beyond the leeway. */
  'future',
  /** `ath` is missing or is not the hash of the presented access token. */
  'ath_mismatch',
  /** The server demands a nonce and the proof has none. */
  'nonce_required',
  /** The proof's nonce is not the current one. */
  'nonce_mismatch',
  /** This key already used this `jti` within its window. */
  'replayed',
] as const;

/** One reason code from `DPOP_ERRORS`. */
export type DpopError = (typeof DPOP_ERRORS)[number];

/** The public detail of every refused proof except the nonce cases: no oracle for forgers. */
export const INVALID_DPOP_PROOF_DETAIL = 'invalid DPoP proof';

/** The public detail of the nonce cases, which the client must act on (RFC 9449 section 8). */
export const DPOP_NONCE_DETAIL = 'the DPoP proof must carry the current server nonce';

/**
 * The `invalid_request` error for a refused proof. `internalReason` is for the server log and
 * the audit log and must never contain the proof or a token.
 */
export function dpopError(reason: DpopError, internalReason: string): StintError {
  const detail = isNonceReason(reason) ? DPOP_NONCE_DETAIL : INVALID_DPOP_PROOF_DETAIL;
  return new StintError('invalid_request', detail, { internalReason: `dpop ${reason}: ${internalReason}`, extra: { dpop: reason } });
}

/** The DPoP reason carried by `err`, when it is a refused-proof error from this module. */
export function dpopErrorOf(err: unknown): DpopError | undefined {
  if (!isStintError(err) || err.code !== 'invalid_request') return undefined;
  const reason = err.extra?.dpop;
  return (DPOP_ERRORS as readonly unknown[]).includes(reason) ? (reason as DpopError) : undefined;
}

/**
 * The OAuth error code for a refused proof: `use_dpop_nonce` when the client has to retry with
 * the server's nonce (RFC 9449 section 8), `invalid_dpop_proof` otherwise (section 7.1).
 */
export function oauthErrorForDpop(reason: DpopError): 'invalid_dpop_proof' | 'use_dpop_nonce' {
  return isNonceReason(reason) ? 'use_dpop_nonce' : 'invalid_dpop_proof';
}

function isNonceReason(reason: DpopError): boolean {
  return reason === 'nonce_required' || reason === 'nonce_mismatch';
}
