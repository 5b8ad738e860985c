import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { MINIMAL, tempConfigPath } from './fixtures.js';

/** Every object reachable from `value` (own properties, including symbol keys). */
function reachableObjects(value: unknown, seen = new Set<object>()): Set<object> {
  if ((typeof value === 'object' || typeof value === 'function') && value !== null && !seen.has(value)) {
    seen.add(value);
    for (const key of Reflect.ownKeys(value)) reachableObjects((value as Record<PropertyKey, unknown>)[key], seen);
  }
  return seen;
}

const TEXT = MINIMAL.replace(
  'read: { maxTtl: 1h }',
  'read: { maxTtl: 1h, grants: { roles: [pg_read_all_data], options: { inherit: true } } }',
).replace('env: prod', 'env: prod\n    connection: { host: db, password: env:PW }\n    attributes: { tier: gold }');

describe('the loaded config is deeply frozen', () => {
  it('freezes every object reachable from the config', () => {
    const config = parseConfig(TEXT, tempConfigPath(), { PW: 'pw' });
    const objects = [...reachableObjects(config)].filter((o) => typeof o === 'object');
    expect(objects.length).toBeGreaterThan(20);
    for (const object of objects) expect(Object.isFrozen(object)).toBe(true);
  });

  it('throws on mutation at every depth (ES modules run in strict mode)', () => {
    const config = parseConfig(TEXT, tempConfigPath(), { PW: 'pw' });
    const target = config.targets['orders-db']!;
    const grants = target.roles.read!.grants as { roles: string[]; options: { inherit: boolean } };
    type Writable = Record<string, unknown>;
    const mutations: (() => void)[] = [
      () => { (config as unknown as Writable).policyDir = '/tmp'; },
      () => { (config.server as unknown as Writable).port = 1; },
      () => { (target.roles.read as unknown as Writable).maxTtlSeconds = 99999; },
      () => { (config.approvers.groups.dba as string[]).push('human:mallory'); },
      () => { (config.approvers.admins as string[])[0] = 'human:mallory'; },
      () => { (target.attributes as Writable).tier = 'bronze'; },
      () => { (target.connection as Writable).host = 'evil'; },
      () => { grants.roles.push('pg_write_all_data'); },
      () => { grants.options.inherit = false; },
      () => { (config.grants.businessHours as unknown as Writable).startHour = 0; },
      () => { (config.targets as Writable).extra = target; },
      () => { delete (config.targets as Writable)['orders-db']; },
    ];
    for (const mutate of mutations) expect(mutate).toThrow(TypeError);
    expect(config.server.port).toBe(8080);
  });

  it('keys maps by name without inherited properties', () => {
    const config = parseConfig(MINIMAL.replace('env: prod', 'env: prod\n    attributes: { constructor: x }'), tempConfigPath(), {});
    expect(config.targets.constructor).toBeUndefined();
    expect(config.targets.toString).toBeUndefined();
    expect(config.targets['orders-db']!.roles.hasOwnProperty).toBeUndefined();
    expect(config.targets['orders-db']!.attributes.constructor).toBe('x');
  });
});
