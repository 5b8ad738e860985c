import { decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey, type ProtectedHeaderParameters } from 'jose';

import type { DevConfig, IssuerConfig } from '../../config/types.js';
import { StintError, isStintError } from '../../core/errors.js';
import type { Principal } from '../../core/principal.js';
import type { Clock } from '../../ports/clock.js';
import type { IdentityVerifier } from '../../ports/identity.js';
import { allowedAlgorithms } from './algorithms.js';
import { mapIssuerClaims } from './claim-mapping.js';
import { mapDevClaims } from './dev-claims.js';
import { DEV_ISSUER_NAME, devIssuerConfig } from './dev-issuer.js';
import { reasonFromVerifyError } from './jose-reason.js';
import { assertPublicKeySet, DEFAULT_JWKS_FETCH_TIMEOUT_MS, localKeyResolver, readJwksFile, remoteKeyResolver } from './key-sources.js';
import { unauthenticated, untrusted } from './unauthenticated.js';
import { timeClaimsHold, VERIFIED_TOKENS_KEPT, VerifiedTokens, type VerifiedToken } from './verified-tokens.js';

/**
 * Longest identity token accepted, in characters. Real OIDC tokens are a few KB; refusing
 * anything larger before base64 decoding keeps garbage from costing memory and CPU.
 */
export const MAX_IDENTITY_TOKEN_LENGTH = 16_384;

/** Options of `createIdentityVerifier`. */
export interface IdentityVerifierOptions {
  /** Configured identity issuers (OIDC, SPIFFE, Kubernetes). */
  readonly issuers: readonly IssuerConfig[];
  /** The built-in development issuer; ignored unless `config.enabled`. */
  readonly dev?: { readonly config: DevConfig; readonly publicJwks: JSONWebKeySet };
  /** Source of "now" for exp/nbf/iat. */
  readonly clock: Clock;
  /** Timeout of one JWKS download (default 5000 ms). */
  readonly fetchTimeoutMs?: number;
  /**
   * Most verified tokens remembered, so that the same token presented again is checked for
   * time and key but not verified from scratch (verified-tokens.ts; default 10,000; 0 = off).
   */
  readonly verifiedTokensKept?: number;
}

/** The verifier, and what its memo of verified tokens has done (tests, benchmarks). */
export interface JwtIdentityVerifier extends IdentityVerifier {
  readonly verifiedTokens: { readonly size: number; readonly counts: { readonly hits: number; readonly misses: number } };
}

/** One issuer the verifier trusts, ready to use. */
interface TrustedIssuer {
  readonly config: IssuerConfig;
  /** `config.algorithms` minus everything that is not asymmetric. */
  readonly algorithms: readonly string[];
  readonly keys: JWTVerifyGetKey;
  /** Claims -> principal: the claim mapping, or the dev branch for the dev issuer only. */
  readonly toPrincipal: (claims: JWTPayload) => Principal;
}

function checkedAlgorithms(config: IssuerConfig): string[] {
  const algorithms = allowedAlgorithms(config.algorithms);
  if (algorithms.length === 0) {
    throw new StintError('config_invalid', `issuer ${config.name}: no asymmetric algorithm allowed (none and HS* are never accepted)`);
  }
  if (config.audiences.length === 0) throw new StintError('config_invalid', `issuer ${config.name}: at least one audience is required`);
  return algorithms;
}

function configuredIssuer(config: IssuerConfig, fetchTimeoutMs: number): TrustedIssuer {
  const algorithms = checkedAlgorithms(config);
  let keys: JWTVerifyGetKey;
  if (config.jwksUrl !== undefined && config.jwksFile === undefined) {
    keys = remoteKeyResolver(config.name, config.jwksUrl, fetchTimeoutMs);
  } else if (config.jwksFile !== undefined && config.jwksUrl === undefined) {
    keys = localKeyResolver(`issuer ${config.name}`, readJwksFile(config.name, config.jwksFile));
  } else {
    throw new StintError('config_invalid', `issuer ${config.name}: exactly one of jwksUrl and jwksFile is required`);
  }
  return { config, algorithms, keys, toPrincipal: (claims) => mapIssuerClaims(config, claims) };
}

/**
 * The dev issuer. Its mapping branch (`mapDevClaims`) is attached here and nowhere else, so
 * only tokens verified against the dev public key can name their own type, tenant and
 * attributes.
 */
function devIssuer(dev: NonNullable<IdentityVerifierOptions['dev']>): TrustedIssuer {
  const config = devIssuerConfig(dev.config);
  const jwks = assertPublicKeySet('dev issuer public key set', dev.publicJwks);
  return {
    config,
    algorithms: checkedAlgorithms(config),
    keys: localKeyResolver('dev issuer', jwks),
    toPrincipal: (claims) => mapDevClaims(DEV_ISSUER_NAME, claims),
  };
}

/**
 * RFC 9068 access tokens (`typ: at+jwt`, Stint's own included) are never identity tokens.
 * Refusing them by type stops a token Stint issued for a target from being replayed as a
 * caller identity should Stint's own issuer ever be configured as an identity issuer
 * (explicit typing, RFC 8725 section 3.11).
 */
function isAccessTokenType(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const normalized = typ.toLowerCase();
  return normalized === 'at+jwt' || normalized === 'application/at+jwt';
}

/** Reads header and claims WITHOUT verifying them: only to choose the issuer and its keys. */
function decodeUntrusted(token: string): { header: ProtectedHeaderParameters; claims: JWTPayload } {
  try {
    return { header: decodeProtectedHeader(token), claims: decodeJwt(token) };
  } catch {
    throw unauthenticated('malformed token');
  }
}

