/** Caller identity verification (configured OIDC/SPIFFE/Kubernetes issuers) and the dev issuer. */
export { createIdentityVerifier, MAX_IDENTITY_TOKEN_LENGTH, type IdentityVerifierOptions } from './verifier.js';
export {
  DEV_ISSUER_NAME,
  devIssuerConfig,
  devPublicJwks,
  loadOrCreateDevIssuerKey,
  mintDevToken,
  type DevIssuerKey,
  type MintDevTokenOptions,
} from './dev-issuer.js';
export { DEV_CLAIMS, DEV_DEFAULT_TENANT } from './dev-claims.js';
export { ASYMMETRIC_JWS_ALGORITHMS } from './algorithms.js';
export { DEFAULT_JWKS_FETCH_TIMEOUT_MS } from './key-sources.js';
export { UNAUTHENTICATED_DETAIL } from './unauthenticated.js';
