/** DPoP (RFC 9449) proof verification for the authorization server, and its store-backed replay guard. */
export {
  verifyDpopProof,
  DEFAULT_DPOP_LEEWAY_SECONDS,
  DEFAULT_DPOP_MAX_AGE_SECONDS,
  MAX_DPOP_JTI_LENGTH,
  MAX_DPOP_PROOF_LENGTH,
  type DpopExpectations,
  type VerifiedDpopProof,
} from './verify-proof.js';
export {
  DPOP_ERRORS,
  DPOP_NONCE_DETAIL,
  INVALID_DPOP_PROOF_DETAIL,
  dpopError,
  dpopErrorOf,
  oauthErrorForDpop,
  type DpopError,
} from './dpop-error.js';
export { DPOP_ALGORITHMS, DPOP_TYP, type DpopAlgorithm } from './proof-header.js';
export { htuMatches, normalizeHtu } from './htu.js';
export { storeReplayGuard, DEFAULT_REPLICA_CLOCK_SKEW_MS, type StoreReplayGuardOptions } from './store-replay-guard.js';
export type { DpopReplayGuard } from '../../ports/dpop.js';
