/** Mapping driver failures to coded errors without leaking connection strings. */
import { describe, expect, it } from 'vitest';
import { StintError } from '../../src/core/errors.js';
import { redact, secretsOfUrl, toStoreError } from '../../src/adapters/store-sql/driver-errors.js';

const URL_WITH_PASSWORD = 'postgres://broker:p%40ss%3Aword@db.internal:5432/stint';

describe('driver error mapping', () => {
  it('removes the URL, its password (raw and decoded) and any other URL', () => {
    const secrets = secretsOfUrl(URL_WITH_PASSWORD);
    const text = `failed for ${URL_WITH_PASSWORD}; password p@ss:word; raw p%40ss%3Aword; see https://example.com/x`;
    const out = redact(text, secrets);
    expect(out).not.toContain('p@ss:word');
    expect(out).not.toContain('p%40ss%3Aword');
    expect(out).not.toContain('db.internal:5432/stint');
    expect(out).not.toContain('example.com');
  });

  it('maps SQLSTATEs and network errors to stable codes', () => {
    const withCode = (code: string, message: string): Error => Object.assign(new Error(message), { code });
    expect(toStoreError(withCode('23505', 'duplicate key'), []).code).toBe('conflict');
    expect(toStoreError(withCode('40001', 'could not serialize'), []).code).toBe('conflict');
    expect(toStoreError(withCode('40P01', 'deadlock detected'), []).code).toBe('conflict');
    const refused = toStoreError(withCode('ECONNREFUSED', `connect to ${URL_WITH_PASSWORD}`), secretsOfUrl(URL_WITH_PASSWORD));
    expect(refused.code).toBe('store_unavailable');
    expect(refused.detail).toBe('the store is unavailable');
    expect(refused.internalReason).toBe('ECONNREFUSED: connect to [redacted]');
    expect(toStoreError('weird', []).internalReason).toBe('weird');
  });

  it('passes StintErrors through unchanged', () => {
    const original = new StintError('invalid_request', 'bad');
    expect(toStoreError(original, [])).toBe(original);
  });
});
