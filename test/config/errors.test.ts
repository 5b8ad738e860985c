import { writeFileSync } from 'node:fs';
import { tempDirForFile } from '../helpers/temp-dirs.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/index.js';
import { configError, lineOf, MINIMAL, tempConfigPath } from './fixtures.js';

/** Asserts `message` has the report line `<file>:<line>: <path>: <problem>`. */
function expectReportLine(message: string, file: string, line: number | undefined, path: string, problem: RegExp): void {
  const prefix = line === undefined ? `${file}: ${path}: ` : `${file}:${line}: ${path}: `;
  const hit = message.split('\n').find((l) => l.startsWith(prefix));
  expect(hit, `no line starting with "${prefix}" in:\n${message}`).toBeDefined();
  expect(hit!.slice(prefix.length)).toMatch(problem);
}

/** Loads `text` from a fresh folder and returns the config_invalid message and the file name. */
function failing(text: string, env: NodeJS.ProcessEnv = {}): { message: string; file: string } {
  const file = tempConfigPath();
  return { message: configError(() => parseConfig(text, file, env)).message, file };
}

describe('config errors name the file, the line, the key path and the problem', () => {
  it('accepts the minimal config the other cases start from', () => {
    expect(parseConfig(MINIMAL, tempConfigPath(), {}).targets['orders-db']?.roles.read?.maxTtlSeconds).toBe(3600);
  });

  it('rejects unknown keys at the root, in a section, deep in a target and inside a list item', () => {
    const text = MINIMAL.replace('  port: 8080', '  port: 8080\n  prot: 1')
      .replace('read: { maxTtl: 1h }', 'read: { maxTtl: 1h, maxTTL: 2h }')
      .concat('extra: true\n')
      .concat(
        'issuers:\n  - name: gh\n    issuer: https://gh.example\n    jwksUrl: https://gh.example/jwks\n    audiences: [stint]\n    principal: { type: workload, nameclaim: sub }\n',
      );
    const { message, file } = failing(text);
    expectReportLine(message, file, lineOf(text, 'prot:'), 'server.prot', /^unknown key \(expected one of: host, port, publicUrl, bodyLimit\)$/);
    expectReportLine(message, file, lineOf(text, 'maxTTL'), 'targets.orders-db.roles.read.maxTTL', /^unknown key/);
    expectReportLine(message, file, lineOf(text, 'extra:'), 'extra', /^unknown key/);
    expectReportLine(message, file, lineOf(text, 'nameclaim'), 'issuers[0].principal.nameclaim', /^unknown key/);
    expect(message.split('\n')).toHaveLength(4);
  });

  it('rejects wrong types and says what was expected without echoing the value', () => {
    const text = MINIMAL.replace('port: 8080', 'port: "s3cret-ish"').replace('admins: [human:root]', 'admins: human:root');
    const { message, file } = failing(text);
    expectReportLine(message, file, lineOf(text, 'port:'), 'server.port', /^must be an integer, not a string$/);
    expectReportLine(message, file, lineOf(text, 'admins:'), 'approvers.admins', /^must be a list, not a string$/);
    expect(message).not.toContain('s3cret-ish');
  });

  it('suggests quoting when a string key got a number', () => {
    const text = MINIMAL.replace('env: prod', 'env: 2024');
    const { message, file } = failing(text);
    expectReportLine(message, file, lineOf(text, 'env: 2024'), 'targets.orders-db.env', /^must be a string, not a number \(quote it\)$/);
  });

  it('rejects a bad duration naming the key', () => {
    const text = MINIMAL.replace('maxTtl: 1h', 'maxTtl: 1x').concat('grants:\n  pendingTimeout: 0\n');
    const { message, file } = failing(text);
    expectReportLine(message, file, lineOf(text, 'maxTtl: 1x'), 'targets.orders-db.roles.read.maxTtl', /^must be a duration such as 90s/);
    expectReportLine(message, file, lineOf(text, 'pendingTimeout'), 'grants.pendingTimeout', /^must be >= 1$/);
  });

  it('reports a missing required key at its parent, and a missing top-level key without a line', () => {
    const text = MINIMAL.replace('    env: prod\n', '').replace('policies:\n  dir: ./policies\n', '');
    const { message, file } = failing(text);
    expectReportLine(message, file, lineOf(text, 'orders-db:'), 'targets.orders-db.env', /^is required$/);
    expectReportLine(message, file, undefined, 'policies', /^is required$/);
  });

  it('refuses HS256 (and none) in an issuer algorithm list', () => {
    const text = `${MINIMAL}issuers:
  - name: gh
    issuer: https://gh.example
    jwksUrl: https://gh.example/jwks
    audiences: [stint]
    algorithms: [RS256, HS256, none]
    principal: { type: workload }
`;
    const { message, file } = failing(text);
    const line = lineOf(text, 'algorithms:');
    expectReportLine(message, file, line, 'issuers[0].algorithms[1]', /^must be one of: RS256, .*EdDSA \(asymmetric algorithms only; HS\* and none are never accepted\)$/);
    expectReportLine(message, file, line, 'issuers[0].algorithms[2]', /^must be one of: /);
  });

  it('requires exactly one of jwksUrl / jwksFile and refuses plain-http JWKS off localhost', () => {
    const text = `${MINIMAL}issuers:
  - name: both
    issuer: https://a.example
    jwksUrl: http://a.example/jwks
    jwksFile: ./jwks.json
    audiences: [stint]
    principal: { type: workload }
  - name: neither
    issuer: https://b.example
    audiences: [stint]
    principal: { type: workload }
`;
    const { message, file } = failing(text);
    expectReportLine(message, file, lineOf(text, 'name: both'), 'issuers[0]', /^must set only one of: jwksUrl, jwksFile$/);
    expectReportLine(message, file, lineOf(text, 'name: neither'), 'issuers[1]', /^needs one of: jwksUrl, jwksFile$/);
    expectReportLine(message, file, lineOf(text, 'jwksUrl:'), 'issuers[0].jwksUrl', /^must be an https URL/);
  });

  it('rejects an owner group that approvers.groups does not define', () => {
    const text = MINIMAL.replace('owners: [group:dba]', 'owners: [human:carol, group:ops]');
    const { message, file } = failing(text);
    expectReportLine(message, file, lineOf(text, 'owners:'), 'targets.orders-db.owners[1]', /^group ops is not defined in approvers.groups$/);
  });

  it('rejects malformed principal ids as dev principals, group members and owners', () => {
    const text = MINIMAL.replace('dba: [human:alice, human:bob]', 'dba: [human:alice, workload:bot]')
      .replace('owners: [group:dba]', 'owners: [group:dba, alice]')
      .concat('dev:\n  principals:\n    robot:x: {}\n    human:dave: { kind: service }\n');
    const { message, file } = failing(text);
    expectReportLine(message, file, lineOf(text, 'robot:x'), 'dev.principals.robot:x', /^invalid key: must be a principal id such as workload:deploy-bot or human:alice$/);
    expectReportLine(message, file, lineOf(text, 'dba:'), 'approvers.groups.dba[1]', /^must be a human principal id/);
    expectReportLine(message, file, lineOf(text, 'owners:'), 'targets.orders-db.owners[1]', /^must be group:<name> or human:<name>$/);
  });

  it('rejects a kind on a human dev principal and on a human issuer mapping', () => {
    const text = `${MINIMAL}dev:
  principals:
    human:dave: { kind: service }
issuers:
  - name: idp
    issuer: https://idp.example
    jwksUrl: https://idp.example/jwks
    audiences: [stint]
    principal: { type: human, kind: ci }
`;
    const { message, file } = failing(text);
    expectReportLine(message, file, lineOf(text, 'human:dave'), 'dev.principals.human:dave.kind', /^applies only to workload principals$/);
    expectReportLine(message, file, lineOf(text, 'type: human'), 'issuers[0].principal.kind', /^applies only when principal.type is workload$/);
  });

  it('names the missing environment variable of a secret reference, never a value', () => {
    const text = MINIMAL.replace('env: prod', 'env: prod\n    connection:\n      password: env:PG_PASSWORD');
    const { message, file } = failing(text, { OTHER: 'unrelated-value' });
    expectReportLine(message, file, lineOf(text, 'password:'), 'targets.orders-db.connection.password', /^environment variable PG_PASSWORD is not set$/);
  });

  it('names the missing file of a secret reference, resolved against the config folder', () => {
    const file = tempConfigPath();
    const text = MINIMAL.replace('env: prod', 'env: prod\n    connection:\n      password: file:./secrets/pg');
    const message = configError(() => parseConfig(text, file, {})).message;
    expectReportLine(message, file, lineOf(text, 'password:'), 'targets.orders-db.connection.password', new RegExp(`^secret file ${join(file, '..', 'secrets', 'pg')} does not exist$`));
  });

  it('rejects approvals no set of owners and admins could ever give, counting admins and group members once', () => {
    // Approvers of orders-db: alice, bob (group dba) and root (admin): three distinct humans.
    const possible = MINIMAL.replace('read: { maxTtl: 1h }', 'read: { maxTtl: 1h, approvals: 3 }')
      .replace('owners: [group:dba]', 'owners: [group:dba, human:alice]');
    expect(parseConfig(possible, tempConfigPath(), {}).targets['orders-db']?.roles.read?.approvals).toBe(3);

    const text = possible.replace('approvals: 3', 'approvals: 4');
    const { message, file } = failing(text);
    expectReportLine(
      message,
      file,
      lineOf(text, 'read:'),
      'targets.orders-db.roles.read.approvals',
      /^needs 4 distinct approvers but only 3 can approve \(owners and admins: human:alice, human:bob, human:root\), so such a grant could never be approved$/,
    );
  });

  it('rejects bad names of targets and roles, and a target without roles', () => {
    const text = MINIMAL.replace('  orders-db:', '  Orders_DB:').replace('read: { maxTtl: 1h }', 'Read: { maxTtl: 1h }')
      .replace('policies:', '  empty-db:\n    connector: token\n    env: dev\n    owners: [human:root]\n    roles: {}\npolicies:');
    const { message, file } = failing(text);
    expectReportLine(message, file, lineOf(text, 'Orders_DB'), 'targets.Orders_DB', /^invalid key: must be 1-63 characters: lowercase letters, digits and '-'/);
    expectReportLine(message, file, lineOf(text, 'Read:'), 'targets.Orders_DB.roles.Read', /^invalid key: must be 1-63 characters/);
    expectReportLine(message, file, lineOf(text, 'roles: {}'), 'targets.empty-db.roles', /^must have at least one entry$/);
  });

  it('checks leeway, retry backoff, business hours, time zone and the policies directory', () => {
    const text = `${MINIMAL.replace('dir: ./policies', 'dir: ./no-such-policies')}grants:
  businessHours: { timeZone: Mars/Olympus, start: 17, end: 9 }
  revokeRetry: { initial: 10m, max: 5m }
issuers:
  - name: idp
    issuer: https://idp.example
    jwksUrl: https://idp.example/jwks
    audiences: [stint]
    leeway: 6m
    principal: { type: workload }
`;
    const file = tempConfigPath();
    // The time zone is a schema error, so fix it first to reach the cross-field checks, then check it alone.
    const message = configError(() => parseConfig(text.replace('Mars/Olympus', 'Europe/Paris'), file, {})).message;
    expectReportLine(message, file, lineOf(text, 'dir:'), 'policies.dir', new RegExp(`^directory ${join(file, '..', 'no-such-policies')} does not exist$`));
    expectReportLine(message, file, lineOf(text, 'businessHours'), 'grants.businessHours.end', /^must be later than grants.businessHours.start$/);
    expectReportLine(message, file, lineOf(text, 'revokeRetry'), 'grants.revokeRetry.initial', /^must not exceed grants.revokeRetry.max$/);
    expectReportLine(message, file, lineOf(text, 'leeway'), 'issuers[0].leeway', /^must be at most 5m$/);
    expect(message.split('\n')).toHaveLength(4);

    const zone = configError(() => parseConfig(text, file, {})).message;
    expectReportLine(zone, file, lineOf(text, 'businessHours'), 'grants.businessHours.timeZone', /^must be an IANA time zone/);
  });

  it('rejects duplicate issuer names and issuer values', () => {
    const entry = (name: string): string =>
      `  - name: ${name}\n    issuer: https://same.example\n    jwksUrl: https://same.example/jwks\n    audiences: [stint]\n    principal: { type: workload }\n`;
    const text = `${MINIMAL}issuers:\n${entry('one')}${entry('one')}`;
    const { message, file } = failing(text);
    const second = text.split('\n').lastIndexOf('  - name: one') + 1;
    expectReportLine(message, file, second, 'issuers[1].name', /^repeats the name of issuers\[0\]$/);
    expectReportLine(message, file, second + 1, 'issuers[1].issuer', /^repeats the issuer of issuers\[0\]$/);
  });

  it('reports YAML syntax errors with their line and without quoting the source line', () => {
    const text = MINIMAL.replace('port: 8080', 'port: 8080\n  publicUrl: "http://u:hunter2@x');
    const file = tempConfigPath();
    const message = configError(() => parseConfig(text, file, {})).message;
    expect(message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: YAML: `, 'm'));
    expect(message).not.toContain('hunter2');
  });

  it('reports duplicate keys at the repeated key', () => {
    const text = MINIMAL.replace('  port: 8080', '  port: 8080\n  port: 9090');
    const file = tempConfigPath();
    const message = configError(() => parseConfig(text, file, {})).message;
    expect(message).toBe(`${file}:${lineOf(text, 'port: 9090')}: YAML: Map keys must be unique`);
  });

  it('says when the file does not exist, naming the path as given', async () => {
    const dir = tempDirForFile('stint-config-');
    const path = join(dir, 'nope.yaml');
    await expect(loadConfig(path, {})).rejects.toMatchObject({ code: 'config_invalid', message: `${path}: no such file` });
    await expect(loadConfig(dir, {})).rejects.toMatchObject({ code: 'config_invalid', message: `${dir}: is a directory` });
  });

  it('loads from disk and resolves relative paths against the file, not the working directory', async () => {
    const file = tempConfigPath();
    writeFileSync(file, MINIMAL);
    const config = await loadConfig(file, {});
    expect(config.source).toBe(file);
    expect(config.policyDir).toBe(join(file, '..', 'policies'));
    expect(config.store.dataDir).toBe(join(file, '..', '.stint', 'data'));
  });

  it('reports paths the operating system refuses (a NUL byte) instead of crashing', () => {
    const text = MINIMAL.replace('dir: ./policies', 'dir: "bad\\0dir"').replace('env: prod', 'env: prod\n    connection: { password: "file:bad\\0file" }');
    const { message, file } = failing(text);
    expectReportLine(message, file, lineOf(text, 'dir:'), 'policies.dir', /^directory .* cannot be read \(ERR_INVALID_ARG_VALUE\)$/);
    expectReportLine(message, file, lineOf(text, 'password:'), 'targets.orders-db.connection.password', /^secret file .* cannot be read \(ERR_INVALID_ARG_VALUE\)$/);
  });

  it('carries every problem in error.extra.errors as structured data', () => {
    const text = MINIMAL.replace('port: 8080', 'port: -1');
    const file = tempConfigPath();
    const error = configError(() => parseConfig(text, file, {}));
    expect(error.extra).toEqual({ errors: [{ file, line: lineOf(text, 'port:'), path: 'server.port', problem: 'must be >= 0' }] });
  });
});
