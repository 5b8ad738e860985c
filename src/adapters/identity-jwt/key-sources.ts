import { readFileSync } from 'node:fs';

import { createLocalJWKSet, createRemoteJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

import { StintError } from '../../core/errors.js';
import { JwksUnavailableError } from './jose-reason.js';

/** Default for `fetchTimeoutMs`: how long one JWKS download may take before failing closed. */
export const DEFAULT_JWKS_FETCH_TIMEOUT_MS = 5_000;

/**
 * Minimum time between two JWKS downloads triggered by an unknown `kid` (jose
 * `cooldownDuration`): a stream of tokens with random kids cannot hammer the issuer.
 */
const JWKS_COOLDOWN_MS = 30_000;

/**
 * How long a downloaded key set is used without asking again (jose `cacheMaxAge`). Within
 * this window an issuer outage does not stop verification; past it jose downloads again and
 * a failed download fails verification (closed): stale keys are never trusted. jose measures
 * this with the real clock (`Date.now()`), not the injected one.
 */
const JWKS_CACHE_MAX_AGE_MS = 600_000;

/** Key errors that say something about the token, not about the key set's availability. */
function isTokenKeyError(error: unknown): boolean {
  return (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSENotSupported
  );
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Parses a `jwksUrl`. Keys fetched over plain HTTP could be swapped by anyone on the path,
 * so only `https:` is accepted, except on the loopback interface (local development, tests).
 */
function parseJwksUrl(issuerName: string, jwksUrl: string): URL {
  let url: URL;
  try {
    url = new URL(jwksUrl);
  } catch {
    throw new StintError('config_invalid', `issuer ${issuerName}: jwksUrl is not a URL`);
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) return url;
  throw new StintError('config_invalid', `issuer ${issuerName}: jwksUrl must use https (http only on loopback)`);
}

/**
 * Keys from the issuer's JWKS endpoint (jose `createRemoteJWKSet`: downloads on first use,
 * caches, re-downloads on an unknown kid after the cooldown). Every failure to obtain the
 * key set becomes a `JwksUnavailableError`, so verification fails closed and says why.
 * Redirects are not followed (jose fetches with `redirect: 'manual'`).
 */
export function remoteKeyResolver(issuerName: string, jwksUrl: string, fetchTimeoutMs: number): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(parseJwksUrl(issuerName, jwksUrl), {
    timeoutDuration: fetchTimeoutMs,
    cooldownDuration: JWKS_COOLDOWN_MS,
    cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (isTokenKeyError(error)) throw error;
      const why = error instanceof errors.JWKSTimeout ? 'timeout' : error instanceof Error ? error.message : 'error';
      throw new JwksUnavailableError(why);
    }
  };
}

/**
 * Checks that a configured key set is a set of public asymmetric keys. A private key or a
 * symmetric (`oct`) key in a verification key set is a configuration mistake that could leak
 * a secret or open the HMAC key-confusion hole (RFC 8725 section 3.1), so it is refused.
 */
export function assertPublicKeySet(source: string, jwks: unknown): JSONWebKeySet {
  const keys = typeof jwks === 'object' && jwks !== null ? (jwks as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new StintError('config_invalid', `${source}: not a JWK set with at least one key`);
  }
  for (const key of keys) {
    if (typeof key !== 'object' || key === null) throw new StintError('config_invalid', `${source}: a key is not an object`);
    const members = key as Record<string, unknown>;
    if (members.kty === 'oct' || 'k' in members) throw new StintError('config_invalid', `${source}: symmetric keys are not allowed`);
    if ('d' in members) throw new StintError('config_invalid', `${source}: contains a private key`);
  }
  return jwks as JSONWebKeySet;
}

/** Reads a `jwksFile` once (at startup) and checks it is a public key set. */
export function readJwksFile(issuerName: string, path: string): JSONWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new StintError('config_invalid', `issuer ${issuerName}: cannot read jwksFile ${path}`, {
      internalReason: error instanceof Error ? error.message : String(error),
    });
  }
  return assertPublicKeySet(`issuer ${issuerName}: jwksFile ${path}`, parsed);
}

/** Keys from a fixed key set (a `jwksFile`, or the dev issuer's public key). */
export function localKeyResolver(source: string, jwks: JSONWebKeySet): JWTVerifyGetKey {
  try {
    return createLocalJWKSet(jwks);
  } catch (error) {
    throw new StintError('config_invalid', `${source}: not a valid JWK set`, {
      internalReason: error instanceof Error ? error.message : String(error),
    });
  }
}
