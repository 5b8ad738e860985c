import type { Principal } from '../core/principal.js';

/**
 * Turns a bearer token into a verified principal. Implementations verify signature (issuer
 * JWKS), algorithm allow-list, iss, aud, exp/nbf with small leeway. On failure they throw
 * `StintError('unauthenticated')` with a generic detail and the real reason in
 * `internalReason` (never shown to the caller, always audited).
 */
export interface IdentityVerifier {
  verify(token: string): Promise<Principal>;
}
