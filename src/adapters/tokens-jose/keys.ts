import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

import { errors, importJWK, type CryptoKey, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

import { StintError } from '../../core/errors.js';
import { createPrivateFile, replacePrivateFile } from '../identity-jwt/private-file.js';
import { withFileLock } from './file-lock.js';
import { newestKey, newTokenKey, readTokenKeyFile, serializeTokenKeys, type StoredTokenKey, type TokenAlgorithm } from './key-file.js';

/** How many keys a rotation keeps by default (the new one included). */
export const DEFAULT_KEYS_KEPT = 3;

/** The key that signs new access tokens. */
export interface TokenSigningKey {
  readonly kid: string;
  readonly alg: TokenAlgorithm;
  readonly privateKey: CryptoKey;
}

/**
 * Stint's access-token keys, loaded from the shared key file. Every key in the file verifies;
 * the newest signs. Replicas sharing the file see another replica's rotation after `reload()`.
 */
export interface TokenKeyRing {
  /** The newest key (changes after `reload()` picks up a rotation). */
  readonly current: TokenSigningKey;
  /** The algorithms of the keys in the ring: the allow-list for verification. */
  readonly algorithms: readonly TokenAlgorithm[];
  /** Every key's public half, for the JWKS endpoint. Never contains a private member. */
  publicJwks(): JSONWebKeySet;
  /** Key resolver for jose `jwtVerify`: by `kid`, from keys imported once. */
  readonly verifyKeySet: JWTVerifyGetKey;
  /** Reads the key file again. */
  reload(): Promise<void>;
}

interface VerifyKey {
  readonly alg: TokenAlgorithm;
  readonly key: CryptoKey;
}

interface RingState {
  readonly current: TokenSigningKey;
  readonly algorithms: readonly TokenAlgorithm[];
  readonly jwks: JSONWebKeySet;
  readonly verifyKeys: ReadonlyMap<string, VerifyKey>;
}

/**
 * Imports the keys of the file. Public keys already imported (same kid) are reused, so a
 * reload costs nothing for unchanged keys and verification never imports per call.
 */
async function buildState(keys: readonly StoredTokenKey[], previous: RingState | undefined): Promise<RingState> {
  const newest = newestKey(keys);
  if (newest === undefined) throw new StintError('config_invalid', 'token key file has no key');
  const verifyKeys = new Map<string, VerifyKey>();
  for (const stored of keys) {
    const known = previous?.verifyKeys.get(stored.kid);
    verifyKeys.set(stored.kid, known ?? { alg: stored.alg, key: (await importJWK(stored.publicJwk, stored.alg)) as CryptoKey });
  }
  const privateKey =
    previous?.current.kid === newest.kid ? previous.current.privateKey : ((await importJWK(newest.privateJwk, newest.alg)) as CryptoKey);
  return {
    current: Object.freeze({ kid: newest.kid, alg: newest.alg, privateKey }),
    algorithms: Object.freeze([...new Set(keys.map((key) => key.alg))]),
    jwks: { keys: keys.map((key) => ({ ...key.publicJwk, kid: key.kid, alg: key.alg, use: 'sig' })) },
    verifyKeys,
  };
}

async function readExisting(file: string): Promise<StoredTokenKey[]> {
  const keys = await readTokenKeyFile(file);
  if (keys === undefined) throw new StintError('config_invalid', `token key file ${file} disappeared`);
  return keys;
}

/**
 * Loads the access-token key ring from `file`, creating the file with one `alg` key on first
 * start (0600, directory 0700; safe when replicas start together). Refuses to start when the
 * newest key is of another algorithm than `alg`: changing `tokens.algorithm` is done with
 * `rotateTokenKeys(file, alg)`, which keeps the old keys so outstanding tokens still verify.
 */
export async function loadOrCreateTokenKeys(file: string, alg: TokenAlgorithm): Promise<TokenKeyRing> {
  let keys = await readTokenKeyFile(file);
  if (keys === undefined) {
    await createPrivateFile(file, serializeTokenKeys([await newTokenKey(alg, Date.now())]));
    keys = await readExisting(file);
  }
  let state = await buildState(keys, undefined);
  if (state.current.alg !== alg) {
    throw new StintError('config_invalid', `tokens.algorithm is ${alg} but the newest key in ${file} is ${state.current.alg}; rotate the token keys to ${alg}`);
  }

  const verifyKeySet: JWTVerifyGetKey = (header) => {
    const entry = header.kid === undefined ? undefined : state.verifyKeys.get(header.kid);
    // A kid of the ring used with another algorithm matches no key (RFC 8725 section 3.1).
    if (entry === undefined || entry.alg !== header.alg) throw new errors.JWKSNoMatchingKey();
    return entry.key;
  };

  return {
    get current() {
      return state.current;
    },
    get algorithms() {
      return state.algorithms;
    },
    publicJwks: () => structuredClone(state.jwks),
    verifyKeySet,
    async reload() {
      state = await buildState(await readExisting(file), state);
    },
  };
}

/** Options of `rotateTokenKeys`. */
export interface RotateTokenKeysOptions {
  /** Keys kept after the rotation, the new one included (default 3, at least 2). */
  readonly keep?: number;
  /** Epoch ms recorded as the new key's `createdAt` (default: the system clock). */
  readonly now?: number;
}

/**
 * Adds a new `alg` signing key to the key file and drops the oldest beyond `keep`. The
 * previous keys stay, so tokens they signed verify until they expire (keep at least as many
 * keys as rotations happen within the longest token lifetime). Running replicas start
 * signing with the new key after `reload()`.
 */
export async function rotateTokenKeys(file: string, alg: TokenAlgorithm, opts: RotateTokenKeysOptions = {}): Promise<{ kid: string }> {
  const keep = opts.keep ?? DEFAULT_KEYS_KEPT;
  if (!Number.isSafeInteger(keep) || keep < 2) {
    throw new StintError('invalid_request', 'keep must be an integer >= 2 so tokens signed by the previous key still verify');
  }
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  return withFileLock(file, async () => {
    const existing = (await readTokenKeyFile(file)) ?? [];
    const newest = newestKey(existing);
    // Strictly newer than every existing key, even when the clock went backwards.
    const createdAt = Math.max(opts.now ?? Date.now(), newest === undefined ? 0 : newest.createdAt + 1);
    const added = await newTokenKey(alg, createdAt);
    const kept = [...existing, added].sort((a, b) => a.createdAt - b.createdAt).slice(-keep);
    await replacePrivateFile(file, serializeTokenKeys(kept));
    return { kid: added.kid };
  });
}
