/**
 * `stint audit verify --store`: the log read from the store itself, without a broker in between
 * (issue #2, item 7 and item 13). On PGlite the directory of a stopped `stint serve`; on
 * PostgreSQL the database a broker is using at that moment. Tampering with the stored rows is
 * caught at its index; bad `--store` values fail with one line and touch nothing.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgliteDriver } from '../../src/adapters/store-sql/pglite.js';
import { startTestBroker, writeTestConfig } from '../helpers/broker.js';
import { assertBuilt, runCli, startCli, type CliRun } from './run-cli.js';

/** One line on stderr, nothing else. */
function expectOneLineError(run: CliRun, pattern: RegExp): void {
  expect(run.code).not.toBe(0);
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(run.stderr.trimEnd()).toMatch(pattern);
  expect(run.stdout).toBe('');
}

const OK_LINE = /^OK: (\d+) events, root [0-9a-f]{64}, (\d+) checkpoints consistent$/m;

describe('stint audit verify --store', () => {
  let dir: string;
  beforeAll(async () => {
    assertBuilt();
    dir = await mkdtemp(join(tmpdir(), 'stint-audit-store-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('verifies a stopped broker\'s PGlite directory, refuses it while the broker runs, and catches a changed row', { timeout: 120_000 }, async () => {
    const config = await writeTestConfig(dir);
    const dataDir = join(dir, 'data');
    const server = startCli(['--config', config, 'serve', '--port', '0']);
    const url = /stint: listening on (http:\/\/\S+)/.exec(await server.stdoutContains('Stop with Ctrl-C.'))?.[1];
    expect(url).toBeDefined();
    const bot = (await runCli(['--config', config, 'token', '--as', 'workload:deploy-bot'])).stdout.trim();
    const audrey = (await runCli(['--config', config, 'token', '--as', 'human:audrey'])).stdout.trim();
    const granted = await runCli(['request', '--target', 'orders-db', '--role', 'read', '--task', 'quarterly audit', '--reason', 'auditors asked', '--ttl', '15m'], { url: url!, token: bot });
    expect(granted.code).toBe(0);
    const { verifierKey } = JSON.parse((await runCli(['--json', 'audit', 'checkpoint'], { url: url!, token: audrey })).stdout) as { verifierKey: string };

    // The broker holds the directory: refused with the lock's reason, nothing opened or changed.
    const locked = await runCli(['audit', 'verify', '--store', dataDir, '--key', verifierKey]);
    expectOneLineError(locked, /^stint: store_locked: /);

    server.child.kill('SIGTERM');
    expect((await server.done).code).toBe(0);

    // No server, no token: the directory and the key the auditor kept.
    const clean = await runCli(['audit', 'verify', '--store', dataDir, '--key', verifierKey]);
    expect(clean).toMatchObject({ code: 0, stderr: '' });
    expect(clean.stdout).toContain("the store's latest checkpoint");
    expect(clean.stdout).not.toContain('only as trustworthy as the server');
    const [, events, consistent] = OK_LINE.exec(clean.stdout) ?? [];
    expect(Number(events)).toBeGreaterThan(4);
    expect(Number(consistent)).toBe(1);

    // The grant's request event, edited in place in the store.
    const driver = await openPgliteDriver(dataDir);
    let seq: number;
    try {
      const rows = await driver.query(`SELECT seq FROM audit_events WHERE type = 'grant.requested' AND canonical LIKE '%quarterly audit%'`);
      seq = Number(rows[0]!.seq);
      await driver.query(`UPDATE audit_events SET canonical = replace(canonical, 'quarterly audit', 'quarterly AUDIT') WHERE seq = $1`, [seq]);
    } finally {
      await driver.close();
    }
    const caught = await runCli(['--json', 'audit', 'verify', '--store', dataDir, '--key', verifierKey]);
    expect(caught.code).toBe(1);
    const report = JSON.parse(caught.stdout) as { ok: boolean; firstBadIndex: number; problems: { kind: string; index: number }[] };
    expect(report).toMatchObject({ ok: false, firstBadIndex: seq });
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'modified', index: seq }));
  });

  it('fails with one line, and creates nothing, on a bad --store or a missing key', async () => {
    const missing = join(dir, 'no-such-dir');
    expectOneLineError(await runCli(['audit', 'verify', '--store', missing, '--key', 'k+00000000+AAAA']), /^stint: --store .*no-such-dir: not a PGlite data directory/);
    expect(existsSync(missing)).toBe(false);
    const empty = await mkdtemp(join(dir, 'empty-'));
    expectOneLineError(await runCli(['audit', 'verify', '--store', empty, '--key', 'k+00000000+AAAA']), /not a PGlite data directory/);
    expect(await readdir(empty)).toEqual([]);
    expectOneLineError(await runCli(['audit', 'verify', '--store', 'env:STINT_TEST_NOT_SET_ANYWHERE', '--key', 'k+00000000+AAAA']), /^stint: --store env:STINT_TEST_NOT_SET_ANYWHERE: environment variable STINT_TEST_NOT_SET_ANYWHERE is not set$/);
    const notUrl = join(dir, 'not-a-url.txt');
    await writeFile(notUrl, 'mysql://somewhere\n');
    expectOneLineError(await runCli(['audit', 'verify', '--store', `file:${notUrl}`, '--key', 'k+00000000+AAAA']), /: does not hold a postgres:\/\/ URL$/);
    expectOneLineError(await runCli(['audit', 'verify', '--store', `file:${join(dir, 'absent.txt')}`, '--key', 'k+00000000+AAAA']), /secret file .*absent\.txt does not exist$/);
    expectOneLineError(await runCli(['audit', 'verify', '--store', join(dir, 'data')]), /^stint: verifying a store needs the verifier key: pass --key/);
    expectOneLineError(await runCli(['audit', 'verify', '--store', join(dir, 'data'), '--from-file', 'x.jsonl', '--key', 'k+00000000+AAAA']), /two sources of the log: pass one/);
  });

  it('verifies the PostgreSQL database a running broker uses, named by an environment variable', { timeout: 60_000 }, async () => {
    const tb = await startTestBroker({ store: 'postgres' });
    try {
      const bot = await tb.tokenFor('workload:deploy-bot');
      const audrey = await tb.tokenFor('human:audrey');
      expect((await runCli(['request', '--target', 'orders-db', '--role', 'read', '--task', 'pg audit', '--reason', 'r', '--ttl', '5m'], { url: tb.url, token: bot })).code).toBe(0);
      const checkpoint = await runCli(['--json', 'audit', 'checkpoint'], { url: tb.url, token: audrey });
      const { verifierKey } = JSON.parse(checkpoint.stdout) as { verifierKey: string };
      const run = await runCli(['audit', 'verify', '--store', 'env:STINT_TEST_VERIFY_DATABASE_URL', '--key', verifierKey], {
        env: { STINT_TEST_VERIFY_DATABASE_URL: tb.databaseUrl! },
      });
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toMatch(OK_LINE);
      // The URL (and its password, if any) is never printed.
      expect(run.stdout).not.toContain(tb.databaseUrl!);
    } finally {
      await tb.cleanup();
    }
  });
});
