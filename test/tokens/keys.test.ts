import { readFile, stat, writeFile } from 'node:fs/promises';

import { calculateJwkThumbprint } from 'jose';
import { describe, expect, it } from 'vitest';

import { loadOrCreateTokenKeys, rotateTokenKeys, type TokenAlgorithm } from '../../src/adapters/tokens-jose/index.js';
import { StintError } from '../../src/core/errors.js';
import { keysFile } from './fixtures.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

interface StoredEntry extends Record<string, unknown> {
  kid: string;
  createdAt: number;
}

async function stored(file: string): Promise<StoredEntry[]> {
  return (JSON.parse(await readFile(file, 'utf8')) as { keys: StoredEntry[] }).keys;
}

describe.each<TokenAlgorithm>(['EdDSA', 'ES256'])('token key ring (%s)', (alg) => {
  it('creates the key file on first start: 0600, private JWKs with thumbprint kid, alg, use and createdAt', async () => {
    const file = await keysFile();
    const ring = await loadOrCreateTokenKeys(file, alg);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const [entry, ...rest] = await stored(file);
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({ alg, use: 'sig', kid: ring.current.kid });
    expect(typeof entry?.d).toBe('string');
    expect(typeof entry?.createdAt).toBe('number');
    expect(ring.current.kid).toBe(await calculateJwkThumbprint(ring.publicJwks().keys[0]!));
    expect(ring.current.alg).toBe(alg);
    expect(ring.algorithms).toEqual([alg]);
  });

  it('loads the same key on later starts and creates only one when replicas start together', async () => {
    const file = await keysFile();
    const rings = await Promise.all(Array.from({ length: 6 }, () => loadOrCreateTokenKeys(file, alg)));
    expect(new Set(rings.map((r) => r.current.kid)).size).toBe(1);
    expect((await loadOrCreateTokenKeys(file, alg)).current.kid).toBe(rings[0]?.current.kid);
  });

  it('publishes every key without a private member', async () => {
    const file = await keysFile();
    await loadOrCreateTokenKeys(file, alg);
    await rotateTokenKeys(file, alg);
    const ring = await loadOrCreateTokenKeys(file, alg);
    const jwks = ring.publicJwks();
    expect(jwks.keys).toHaveLength(2);
    for (const jwk of jwks.keys) {
      for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member);
      expect(jwk).toMatchObject({ alg, use: 'sig', kty: alg === 'EdDSA' ? 'OKP' : 'EC' });
    }
    // The returned set is a copy: changing it cannot change what the ring publishes.
    (jwks.keys[0] as Record<string, unknown>).d = 'leak';
    expect(ring.publicJwks().keys[0]).not.toHaveProperty('d');
  });
});

describe('token key rotation', () => {
  it('makes the new key current after reload, keeps the previous ones, drops the oldest beyond keep', async () => {
    const file = await keysFile();
    const ring = await loadOrCreateTokenKeys(file, 'EdDSA');
    const first = ring.current.kid;
    const { kid: second } = await rotateTokenKeys(file, 'EdDSA');
    expect(ring.current.kid).toBe(first);
    await ring.reload();
    expect(ring.current.kid).toBe(second);
    expect(ring.publicJwks().keys.map((k) => k.kid)).toEqual([first, second]);

    const { kid: third } = await rotateTokenKeys(file, 'EdDSA', { keep: 2 });
    await ring.reload();
    expect(ring.current.kid).toBe(third);
    expect(ring.publicJwks().keys.map((k) => k.kid)).toEqual([second, third]);
    expect((await stored(file)).map((k) => k.kid)).toEqual([second, third]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('keeps the new key newest even when the clock went backwards', async () => {
    const file = await keysFile();
    await rotateTokenKeys(file, 'EdDSA', { now: 2_000_000 });
    const { kid } = await rotateTokenKeys(file, 'EdDSA', { now: 1_000 });
    expect((await loadOrCreateTokenKeys(file, 'EdDSA')).current.kid).toBe(kid);
  });

  it('switches algorithm by rotation; loading with the other algorithm is refused', async () => {
    const file = await keysFile();
    await loadOrCreateTokenKeys(file, 'EdDSA');
    await expect(loadOrCreateTokenKeys(file, 'ES256')).rejects.toMatchObject({ code: 'config_invalid' });
    await rotateTokenKeys(file, 'ES256');
    const ring = await loadOrCreateTokenKeys(file, 'ES256');
    expect(ring.current.alg).toBe('ES256');
    expect([...ring.algorithms].sort()).toEqual(['ES256', 'EdDSA']);
  });

  it('refuses keep < 2 and a concurrent rotation', async () => {
    const file = await keysFile();
    await loadOrCreateTokenKeys(file, 'EdDSA');
    await expect(rotateTokenKeys(file, 'EdDSA', { keep: 1 })).rejects.toMatchObject({ code: 'invalid_request' });
    await writeFile(`${file}.lock`, '');
    await expect(rotateTokenKeys(file, 'EdDSA')).rejects.toMatchObject({ code: 'conflict' });
    expect(await stored(file)).toHaveLength(1);
  });

  it('refuses a key file whose kid does not match its key, without quoting the file', async () => {
    const file = await keysFile();
    await loadOrCreateTokenKeys(file, 'EdDSA');
    const [entry] = await stored(file);
    await writeFile(file, JSON.stringify({ keys: [{ ...entry, kid: 'forged' }] }));
    const error = await loadOrCreateTokenKeys(file, 'EdDSA').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StintError);
    expect((error as StintError).code).toBe('config_invalid');
    expect((error as StintError).internalReason).toMatch(/thumbprint/);
    expect(`${(error as StintError).message}${(error as StintError).internalReason}`).not.toContain(String(entry?.d));
  });
});
