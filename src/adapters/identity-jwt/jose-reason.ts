import { errors } from 'jose';

import { untrusted } from './unauthenticated.js';

/**
 * Thrown by a key resolver when the issuer's key set cannot be obtained (JWKS endpoint down,
 * slow, not 200, not a key set). jwtVerify passes it through unchanged, which lets the
 * verifier report "jwks unavailable" instead of a generic failure.
 */
export class JwksUnavailableError extends Error {
  constructor(reason: string) {
    super(`jwks unavailable: ${reason}`);
    this.name = 'JwksUnavailableError';
  }
}

/**
 * The precise, log-safe reason a jose verification failed. jose error messages never contain
 * the token; claim values are not copied either (only claim names), so nothing a caller sent
 * reaches the log unfiltered.
 */
export function reasonFromVerifyError(error: unknown, header: { readonly alg?: unknown }): string {
  if (error instanceof JwksUnavailableError) return error.message;
  if (error instanceof errors.JOSEAlgNotAllowed) return `alg ${untrusted(header.alg, 20)} not allowed`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature invalid';
  if (error instanceof errors.JWTExpired) return error.claim === 'exp' ? 'token expired' : `${error.claim} check failed`;
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return `${error.claim} missing`;
    switch (error.claim) {
      case 'aud':
        return 'aud mismatch';
      case 'iss':
        return 'iss mismatch';
      case 'typ':
        return 'typ mismatch';
      case 'nbf':
        return 'token not yet valid';
      default:
        return `${error.claim} invalid`;
    }
  }
  if (error instanceof errors.JWKSNoMatchingKey) return 'no matching key in jwks';
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'several matching keys in jwks';
  if (error instanceof errors.JOSEError) return `malformed token: ${untrusted(error.message)}`;
  return `verification failed: ${untrusted(error instanceof Error ? error.message : error)}`;
}
