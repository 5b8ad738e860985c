import { generateKeyPairSync, sign, verify, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isStintError } from '../../src/core/errors.js';
import { loadOrCreateAuditKey } from '../../src/audit/audit-key.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stint-audit-key-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function refusal(file: string): Promise<string> {
  try {
    await loadOrCreateAuditKey(file);
  } catch (e) {
    if (isStintError(e)) return `${e.code}: ${e.detail}`;
    throw e;
  }
  return 'accepted';
}

describe('loadOrCreateAuditKey', () => {
  it('creates an Ed25519 PKCS#8 key with mode 0600 in a new 0700 directory, then loads the same key', async () => {
    const file = join(dir, 'keys', 'nested', 'audit.pem');
    const created = await loadOrCreateAuditKey(file);
    expect(created.asymmetricKeyType).toBe('ed25519');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'keys', 'nested'))).mode & 0o777).toBe(0o700);
    expect(await readFile(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);

    const loaded = await loadOrCreateAuditKey(file);
    const message = Buffer.from('checkpoint');
    expect(verify(null, message, createPublicKey(created), sign(null, message, loaded))).toBe(true);
  });

  it('creates one key when two callers race for a missing file', async () => {
    const file = join(dir, 'audit.pem');
    const [a, b] = await Promise.all([loadOrCreateAuditKey(file), loadOrCreateAuditKey(file)]);
    const message = Buffer.from('same key');
    expect(verify(null, message, createPublicKey(a), sign(null, message, b))).toBe(true);
  });

  it('refuses a file that is not an Ed25519 private key, without echoing its content', async () => {
    const file = join(dir, 'audit.pem');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await writeFile(file, rsa, { mode: 0o600 });
    expect(await refusal(file)).toBe(`config_invalid: audit key file ${file} is not an Ed25519 private key`);

    const pub = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await writeFile(file, pub);
    expect(await refusal(file)).toBe(`config_invalid: audit key file ${file} is not an unencrypted PEM private key`);

    await writeFile(file, 'SECRET-LOOKING GARBAGE');
    const message = await refusal(file);
    expect(message).toMatch(/^config_invalid: /);
    expect(message).not.toContain('GARBAGE');
    // The refused file is left as it was, never replaced by a new key.
    expect(await readFile(file, 'utf8')).toBe('SECRET-LOOKING GARBAGE');
  });

  it('reports a path that cannot be read as config_invalid', async () => {
    expect(await refusal(dir)).toBe(`config_invalid: cannot read audit key file ${dir}`);
  });
});
