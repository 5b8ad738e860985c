import { decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';

import { StintError } from '../../core/errors.js';
import { effectiveStatus, type Grant } from '../../core/grant.js';
import { reasonFromVerifyError } from '../identity-jwt/jose-reason.js';
import { unauthenticated } from '../identity-jwt/unauthenticated.js';
import { actClaimOf, actorChainOf, type ActClaim } from './act-claim.js';
import { signCompactJws } from './compact-sign.js';
import type { TokenKeyRing } from './keys.js';

/** JOSE `typ` of RFC 9068 JWT access tokens. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/**
 * Longest access token accepted, in characters. Stint's tokens are well under 2 KB even with
 * a long actor chain; refusing larger input first keeps introspection cheap under garbage.
 */
export const MAX_ACCESS_TOKEN_LENGTH = 8_192;

/** The claims of a Stint access token (RFC 9068 section 2.2 plus Stint's own). */
export interface AccessTokenClaims {
  readonly iss: string;
  /** The grant's requester principal id. */
  readonly sub: string;
  /** The grant's target (the resource the token is for). */
  readonly aud: string;
  /** The client the token was issued to: the requester principal id. */
  readonly client_id: string;
  /** Epoch seconds. */
  readonly iat: number;
  /** Epoch seconds: the grant's expiry, rounded down. */
  readonly exp: number;
  /** The grant id. */
  readonly jti: string;
  /** The granted role. */
  readonly scope: string;
  /** The grant's task. */
  readonly task: string;
  readonly tenant: string;
  /** Delegation (RFC 8693 section 4.1), present when the grant was requested on behalf of someone. */
  readonly act?: ActClaim;
  /** Sender constraint (RFC 9449 section 6.1): thumbprint of the DPoP key. */
  readonly cnf?: { readonly jkt: string };
}

/** Options of `issueAccessToken`. */
export interface IssueAccessTokenOptions {
  /** `server.publicUrl`. */
  readonly issuer: string;
  readonly grant: Grant;
  /** Epoch ms. */
  readonly now: number;
  /** RFC 7638 thumbprint of the client's DPoP key, to bind the token to it. */
  readonly cnfJkt?: string;
}

/**
 * Signs an RFC 9068 access token for an active grant with the ring's current key. The token
 * expires exactly when the grant does (second precision, rounded down so it never outlives
 * it). Throws `invalid_state` when the grant is not active at `now` or ends within the second.
 */
export async function issueAccessToken(ring: TokenKeyRing, opts: IssueAccessTokenOptions): Promise<string> {
  const { grant, now } = opts;
  if (effectiveStatus(grant, now) !== 'active' || grant.expiresAt === undefined) {
    throw new StintError('invalid_state', 'only an active grant gets an access token', { internalReason: `grant ${grant.id} is ${grant.status}` });
  }
  const iat = Math.floor(now / 1000);
  const exp = Math.floor(grant.expiresAt / 1000);
  if (exp <= iat) throw new StintError('invalid_state', 'the grant ends before a token could be used', { internalReason: `grant ${grant.id} expires within the second` });
  const act = actClaimOf(grant.actorChain);
  const signer = ring.current;
  // Claim names and values as jose's SignJWT would set them (RFC 9068 section 2.2), signed with
  // node:crypto (compact-sign.ts; WebCrypto's per-call job costs issuance twice the CPU).
  const payload: Record<string, unknown> = {
    client_id: grant.principal,
    scope: grant.role,
    task: grant.task,
    tenant: grant.tenant,
    ...(act !== undefined ? { act } : {}),
    ...(opts.cnfJkt !== undefined ? { cnf: { jkt: opts.cnfJkt } } : {}),
    iss: opts.issuer,
    sub: grant.principal,
    aud: grant.target,
    iat,
    exp,
    jti: grant.id,
  };
  return signCompactJws({ alg: signer.alg, kid: signer.kid, typ: ACCESS_TOKEN_TYPE }, payload, signer.privateKey);
}

const STRING_CLAIMS = ['iss', 'sub', 'aud', 'client_id', 'jti', 'scope', 'task', 'tenant'] as const;

/** Checks the shape of verified claims; Stint only issues this shape, anything else is refused. */
function accessTokenClaims(payload: JWTPayload): AccessTokenClaims {
  for (const claim of STRING_CLAIMS) {
    if (typeof payload[claim] !== 'string') throw unauthenticated(`claim ${claim} missing or not a string`);
  }
  if (typeof payload.iat !== 'number') throw unauthenticated('claim iat missing');
  if (payload.act !== undefined && actorChainOf(payload.act) === undefined) throw unauthenticated('claim act malformed');
  const cnf = payload.cnf as { jkt?: unknown } | undefined;
  if (cnf !== undefined && (typeof cnf !== 'object' || cnf === null || typeof cnf.jkt !== 'string')) {
    throw unauthenticated('claim cnf malformed');
  }
  return payload as unknown as AccessTokenClaims;
}

function headerForReason(token: string): { alg?: unknown } {
  try {
    return decodeProtectedHeader(token);
  } catch {
    return {};
  }
}

/**
 * Verifies a Stint access token: signature by a ring key (by kid, keys imported once), alg
 * among the ring's algorithms, `typ: at+jwt`, iss, exp against `now` (no leeway: access ends
 * on time). Throws `unauthenticated` with the generic detail and the reason in
 * `internalReason`. Does not check revocation: that is the grant store's job.
 */
export async function verifyAccessToken(ring: TokenKeyRing, token: string, opts: { readonly issuer: string; readonly now: number }): Promise<AccessTokenClaims> {
  if (typeof token !== 'string' || token === '') throw unauthenticated('token missing');
  if (token.length > MAX_ACCESS_TOKEN_LENGTH) throw unauthenticated('token too large');
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, ring.verifyKeySet, {
      algorithms: [...ring.algorithms],
      typ: ACCESS_TOKEN_TYPE,
      issuer: opts.issuer,
      requiredClaims: ['exp', 'iat', 'jti', 'sub', 'aud'],
      currentDate: new Date(opts.now),
    }));
  } catch (error) {
    throw unauthenticated(reasonFromVerifyError(error, headerForReason(token)));
  }
  return accessTokenClaims(payload);
}

/** The delegation chain (outermost first) carried by verified claims; empty without `act`. */
export function actorChainOfClaims(claims: AccessTokenClaims): string[] {
  return claims.act === undefined ? [] : (actorChainOf(claims.act) ?? []);
}
