/**
 * AES-256-GCM credential sealing with a key file (node:crypto only). Blob format:
 * `v1.<base64url(12-byte iv)>.<base64url(ciphertext || 16-byte tag)>`, associated data = grant id.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StintError } from '../../core/errors.js';
import type { IssuedCredential } from '../../ports/connector.js';
import type { CredentialSealer } from '../../ports/sealer.js';

const KEY_BYTES = 32;

/** Reads the 32-byte key (base64url text), creating it with mode 0600 when missing. */
export async function loadOrCreateSealKey(file: string): Promise<Buffer> {
  try {
    const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url');
    if (key.length !== KEY_BYTES) throw new StintError('config_invalid', `${file}: not a ${KEY_BYTES}-byte base64url key`);
    return key;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (e instanceof StintError) throw e;
      throw new StintError('config_invalid', `${file}: cannot read the credential seal key`);
    }
  }
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  try {
    // O_EXCL: two replicas starting together never write two different keys.
    const handle = await open(file, 'wx', 0o600);
    await handle.writeFile(`${key.toString('base64url')}\n`);
    await handle.close();
    return key;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateSealKey(file);
    throw new StintError('config_invalid', `${file}: cannot create the credential seal key`);
  }
}

export function createAesGcmSealer(key: Buffer): CredentialSealer {
  if (key.length !== KEY_BYTES) throw new StintError('config_invalid', 'the credential seal key must be 32 bytes');
  return {
    seal(grantId: string, credential: IssuedCredential): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(grantId, 'utf8'));
      const body = Buffer.concat([cipher.update(JSON.stringify(credential), 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `v1.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    open(grantId: string, sealed: string): IssuedCredential {
      const [version, ivText, bodyText] = sealed.split('.');
      if (version !== 'v1' || !ivText || !bodyText) throw new StintError('internal', 'malformed sealed credential');
      const iv = Buffer.from(ivText, 'base64url');
      const body = Buffer.from(bodyText, 'base64url');
      if (iv.length !== 12 || body.length < 17) throw new StintError('internal', 'malformed sealed credential');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAAD(Buffer.from(grantId, 'utf8'));
        decipher.setAuthTag(body.subarray(body.length - 16));
        const plain = Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
        return JSON.parse(plain) as IssuedCredential;
      } catch {
        throw new StintError('internal', 'sealed credential does not open with this key for this grant');
      }
    },
  };
}