/**
 * Builds the identity verifier: picks the issuer by exact `iss`, verifies the signature
 * with that issuer's keys and only its allowed asymmetric algorithms, pins iss and aud,
 * requires exp, applies the issuer's leeway to exp/nbf/iat with "now" from the clock, then
 * maps the claims to a principal. Every failure is `unauthenticated` with one generic
 * detail and the precise reason in `internalReason`. Throws `config_invalid` at
 * construction for an unusable issuer list.
 */
export function createIdentityVerifier(opts: IdentityVerifierOptions): JwtIdentityVerifier {
  const memo = new VerifiedTokens(opts.verifiedTokensKept ?? VERIFIED_TOKENS_KEPT);
  const fetchTimeoutMs = opts.fetchTimeoutMs ?? DEFAULT_JWKS_FETCH_TIMEOUT_MS;
  const trusted = opts.issuers.map((config) => configuredIssuer(config, fetchTimeoutMs));
  if (opts.dev?.config.enabled === true) trusted.push(devIssuer(opts.dev));

  const byIss = new Map<string, TrustedIssuer>();
  for (const entry of trusted) {
    if (byIss.has(entry.config.issuer)) {
      throw new StintError('config_invalid', `issuer ${entry.config.name}: iss ${entry.config.issuer} is configured twice`);
    }
    byIss.set(entry.config.issuer, entry);
  }

  /** Full verification; the entry a later presentation of the same token is checked against. */
  async function verifyWith(issuer: TrustedIssuer, token: string, header: ProtectedHeaderParameters): Promise<Omit<VerifiedToken, 'key'> & { readonly key?: VerifiedToken['key'] }> {
    const now = opts.clock.now();
    let claims: JWTPayload;
    // The key jose verified with, for the memo. Stays unset when the resolver could not name one
    // key (several match a token without kid: jose tries each), and then nothing is memoised.
    let key: VerifiedToken['key'] | undefined;
    const resolveKey: JWTVerifyGetKey = async (header, flattened) => {
      const object = await issuer.keys(header, flattened);
      key = { header, object };
      return object;
    };
    try {
      ({ payload: claims } = await jwtVerify(token, resolveKey, {
        algorithms: [...issuer.algorithms],
        issuer: issuer.config.issuer,
        audience: [...issuer.config.audiences],
        requiredClaims: ['exp', 'sub'],
        clockTolerance: issuer.config.leewaySeconds,
        currentDate: new Date(now),
      }));
    } catch (error) {
      throw unauthenticated(reasonFromVerifyError(error, header));
    }
    // jose checks iat only with maxTokenAge; a token issued in the future is a skewed or
    // forged issuer, so it gets the same leeway as nbf.
    if (typeof claims.iat === 'number' && claims.iat > Math.floor(now / 1000) + issuer.config.leewaySeconds) {
      throw unauthenticated('iat in the future');
    }
    return {
      principal: issuer.toPrincipal(claims),
      keys: issuer.keys,
      ...(key !== undefined ? { key } : {}),
      // jose required exp and checked every present numeric date to be a number.
      exp: claims.exp as number,
      ...(claims.nbf !== undefined ? { nbf: claims.nbf } : {}),
      ...(claims.iat !== undefined ? { iat: claims.iat } : {}),
      leewaySeconds: issuer.config.leewaySeconds,
    };
  }

  /**
   * The principal of a token verified before, when its time claims still hold and the issuer's
   * resolver still hands out the key that verified it (verified-tokens.ts); else undefined.
   */
  async function remembered(memoKey: string, token: string): Promise<Principal | undefined> {
    const entry = memo.get(memoKey);
    if (entry === undefined) return undefined;
    let current: unknown;
    try {
      // Rebuilt from the token presented now rather than kept: the parts are the bearer token.
      const [protectedPart = '', payload = '', signature = ''] = token.split('.');
      current = await entry.keys(entry.key.header, { protected: protectedPart, payload, signature });
    } catch {
      current = undefined;
    }
    if (current === entry.key.object && timeClaimsHold(entry, opts.clock.now())) return entry.principal;
    memo.delete(memoKey);
    return undefined;
  }

  return {
    verifiedTokens: memo,
    async verify(token: string): Promise<Principal> {
      try {
        if (typeof token !== 'string' || token === '') throw unauthenticated('token missing');
        if (token.length > MAX_IDENTITY_TOKEN_LENGTH) throw unauthenticated('token too large');
        const memoKey = memo.maxEntries > 0 ? memo.keyOf(token) : undefined;
        if (memoKey !== undefined) {
          const known = await remembered(memoKey, token);
          if (known !== undefined) {
            memo.counts.hits++;
            return known;
          }
          memo.counts.misses++;
        }
        const { header, claims } = decodeUntrusted(token);
        if (isAccessTokenType(header.typ)) throw unauthenticated('access token (typ at+jwt) used as identity token');
        if (typeof claims.iss !== 'string') throw unauthenticated('iss missing');
        const issuer = byIss.get(claims.iss);
        if (issuer === undefined) throw unauthenticated(`unknown issuer ${untrusted(claims.iss)}`);
        if (typeof header.alg !== 'string' || !issuer.algorithms.includes(header.alg)) {
          throw unauthenticated(`alg ${untrusted(header.alg, 20)} not allowed`);
        }
        const verified = await verifyWith(issuer, token, header);
        const { key } = verified;
        return memoKey !== undefined && key !== undefined ? memo.set(memoKey, { ...verified, key }) : verified.principal;
      } catch (error) {
        // Fail closed: whatever went wrong, the caller is not authenticated.
        if (isStintError(error) && error.code === 'unauthenticated') throw error;
        throw unauthenticated(`verification failed: ${untrusted(error instanceof Error ? error.message : error)}`);
      }
    },
  };
}
