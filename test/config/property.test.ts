import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseConfig, redactConfig } from '../../src/config/index.js';
import { isStintError } from '../../src/core/errors.js';
import { MINIMAL, tempConfigPath } from './fixtures.js';

const file = tempConfigPath();

/** Runs the loader; anything thrown must be a config_invalid StintError. Returns whether it loaded. */
function loadsOrRejectsCleanly(text: string, env: NodeJS.ProcessEnv = {}): boolean {
  try {
    parseConfig(text, file, env);
    return true;
  } catch (e) {
    if (!(isStintError(e) && e.code === 'config_invalid')) throw e;
    expect(e.message.length).toBeGreaterThan(0);
    return false;
  }
}

/** Keys and values the loader knows, mixed with junk, so random documents reach deep code paths. */
const KEYS = [
  'server', 'port', 'host', 'publicUrl', 'store', 'kind', 'url', 'dataDir', 'dev', 'enabled', 'principals',
  'workload:bot', 'human:alice', 'issuers', 'name', 'issuer', 'jwksUrl', 'jwksFile', 'audiences', 'algorithms',
  'leeway', 'principal', 'type', 'nameClaim', 'attributes', 'require', 'tenant', 'approvers', 'groups', 'admins',
  'targets', 'orders-db', 'connector', 'connection', 'env', 'owners', 'roles', 'read', 'maxTtl', 'approvals',
  'riskTier', 'grants', 'policies', 'dir', 'businessHours', 'timeZone', 'days', 'start', 'end', 'revokeRetry',
  'audit', 'origin', 'tokens', 'log', 'level', '__proto__', 'constructor', 'toString', '',
];
const SCALARS = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '1h', '0s', '99999d', 'token', 'human:alice', 'group:dba', 'group:nope', 'workload:bot', 'RS256', 'HS256', 'none',
      'env:UNSET', 'env:SET', 'file:./missing', 'file:', './policies', 'https://idp.example/jwks', 'UTC', 'Not/AZone',
      'prod', 'service', 'human', 'workload', 'low', 'critical', 'pglite', 'postgres', '\u0000', '', 8080, 0, -1, 1.5,
      65536, 1e308, Number.NaN, true, false, null,
    ),
  },
  fc.string(),
  fc.integer(),
);
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, SCALARS, tie('list'), tie('map')),
  list: fc.array(tie('tree'), { maxLength: 4 }),
  map: fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string()), tie('tree'), { maxKeys: 5 }),
}));

/** Every key path of the minimal valid config: a mutation replaces the value there or adds a key below it. */
function allPaths(node: unknown, prefix: readonly string[] = []): (readonly string[])[] {
  if (typeof node !== 'object' || node === null) return [prefix];
  const entries = Array.isArray(node) ? node.map((v, i) => [String(i), v] as const) : Object.entries(node);
  return [prefix, ...entries.flatMap(([key, value]) => allPaths(value, [...prefix, key]))];
}
const PATHS = allPaths(parse(MINIMAL));

/** Sets `value` at `path` (creating the last key as an own property, even `__proto__`). */
function setPath(root: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node: unknown = root;
  for (const segment of path.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return;
    node = (node as Record<string, unknown>)[segment];
  }
  const key = path.at(-1);
  if (key !== undefined && typeof node === 'object' && node !== null) {
    Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });
  }
}

describe('the loader never fails with anything but config_invalid', () => {
  it('on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (text) => void loadsOrRejectsCleanly(text)), { numRuns: 300 });
  });

  it('on random YAML documents built from config-like keys and values', () => {
    fc.assert(fc.property(tree, (doc) => void loadsOrRejectsCleanly(stringify(doc))), { numRuns: 500 });
  });

  it('on random mutations of a valid config (some of which stay valid)', () => {
    let loaded = 0;
    const replace = fc.tuple(fc.constantFrom(...PATHS.filter((p) => p.length > 0)), tree);
    const add = fc.tuple(fc.constantFrom(...PATHS), fc.constantFrom(...KEYS), tree).map(([path, key, value]) => [[...path, key], value] as const);
    fc.assert(
      fc.property(fc.array(fc.oneof(replace, add), { minLength: 1, maxLength: 3 }), (mutations) => {
        const doc = parse(MINIMAL) as Record<string, unknown>;
        for (const [path, value] of mutations) setPath(doc, path, value);
        if (loadsOrRejectsCleanly(stringify(doc), { SET: 'value-of-set' })) loaded += 1;
      }),
      { numRuns: 500 },
    );
    // Not vacuous: some mutated documents still load (e.g. an added valid target or attribute).
    expect(loaded).toBeGreaterThan(0);
  });

  it('on self-referencing YAML aliases inside free-form sections', () => {
    const text = MINIMAL.replace('read: { maxTtl: 1h }', 'read: { maxTtl: 1h, grants: &g { again: *g } }');
    expect(loadsOrRejectsCleanly(text)).toBe(false);
  });
});

describe('secrets stay hidden whatever their value', () => {
  it('no view of the config contains a secret value', () => {
    fc.assert(
      // The marker makes the secret unmistakable; the random tail exercises quoting and escaping.
      fc.property(fc.string({ unit: 'binary' }).map((tail) => `Zq7-SECRET-${tail}`), (secret) => {
        const text = MINIMAL.replace('env: prod', 'env: prod\n    connection: { password: env:PW, list: [env:PW] }');
        const config = parseConfig(text, file, { PW: secret, DATABASE_URL: secret });
        for (const view of [JSON.stringify(config), JSON.stringify(redactConfig(config)), inspect(config, { depth: null, showHidden: true })]) {
          expect(view).not.toContain('Zq7-SECRET-');
        }
      }),
      { numRuns: 200 },
    );
  });
});
