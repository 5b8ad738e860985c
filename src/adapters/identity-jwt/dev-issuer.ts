import { createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';

import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';

import type { DevConfig, IssuerConfig } from '../../config/types.js';
import { StintError } from '../../core/errors.js';
import { parsePrincipalId } from '../../core/principal.js';
import { DEV_CLAIMS, DEV_DEFAULT_TENANT } from './dev-claims.js';
import { createPrivateFile } from './private-file.js';

/** Name of the dev issuer in principals (`principal.issuer`) and in the issuer list. */
export const DEV_ISSUER_NAME = 'dev';

/** Clock skew accepted on dev tokens, seconds. */
const DEV_LEEWAY_SECONDS = 30;

/** Default lifetime of a dev identity token, seconds. */
const DEV_TOKEN_TTL_SECONDS = 3600;

/** The development issuer's signing key (Ed25519). */
export interface DevIssuerKey {
  readonly privateKey: CryptoKey;
  /** Public half as a JWK, with `kid`, `alg: EdDSA` and `use: sig`. */
  readonly publicJwk: JWK;
  /** RFC 7638 thumbprint of the public key. */
  readonly kid: string;
}

function invalidKeyFile(file: string, internalReason: string): StintError {
  // The reason never quotes the file: it holds a private key.
  return new StintError('config_invalid', `dev issuer key file ${file} is not a valid Ed25519 private JWK`, { internalReason });
}

/** Generates a fresh Ed25519 key as a private JWK ready to store. */
async function newPrivateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'EdDSA', use: 'sig' };
}

/**
 * Reads a stored private JWK. The public half is derived from the private key rather than
 * trusted from the file, so a hand-edited `x` can never publish a key that does not match.
 */
async function keyFromPrivateJwk(file: string, text: string): Promise<DevIssuerKey> {
  let stored: Record<string, unknown>;
  try {
    stored = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw invalidKeyFile(file, 'not JSON');
  }
  if (stored === null || stored.kty !== 'OKP' || stored.crv !== 'Ed25519' || typeof stored.d !== 'string' || typeof stored.x !== 'string') {
    throw invalidKeyFile(file, 'not an Ed25519 private JWK');
  }
  const privateJwk = { kty: 'OKP', crv: 'Ed25519', x: stored.x, d: stored.d };
  let publicJwk: JWK;
  try {
    publicJwk = createPublicKey(createPrivateKey({ key: privateJwk, format: 'jwk' })).export({ format: 'jwk' }) as JWK;
  } catch {
    throw invalidKeyFile(file, 'key material rejected');
  }
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateKey = (await importJWK({ ...privateJwk, x: publicJwk.x }, 'EdDSA')) as CryptoKey;
  return { privateKey, publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' }, kid };
}

/**
 * Loads the dev issuer's key from `file`, creating it (Ed25519, private JWK, file 0600,
 * directory 0700) on first start. Safe when several processes start at once: exactly one
 * key is created and all of them use it.
 */
export async function loadOrCreateDevIssuerKey(file: string): Promise<DevIssuerKey> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw invalidKeyFile(file, 'unreadable');
    await createPrivateFile(file, `${JSON.stringify(await newPrivateJwk())}\n`);
    text = await readFile(file, 'utf8');
  }
  return keyFromPrivateJwk(file, text);
}

/** The dev issuer's public key set, for `createIdentityVerifier({ dev: { publicJwks } })`. */
export function devPublicJwks(key: DevIssuerKey): JSONWebKeySet {
  return { keys: [key.publicJwk] };
}

/**
 * The issuer entry the verifier uses for dev tokens: exact `iss`, the one dev audience,
 * EdDSA only, 30 s leeway. Its claim mapping only describes the shape of dev tokens (name in
 * `sub`, default tenant): the verifier maps dev tokens with a dedicated branch that reads
 * type, kind, tenant and attributes from the `stint_*` claims the dev issuer mints.
 */
export function devIssuerConfig(dev: DevConfig): IssuerConfig {
  return {
    name: DEV_ISSUER_NAME,
    issuer: dev.issuer,
    audiences: [dev.audience],
    algorithms: ['EdDSA'],
    leewaySeconds: DEV_LEEWAY_SECONDS,
    principal: { type: 'workload', nameClaim: 'sub', attributes: {}, require: {}, tenant: DEV_DEFAULT_TENANT },
  };
}

/** Options of `mintDevToken`. */
export interface MintDevTokenOptions {
  readonly key: DevIssuerKey;
  /** `dev.issuer`. */
  readonly issuer: string;
  /** `dev.audience`. */
  readonly audience: string;
  /** The principal the token names, e.g. `workload:deploy-bot`. */
  readonly principalId: string;
  /** Its entry in `dev.principals`; absent = no attributes, default tenant. */
  readonly principal?: DevConfig['principals'][string];
  /** Lifetime, seconds (default 3600). */
  readonly ttlSeconds?: number;
  /** Epoch ms. */
  readonly now: number;
  /** RFC 8693 `may_act`: who may act for this principal (token exchange delegation). */
  readonly mayAct?: { readonly sub: string; readonly iss?: string } | readonly { readonly sub: string; readonly iss?: string }[];
}

/**
 * Mints a development identity token: `sub` = principal id plus the `stint_*` claims that
 * carry the principal's type, kind (workloads only), tenant and attributes.
 */
export async function mintDevToken(opts: MintDevTokenOptions): Promise<string> {
  const parsed = parsePrincipalId(opts.principalId);
  if (parsed === undefined) throw new StintError('invalid_request', 'invalid principal id (expected workload:<name> or human:<name>)');
  const ttl = opts.ttlSeconds ?? DEV_TOKEN_TTL_SECONDS;
  if (!Number.isSafeInteger(ttl) || ttl <= 0) throw new StintError('invalid_request', 'ttlSeconds must be a positive integer');
  const iat = Math.floor(opts.now / 1000);
  const kind = parsed.type === 'workload' ? opts.principal?.kind : undefined;
  return new SignJWT({
    [DEV_CLAIMS.type]: parsed.type,
    ...(kind !== undefined ? { [DEV_CLAIMS.kind]: kind } : {}),
    [DEV_CLAIMS.tenant]: opts.principal?.tenant ?? DEV_DEFAULT_TENANT,
    [DEV_CLAIMS.attributes]: { ...(opts.principal?.attributes ?? {}) },
    ...(opts.mayAct !== undefined ? { may_act: opts.mayAct } : {}),
  })
    .setProtectedHeader({ alg: 'EdDSA', kid: opts.key.kid, typ: 'JWT' })
    .setIssuer(opts.issuer)
    .setAudience(opts.audience)
    .setSubject(opts.principalId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .setJti(randomUUID())
    .sign(opts.key.privateKey);
}
