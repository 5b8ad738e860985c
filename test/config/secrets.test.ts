import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isSecret, makeSecret, parseConfig, redactConfig, resolveSecretRef } from '../../src/config/index.js';
import { isStintError } from '../../src/core/errors.js';
import { configError, MINIMAL, tempConfigPath } from './fixtures.js';

const DB_URL = 'postgres://stint:db-pass-7f3a@db.internal/stint';
const TOKEN = 'tok-91c4e0d2';
const FILE_SECRET = 'file-pass-5b8e';

/** A config whose store URL and target connection hold secrets from env and from a file. */
function configWithSecrets() {
  const file = tempConfigPath();
  mkdirSync(join(dirname(file), 'secrets'));
  writeFileSync(join(dirname(file), 'secrets', 'pg'), `${FILE_SECRET}\n`);
  const text = MINIMAL.replace('server:', 'store:\n  url: env:PG_URL\nserver:').replace(
    'env: prod',
    'env: prod\n    connection:\n      host: db.internal\n      password: file:./secrets/pg\n      nested: { tokens: [env:API_TOKEN] }',
  );
  return parseConfig(text, file, { PG_URL: DB_URL, API_TOKEN: TOKEN });
}

describe('secrets', () => {
  it('resolves env: and file: references into Secrets readable only through reveal()', () => {
    const config = configWithSecrets();
    const connection = config.targets['orders-db']!.connection as { host: string; password: unknown; nested: { tokens: unknown[] } };
    expect(config.store.kind).toBe('postgres');
    expect(config.store.url?.reveal()).toBe(DB_URL);
    expect(config.store.url?.source).toBe('env:PG_URL');
    expect(connection.host).toBe('db.internal');
    expect(isSecret(connection.password)).toBe(true);
    // One trailing newline is dropped: secret files usually end with one.
    expect((connection.password as { reveal(): string }).reveal()).toBe(FILE_SECRET);
    expect(isSecret(connection.nested.tokens[0])).toBe(true);
  });

  it('never shows a secret in String(), JSON, util.inspect (even showHidden) or the redacted view', () => {
    const config = configWithSecrets();
    const views = [
      String(config),
      `${config.store.url}`,
      String(config.store.url),
      JSON.stringify(config),
      JSON.stringify(redactConfig(config)),
      inspect(config, { depth: null }),
      inspect(config, { depth: null, showHidden: true }),
      inspect(redactConfig(config), { depth: null }),
    ];
    for (const view of views) {
      for (const secret of [DB_URL, 'db-pass-7f3a', TOKEN, FILE_SECRET]) expect(view).not.toContain(secret);
    }
    expect(inspect(config, { depth: null })).toContain('[secret env:PG_URL]');
  });

  it('redactConfig gives plain JSON data with secrets replaced by their labels', () => {
    const config = configWithSecrets();
    const redacted = redactConfig(config) as { store: { url: string }; targets: Record<string, { connection: Record<string, unknown> }> };
    expect(redacted.store.url).toBe('[secret env:PG_URL]');
    const secretsDir = join(dirname(config.source), 'secrets', 'pg');
    expect(redacted.targets['orders-db']!.connection).toEqual({
      host: 'db.internal',
      password: `[secret file:${secretsDir}]`,
      nested: { tokens: ['[secret env:API_TOKEN]'] },
    });
    expect(JSON.parse(JSON.stringify(redacted))).toEqual(redacted);
  });

  it('makeSecret prints only its source', () => {
    const secret = makeSecret('hunter2', 'env:X');
    expect([String(secret), `${secret}`, JSON.stringify({ secret }), inspect(secret)]).toEqual([
      '[secret env:X]',
      '[secret env:X]',
      '{"secret":"[secret env:X]"}',
      '[secret env:X]',
    ]);
    expect(secret.reveal()).toBe('hunter2');
    expect(Object.values(secret)).not.toContain('hunter2');
  });

  it('resolveSecretRef names the missing variable or file, never a value', () => {
    const attempt = (ref: string, env: NodeJS.ProcessEnv): string => {
      try {
        resolveSecretRef(ref, '/nonexistent-base', env);
      } catch (e) {
        expect(isStintError(e) && e.code === 'config_invalid').toBe(true);
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };
    expect(attempt('env:PG_PASSWORD', { PG_PASSWORD_OLD: 'old-value' })).toBe('environment variable PG_PASSWORD is not set');
    expect(attempt('env:EMPTY', { EMPTY: '' })).toBe('environment variable EMPTY is empty');
    expect(attempt('file:pw.txt', {})).toBe('secret file /nonexistent-base/pw.txt does not exist');
    expect(attempt('plain-password', {})).toBe('is not a secret reference (expected env:NAME or file:path)');
  });

  it('rejects a literal connection string in store.url (only references are accepted)', () => {
    const file = tempConfigPath();
    const text = MINIMAL.replace('server:', `store:\n  url: ${DB_URL}\nserver:`);
    const message = configError(() => parseConfig(text, file, {})).message;
    expect(message).toBe(`${file}:2: store.url: must be a secret reference: env:NAME or file:path`);
    expect(message).not.toContain('db-pass-7f3a');
  });

  it('keeps DATABASE_URL out of error messages when the config is otherwise invalid', () => {
    const text = MINIMAL.replace('env: prod', 'env: prod\n    connection: { password: env:MISSING }');
    const message = configError(() => parseConfig(text, tempConfigPath(), { DATABASE_URL: DB_URL })).message;
    expect(message).toContain('environment variable MISSING is not set');
    expect(message).not.toContain('db-pass-7f3a');
  });
});
