/**
 * The `stint` CLI end to end: the built executable against a real broker (example config,
 * PGlite, real policies, real tokens). Exit codes and output are what pipelines rely on.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StintClient } from '../../src/client/index.js';
import type { GrantJson } from '../../src/client/types.js';
import type { AuditRecord } from '../../src/core/events.js';
import { startTestBroker, writeTestConfig, type TestBroker } from '../helpers/broker.js';
import { assertBuilt, runCli, startCli, type CliRun } from './run-cli.js';

let tb: TestBroker;
let bot: string;
let alice: string;
let bob: string;
let audrey: string;

beforeAll(async () => {
  assertBuilt();
  tb = await startTestBroker();
  bot = await tb.tokenFor('workload:deploy-bot');
  alice = await tb.tokenFor('human:alice');
  bob = await tb.tokenFor('human:bob');
  audrey = await tb.tokenFor('human:audrey');
});
afterAll(async () => {
  await tb?.cleanup();
});

const stint = (args: readonly string[], token?: string): Promise<CliRun> => runCli(args, { url: tb.url, cwd: tb.dir, ...(token !== undefined ? { token } : {}) });

/** The next audit event of `type` the broker publishes. */
function nextEvent(type: string): Promise<AuditRecord> {
  return new Promise((resolve) => {
    const listener = (r: AuditRecord): void => {
      if (r.type !== type) return;
      tb.broker.bus.off('event', listener);
      resolve(r);
    };
    tb.broker.bus.on('event', listener);
  });
}

