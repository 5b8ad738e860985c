import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { configError, lineOf, MINIMAL, tempConfigPath } from './fixtures.js';

const DB_URL = 'postgres://stint:pw-2f9c@127.0.0.1:5432/stint';
const withStore = (store: string): string => MINIMAL.replace('server:', `store:\n${store}\nserver:`);

describe('environment overrides', () => {
  it('uses PGlite when neither store.url nor DATABASE_URL is set', () => {
    const config = parseConfig(MINIMAL, tempConfigPath(), {});
    expect(config.store).toEqual({ kind: 'pglite', dataDir: expect.stringMatching(/\/\.stint\/data$/) });
  });

  it('DATABASE_URL switches the store to postgres and becomes its url', () => {
    const config = parseConfig(MINIMAL, tempConfigPath(), { DATABASE_URL: DB_URL });
    expect(config.store.kind).toBe('postgres');
    expect(config.store.url?.reveal()).toBe(DB_URL);
    expect(config.store.url?.source).toBe('env:DATABASE_URL');
  });

  it('DATABASE_URL wins over store.url, whose reference is then not even resolved', () => {
    const config = parseConfig(withStore('  url: env:UNSET_URL'), tempConfigPath(), { DATABASE_URL: DB_URL });
    expect(config.store.url?.reveal()).toBe(DB_URL);
  });

  it('an explicit kind: pglite ignores DATABASE_URL', () => {
    const config = parseConfig(withStore('  kind: pglite'), tempConfigPath(), { DATABASE_URL: DB_URL });
    expect(config.store.kind).toBe('pglite');
    expect(config.store.url).toBeUndefined();
  });

  it('store.url alone selects postgres; an empty DATABASE_URL counts as unset', () => {
    const config = parseConfig(withStore('  url: env:PG_URL'), tempConfigPath(), { PG_URL: DB_URL, DATABASE_URL: '' });
    expect(config.store.kind).toBe('postgres');
    expect(config.store.url?.source).toBe('env:PG_URL');
  });

  it('kind: postgres without any connection string is an error at store.kind', () => {
    const text = withStore('  kind: postgres');
    const file = tempConfigPath();
    expect(configError(() => parseConfig(text, file, {})).message).toBe(
      `${file}:${lineOf(text, 'kind:')}: store.kind: is postgres but no connection string is set (store.url or DATABASE_URL)`,
    );
  });

  it('STINT_PORT overrides server.port and the derived URLs follow it', () => {
    const config = parseConfig(MINIMAL, tempConfigPath(), { STINT_PORT: '18081' });
    expect(config.server.port).toBe(18081);
    expect(config.server.publicUrl).toBe('http://127.0.0.1:18081');
    expect(config.dev.issuer).toBe('http://127.0.0.1:18081/dev');
    expect(config.audit.origin).toBe('127.0.0.1:18081/stint/audit');
    expect(parseConfig(MINIMAL, tempConfigPath(), { STINT_PORT: '0' }).server.port).toBe(0);
  });

  it('STINT_PORT does not change an explicit publicUrl', () => {
    const text = MINIMAL.replace('port: 8080', 'port: 8080\n  publicUrl: https://stint.example.com/');
    const config = parseConfig(text, tempConfigPath(), { STINT_PORT: '9000' });
    expect(config.server.port).toBe(9000);
    // The trailing slash is dropped so `${publicUrl}/dev` has no double slash.
    expect(config.server.publicUrl).toBe('https://stint.example.com');
    expect(config.dev.issuer).toBe('https://stint.example.com/dev');
    expect(config.audit.origin).toBe('stint.example.com/stint/audit');
  });

  it('a malformed STINT_PORT is an error naming the variable at server.port', () => {
    const file = tempConfigPath();
    for (const bad of ['http', '65536', '-1', '80.5']) {
      expect(configError(() => parseConfig(MINIMAL, file, { STINT_PORT: bad })).message).toBe(
        `${file}:${lineOf(MINIMAL, 'port:')}: server.port: environment variable STINT_PORT must be an integer from 0 to 65535`,
      );
    }
  });

  it('brackets an IPv6 host in the derived public URL', () => {
    const config = parseConfig(MINIMAL.replace('port: 8080', 'host: "::1"\n  port: 8080'), tempConfigPath(), {});
    expect(config.server.publicUrl).toBe('http://[::1]:8080');
    expect(config.audit.origin).toBe('[::1]:8080/stint/audit');
  });
});
