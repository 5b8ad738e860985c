import type { Grant } from '../core/grant.js';

/** Claims of a Stint access token (RFC 9068) after verification. */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string | string[];
  readonly client_id: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  readonly scope: string;
  readonly task?: string;
  readonly tenant?: string;
  readonly act?: unknown;
  readonly cnf?: { readonly jkt: string };
}

/** Issues and verifies the grant access tokens; publishes the public keys. */
export interface AccessTokens {
  /** Signs an RFC 9068 token for an active grant (`jti` = grant id, `exp` = grant expiry). */
  issue(grant: Grant, now: number, cnfJkt?: string): Promise<string>;
  /** Verifies signature, typ, iss and exp; throws `StintError('unauthenticated')`. */
  verify(token: string, now: number): Promise<AccessTokenClaims>;
  /** Public JWK set for `/.well-known/jwks.json`. */
  jwks(): { keys: object[] };
}