/** One line on stderr, nothing else. */
function expectOneLineError(run: CliRun, pattern: RegExp): void {
  expect(run.stderr.endsWith('\n')).toBe(true);
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(run.stderr.trimEnd()).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

const WRITE_REQUEST = ['request', '--target', 'orders-db', '--role', 'write', '--task', 'run migration 42', '--reason', 'release 1.2', '--ttl', '15m'];

describe('stint against a real broker', () => {
  it('mints a dev token, gets an auto-approved grant with a live access token, shows it and completes it', async () => {
    // No --config: the broker's folder holds stint.yaml, which wins over the packaged example.
    const minted = await stint(['token', '--as', 'workload:deploy-bot']);
    expect(minted).toMatchObject({ code: 0, stderr: '' });
    const token = minted.stdout.trim();
    expect(minted.stdout).toBe(`${token}\n`);
    expect(token.split('.')).toHaveLength(3);

    const requested = await stint(['request', '--target', 'orders-db', '--role', 'read', '--task', 'weekly report', '--reason', 'finance asked', '--ttl', '15m'], token);
    expect(requested).toMatchObject({ code: 0, stderr: '' });
    expect(requested.stdout).toMatch(/^status\s+active$/m);
    expect(requested.stdout).toMatch(/^decision\s+auto by auto-read$/m);
    const accessToken = /^access_token: (\S+)$/m.exec(requested.stdout)?.[1];
    const id = /^grant\s+(\S+)$/m.exec(requested.stdout)?.[1];
    expect(accessToken).toBeDefined();
    const client = new StintClient({ baseUrl: tb.url, token });
    await expect(client.introspect(accessToken!)).resolves.toMatchObject({ active: true, jti: id, sub: 'workload:deploy-bot' });

    const shown = await stint(['show', id!], token);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^status\s+active$/m);
    expect(shown.stdout).toMatch(/^task\s+weekly report$/m);
    expect(shown.stdout).toMatch(/^credential\s+issued/m);
    expect(shown.stdout).not.toContain(accessToken!);

    const completed = await stint(['complete', id!, '--note', 'report sent'], token);
    expect(completed).toMatchObject({ code: 0, stderr: '' });
    expect(completed.stdout).toMatch(/^status\s+completed$/m);
    await expect(client.introspect(accessToken!)).resolves.toEqual({ active: false });
    const after = await stint(['show', id!], token);
    expect(after.stdout).toMatch(/^ended\s+.* by workload:deploy-bot \(completed\)$/m);
    expect(after.stdout).toMatch(/^revocation evidence: verified/m);
  });

  it('--wait blocks until two owners approve, then activates and prints the access token (exit 0)', async () => {
    const pending = nextEvent('grant.pending');
    const waiting = startCli([...WRITE_REQUEST, '--ticket', 'CHG-7', '--wait', '--wait-timeout', '1m', '--poll-interval', '1s', '--json'], { url: tb.url, token: bot });
    const id = (await pending).grantId!;

    const first = await stint(['approve', id, '--reason', 'ticket checked'], alice);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^status\s+pending_approval \(1\/2 approvals\)$/m);
    const again = await stint(['approve', id], alice);
    expect(again.code).toBe(1);
    expectOneLineError(again, /^stint: already_decided: /);
    const self = await stint(['approve', id], bot);
    expect(self.code).toBe(4);
    expectOneLineError(self, /^stint: self_approval: /);
    expect((await stint(['approve', id], bob)).code).toBe(0);

    const run = await waiting.done;
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const out = JSON.parse(run.stdout) as { outcome: string; grant: GrantJson; accessToken: string };
    expect(out.outcome).toBe('active');
    expect(out.grant).toMatchObject({ id, status: 'active' });
    expect(out.grant.approvals.map((a) => a.approver).sort()).toEqual(['human:alice', 'human:bob']);
    await expect(new StintClient({ baseUrl: tb.url, token: bot }).introspect(out.accessToken)).resolves.toMatchObject({ active: true, jti: id });
  });

  it('exits 2 when policy denies a request and when an owner denies a waited-for one', async () => {
    const byPolicy = await stint(WRITE_REQUEST, bot);
    expect(byPolicy.code).toBe(2);
    expect(byPolicy.stdout).toMatch(/^status\s+denied$/m);
    expectOneLineError(byPolicy, /^stint: grant \S+ was denied by policy: no policy permits this request$/);

    const pending = nextEvent('grant.pending');
    const waiting = startCli([...WRITE_REQUEST, '--ticket', 'CHG-8', '--wait', '--poll-interval', '1s'], { url: tb.url, token: bot });
    const id = (await pending).grantId!;
    const denied = await stint(['deny', id, '--reason', 'not during the freeze'], alice);
    expect(denied.code).toBe(0);
    const run = await waiting.done;
    expect(run.code).toBe(2);
    expect(run.stdout).not.toContain('access_token');
    expectOneLineError(run, new RegExp(`^stint: grant ${id} was denied by human:alice \\(not during the freeze\\)$`));
  });

  it('exits 3 when waiting times out', async () => {
    const run = await stint([...WRITE_REQUEST, '--ticket', 'CHG-9', '--wait', '--wait-timeout', '1s', '--poll-interval', '1s'], bot);
    expect(run.code).toBe(3);
    expectOneLineError(run, /^stint: timed out after 1s waiting for grant \S+ \(still pending_approval\)$/);
  });

  it('reports usage errors, unknown grants and bad tokens as one line with their exit code, never the token', async () => {
    const badFlag = await stint(['grants', '--bogus'], bot);
    expect(badFlag).toMatchObject({ code: 1, stdout: '' });
    expectOneLineError(badFlag, /^stint: unknown option '--bogus'/);

    const badTtl = await stint(['request', '--target', 'orders-db', '--role', 'read', '--task', 't', '--reason', 'r', '--ttl', 'soon'], bot);
    expect(badTtl.code).toBe(1);
    expectOneLineError(badTtl, /^stint: option '--ttl <duration>' argument 'soon' is invalid/);

    const unknown = await stint(['show', 'g00000000000000000000000000000000'], bot);
    expect(unknown.code).toBe(1);
    expectOneLineError(unknown, /^stint: grant_not_found: /);

    const forged = `${bot.slice(0, -4)}AAAA`;
    const rejected = await stint(['grants'], forged);
    expect(rejected.code).toBe(4);
    expectOneLineError(rejected, /^stint: unauthenticated: /);
    expect(rejected.stderr + rejected.stdout).not.toContain(forged.slice(0, 40));

    const missing = await stint(['grants']);
    expect(missing.code).toBe(4);
    expectOneLineError(missing, /^stint: no identity token: /);
  });

  it('flags a break-glass grant for review until an admin reviews it', async () => {
    const root = await tb.tokenFor('human:root');
    const emergency = await stint(['--json', 'request', '--target', 'orders-db', '--role', 'read', '--task', 'inspect stuck orders', '--reason', 'INC-42 outage', '--ttl', '10m', '--break-glass'], bot);
    expect(emergency.code).toBe(0);
    const { grant } = JSON.parse(emergency.stdout) as { grant: GrantJson };
    expect(grant).toMatchObject({ status: 'active', breakGlass: true, needsReview: true });

    const due = await stint(['grants', '--needs-review'], root);
    expect(due.stdout).toMatch(new RegExp(`^${grant.id}\\s+active\\s+workload:deploy-bot\\s+orders-db/read\\s+10m\\s+expires in .*\\s+BG REVIEW$`, 'm'));
    const reviewed = await stint(['review', grant.id, '--outcome', 'justified', '--notes', 'outage confirmed'], root);
    expect(reviewed.code).toBe(0);
    expect((await stint(['show', grant.id], root)).stdout).toMatch(/^review\s+justified by human:root, .*: outage confirmed$/m);
    expect((await stint(['grants', '--needs-review'], root)).stdout).toBe('no grants\n');
    const badOutcome = await stint(['review', grant.id, '--outcome', 'fine', '--notes', 'x'], root);
    expect(badOutcome.code).toBe(1);
    expectOneLineError(badOutcome, /^stint: option '--outcome <outcome>' argument 'fine' is invalid/);
  });

  it('lists grants as a table with flags, and as JSON', async () => {
    const table = await stint(['grants', '--principal', 'workload:deploy-bot', '--all'], audrey);
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+STATUS\s+PRINCIPAL\s+TARGET\/ROLE\s+TTL\s+EXPIRES\/ENDED\s+FLAGS$/);
    expect(rows.length).toBeGreaterThanOrEqual(5);
    expect(rows.some((r) => /\sactive\s+workload:deploy-bot\s+orders-db\/write\s+15m\s+expires in /.test(r))).toBe(true);

    const json = await stint(['--json', 'grants', '--status', 'denied', '--limit', '1', '--all'], audrey);
    expect(json.code).toBe(0);
    const page = JSON.parse(json.stdout) as { items: GrantJson[]; nextCursor?: string };
    // --all follows the cursor past the one-grant pages.
    expect(page.items.map((g) => g.status)).toEqual(['denied', 'denied']);
    expect(page.nextCursor).toBeUndefined();
  });

  it('verifies the live audit log, an export of it, and catches an edited export at its index', async () => {
    const live = await stint(['audit', 'verify'], audrey);
    expect(live).toMatchObject({ code: 0, stderr: '' });
    expect(live.stdout).toContain('only as trustworthy as the server');
    expect(live.stdout.trimEnd().split('\n').at(-1)).toMatch(/^OK: \d+ events, root [0-9a-f]{64}, 1 checkpoints consistent$/);

    const file = join(tb.dir, 'audit.jsonl');
    const exported = await stint(['audit', 'export', '--out', file], audrey);
    expect(exported.code).toBe(0);
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    expect(exported.stdout).toContain(`wrote ${lines.length} events to ${file}`);
    for (const line of lines) expect(JSON.parse(line)).toHaveProperty('canonical');
    const note = await readFile(`${file}.checkpoint`, 'utf8');
    expect(note.split('\n')[1]).toBe(String(lines.length));

    const checkpoint = JSON.parse((await stint(['--json', 'audit', 'checkpoint'], audrey)).stdout) as { verifierKey: string };
    // Offline: no token, no server; the key the user kept.
    const offline = await stint(['audit', 'verify', '--from-file', file, '--key', checkpoint.verifierKey]);
    expect(offline).toMatchObject({ code: 0, stderr: '' });
    expect(offline.stdout).not.toContain('only as trustworthy');
    expect(offline.stdout).toMatch(new RegExp(`^OK: ${lines.length} events, root [0-9a-f]{64}, 1 checkpoints consistent$`, 'm'));

    const tampered = join(tb.dir, 'tampered.jsonl');
    await writeFile(tampered, `${lines.filter((_, i) => i !== 3).join('\n')}\n`);
    const caught = await stint(['audit', 'verify', '--from-file', tampered, '--key', checkpoint.verifierKey, '--checkpoint', `${file}.checkpoint`]);
    expect(caught.code).toBe(1);
    expect(caught.stdout).toMatch(/^deleted at index 3: /m);
    expect(caught.stdout.trimEnd().split('\n').at(-1)).toBe('FAIL: first bad index 3');

    const wrongKey = await stint(['audit', 'verify', '--from-file', file, '--key', 'other+00000000+AboQzspoXRiX26PkgI6QzTfxDZxObTWJWETlDB9rfZQi']);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stdout).toMatch(/^bad_checkpoint at checkpoint .*audit\.jsonl\.checkpoint: /m);
  });

  it('prints parseable JSON for --json', async () => {
    const grants = JSON.parse((await stint(['--json', 'grants'], bot)).stdout) as { items: GrantJson[] };
    const id = grants.items[0]!.id;
    expect(JSON.parse((await stint(['--json', 'show', id], bot)).stdout)).toMatchObject({ id });
    const requested = await stint(['--json', 'request', '--target', 'reports-db', '--role', 'read', '--task', 't', '--reason', 'r', '--ttl', '5m'], bot);
    expect(JSON.parse(requested.stdout)).toMatchObject({ grant: { status: 'active', target: 'reports-db' }, accessToken: expect.any(String) });
    const verified = JSON.parse((await stint(['--json', 'audit', 'verify'], audrey)).stdout) as { ok: boolean; keySource: string };
    expect(verified).toMatchObject({ ok: true, keySource: 'server', problems: [] });
  });
});

