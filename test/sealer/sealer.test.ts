/**
 * Credential sealing: what the store holds is useless without the key, bound to its grant,
 * and tamper-evident.
 */
import { describe, expect, it } from 'vitest';
import { statSync, writeFileSync } from 'node:fs';
import { tempDirForFile } from '../helpers/temp-dirs.js';
import { join } from 'node:path';
import { createAesGcmSealer, loadOrCreateSealKey } from '../../src/adapters/sealer-aesgcm/index.js';

describe('AES-GCM credential sealer', () => {
  const dir = tempDirForFile('stint-seal-');

  it('creates a private key file once and reads it back', async () => {
    const file = join(dir, 'keys', 'seal.key');
    const [a, b] = await Promise.all([loadOrCreateSealKey(file), loadOrCreateSealKey(file)]);
    expect(a.equals(b)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await loadOrCreateSealKey(file)).equals(a)).toBe(true);
  });

  it('round-trips, hides the secret, and refuses another grant, another key or a flipped bit', async () => {
    const sealer = createAesGcmSealer(await loadOrCreateSealKey(join(dir, 'k1')));
    const other = createAesGcmSealer(await loadOrCreateSealKey(join(dir, 'k2')));
    const credential = { username: 'stint_g1', password: 'correct horse battery staple' };
    const blob = sealer.seal('g1', credential);
    expect(blob).not.toContain('horse');
    expect(Buffer.from(blob.split('.')[2]!, 'base64url').toString('latin1')).not.toContain('horse');
    expect(sealer.open('g1', blob)).toEqual(credential);
    expect(sealer.seal('g1', credential)).not.toBe(blob);
    expect(() => sealer.open('g2', blob)).toThrow(/does not open/);
    expect(() => other.open('g1', blob)).toThrow(/does not open/);
    const body = Buffer.from(blob.split('.')[2]!, 'base64url');
    body[3] = body[3]! ^ 1;
    expect(() => sealer.open('g1', `v1.${blob.split('.')[1]}.${body.toString('base64url')}`)).toThrow(/does not open/);
    expect(() => sealer.open('g1', 'v2.x.y')).toThrow(/malformed/);
  });

  it('refuses a key file that is not a 32-byte key, without echoing it', async () => {
    const file = join(dir, 'bad.key');
    writeFileSync(file, 'hunter2\n');
    await expect(loadOrCreateSealKey(file)).rejects.toMatchObject({ code: 'config_invalid' });
    await expect(loadOrCreateSealKey(file)).rejects.not.toThrow(/hunter2/);
  });
});
