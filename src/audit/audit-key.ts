/**
 * The Ed25519 key that signs audit checkpoints, kept in a PKCS#8 PEM file readable only by its
 * owner (mode 0600, directory 0700), like an SSH host key: created on first start, reused after.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StintError } from '../core/errors.js';

function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Parses the file's text; the detail names the file but never echoes its content. */
function parseAuditKey(pem: string, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new StintError('config_invalid', `audit key file ${file} is not an unencrypted PEM private key`, {
      internalReason: describe(e),
    });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new StintError('config_invalid', `audit key file ${file} is not an Ed25519 private key`, {
      internalReason: `key type ${key.asymmetricKeyType ?? 'unknown'}`,
    });
  }
  return key;
}

/**
 * Creates `file` holding `pem` only if it does not exist yet, never leaving a partial file:
 * the key is written and synced under a temporary name, then hard-linked into place (link(2)
 * fails with EEXIST instead of replacing). Returns false when another process won the race.
 */
async function createExclusive(file: string, pem: string): Promise<boolean> {
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(pem, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, file);
    return true;
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(temp);
  }
}

/**
 * Loads the Ed25519 checkpoint key from `file` (PKCS#8 PEM), or creates it with mode 0600
 * (and its directory with mode 0700) when the file does not exist. Throws
 * StintError('config_invalid') when the file holds anything but an Ed25519 private key or
 * cannot be read or written.
 */
export async function loadOrCreateAuditKey(file: string): Promise<KeyObject> {
  try {
    return parseAuditKey(await readFile(file, 'utf8'), file);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') {
      if (e instanceof StintError) throw e;
      throw new StintError('config_invalid', `cannot read audit key file ${file}`, { internalReason: describe(e) });
    }
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    if (await createExclusive(file, pem)) return privateKey;
    return parseAuditKey(await readFile(file, 'utf8'), file);
  } catch (e) {
    if (e instanceof StintError) throw e;
    throw new StintError('config_invalid', `cannot create audit key file ${file}`, { internalReason: describe(e) });
  }
}