describe('stint serve', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stint-serve-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts a broker, prints first steps that work as printed, and stops cleanly on SIGTERM', { timeout: 120_000 }, async () => {
    const config = await writeTestConfig(dir);
    const server = startCli(['--config', config, 'serve', '--port', '0']);
    const banner = await server.stdoutContains('Stop with Ctrl-C.');
    const url = /stint: listening on (http:\/\/\S+)/.exec(banner)?.[1];
    expect(url).toBeDefined();
    expect(banner).toContain('dev mode is ON');
    expect(banner).toContain(`export STINT_URL=${url}`);
    const tokenStep = /export STINT_TOKEN=\$\(npx stint (.+)\)$/m.exec(banner)?.[1];
    expect(tokenStep).toBe(`--config ${config} token --as workload:deploy-bot`);
    const requestStep = /^ {2}npx stint (request .+)$/m.exec(banner)?.[1];
    expect(requestStep).toBe("request --target orders-db --role read --task 'try stint' --reason 'first steps' --ttl 15m");

    const token = (await runCli(tokenStep!.split(' '))).stdout.trim();
    const granted = await runCli(['request', '--target', 'orders-db', '--role', 'read', '--task', 'try stint', '--reason', 'first steps', '--ttl', '15m'], { url: url!, token });
    expect(granted.code).toBe(0);
    expect(granted.stdout).toMatch(/^access_token: /m);

    server.child.kill('SIGTERM');
    const end = await server.done;
    expect(end.code).toBe(0);
    expect(end.stdout).toContain('stint: stopped');
  });
});
