/** Stint's own RFC 9068 access tokens and the key ring that signs them. */
export {
  ACCESS_TOKEN_TYPE,
  MAX_ACCESS_TOKEN_LENGTH,
  actorChainOfClaims,
  issueAccessToken,
  verifyAccessToken,
  type AccessTokenClaims,
  type IssueAccessTokenOptions,
} from './access-token.js';
export { actClaimOf, type ActClaim } from './act-claim.js';
export {
  DEFAULT_KEYS_KEPT,
  loadOrCreateTokenKeys,
  rotateTokenKeys,
  type RotateTokenKeysOptions,
  type TokenKeyRing,
  type TokenSigningKey,
} from './keys.js';
export type { TokenAlgorithm } from './key-file.js';
