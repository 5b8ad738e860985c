/**
 * The audit verifier against a real store tampered with SQL (issue #2, item 12; REFERENCE.md
 * section 5: "every edit, deletion, reorder or truncation detected at the exact index").
 *
 * Per backend (PGlite and PostgreSQL) a real broker runs a few real grant lifecycles over HTTP,
 * an auditor saves the signed checkpoint with `stint audit checkpoint --out`, and the broker
 * stops. Each tampering then gets its own copy of that stopped store (PGlite: the data folder is
 * copied; PostgreSQL: `CREATE DATABASE ... TEMPLATE`), is applied with plain SQL the way someone
 * with database access would, and is checked twice: `verifyAuditLog` on the store opened with
 * `openStore`, and the built CLI `stint audit verify --checkpoint <saved> --key <vkey>` against
 * a broker restarted on the tampered store. Both must name the exact kind and the index that was
 * tampered with.
 *
 * Truncation is the exception for the CLI: the restarted broker compares its log with the
 * checkpoint file it keeps outside the database (src/service/audit-service.ts), refuses
 * readiness and refuses to sign or serve a checkpoint, so `stint audit verify` (and `stint audit
 * export`, which needs the server's checkpoint) stop with `audit_unavailable`. That refusal is
 * asserted; the CLI then verifies a JSONL dump of the tampered table, in the format `stint audit
 * export` writes, taken before the restart (the restart appends `broker.started` where the
 * deleted tail was).
 *
 * Cost: one base broker and its lifecycles per backend, then per case a copy of the stopped
 * store, two direct opens (raw SQL, then openStore), one broker start and one or two CLI runs:
 * roughly 2-4 s per case here, 7 cases per backend.
 */
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/adapters/store-sql/index.js';
import { buildAuditEntry } from '../../src/audit/event.js';
import { canonicalize } from '../../src/audit/jcs.js';
import { frontierAppend, toHex } from '../../src/audit/merkle.js';
import { verifyAuditLog, type AuditProblemKind, type AuditVerifyReport } from '../../src/audit/verify.js';
import { ManualClock } from '../../src/ports/clock.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { ADMIN_POSTGRES_URL } from '../helpers/stores.js';
import { assertBuilt, runCli, type CliRun } from '../cli/run-cli.js';

type Backend = 'pglite' | 'postgres';

/**
 * The log's checkpoint origin, pinned: by default it derives from the public URL, whose port a
 * test broker picks anew at every start, and checkpoints name their origin.
 */
const pinOrigin = (yaml: string): string =>
  /^ {2}origin: .*$/m.test(yaml)
    ? yaml.replace(/^ {2}origin: .*$/m, '  origin: stint.test/tamper')
    : yaml.replace(/^audit:\n/m, 'audit:\n  origin: stint.test/tamper\n');

/** A Monday 10:00 UTC: inside the example config's business hours. */
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
const BOT = 'workload:deploy-bot';

/** One row of audit_events as SQL returns it. */
interface EventRow {
  seq: number;
  time: number;
  type: string;
  actor: string;
  grant_id: string | null;
  canonical: string;
  leaf_hash: Uint8Array;
}

/** Plain SQL on a stopped store, bypassing Stint entirely. */
interface RawSql {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** Where one copy of the base state lives. */
interface StateCopy {
  readonly dir: string;
  readonly databaseUrl?: string;
  remove(): Promise<void>;
}

/** RFC 6962 leaf hash computed here, independently of src/audit/merkle.ts. */
const leafOf = (canonical: string): Buffer => createHash('sha256').update(Buffer.from([0])).update(canonical, 'utf8').digest();

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: ADMIN_POSTGRES_URL });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

function databaseName(url: string): string {
  return new URL(url).pathname.slice(1);
}

/** A copy of the stopped base broker's folder (keys, checkpoint file, PGlite data) and database. */
async function copyState(base: TestBroker, backend: Backend): Promise<StateCopy> {
  const dir = mkdtempSync(join(tmpdir(), 'stint-tamper-'));
  cpSync(base.dir, dir, { recursive: true });
  if (backend === 'pglite') return { dir, remove: async () => rmSync(dir, { recursive: true, force: true }) };
  const name = `${databaseName(base.databaseUrl!)}_${randomBytes(4).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${databaseName(base.databaseUrl!)}`));
  const url = new URL(base.databaseUrl!);
  url.pathname = `/${name}`;
  return {
    dir,
    databaseUrl: url.toString(),
    remove: async () => {
      await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function openRaw(backend: Backend, state: StateCopy): Promise<RawSql> {
  if (backend === 'pglite') {
    const db = await PGlite.create(join(state.dir, 'data'));
    return {
      query: async <T>(sql: string, params: unknown[] = []) => (await db.query<T>(sql, params)).rows,
      close: () => db.close(),
    };
  }
  const client = new pg.Client({ connectionString: state.databaseUrl! });
  await client.connect();
  return {
    query: async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
    close: () => client.end(),
  };
}

async function readRows(sql: RawSql): Promise<EventRow[]> {
  const rows = await sql.query<EventRow>('SELECT seq, time, type, actor, grant_id, canonical, leaf_hash FROM audit_events ORDER BY seq');
  return rows.map((r) => ({ ...r, seq: Number(r.seq), time: Number(r.time), leaf_hash: new Uint8Array(r.leaf_hash) }));
}

/** What a thorough forger does after adding or removing rows: a head that matches the rows. */
async function rewriteHead(sql: RawSql): Promise<void> {
  const rows = await readRows(sql);
  let frontier: Uint8Array[] = [];
  rows.forEach((r, i) => (frontier = frontierAppend(frontier, i, r.leaf_hash)));
  await sql.query('UPDATE audit_head SET size = $1, frontier = $2::jsonb, last_leaf = $3 WHERE id = 1', [
    rows.length,
    JSON.stringify(frontier.map(toHex)),
    toHex(rows.at(-1)!.leaf_hash),
  ]);
}

/** The entry text with another actor, still RFC 8785 canonical. */
function withActor(canonical: string, actor: string): string {
  return canonicalize({ ...(JSON.parse(canonical) as object), actor });
}

/** A tampering: applies itself with SQL and says what the verifier must report where. */
interface Tampering {
  readonly name: string;
  apply(sql: RawSql, size: number): Promise<{ index: number; kind: AuditProblemKind } | undefined>;
}

const TAMPERINGS: readonly Tampering[] = [
  {
    name: '(a) one entry edited (actor), stored leaf hash left alone',
    async apply(sql, size) {
      const k = size >> 1;
      const [row] = (await readRows(sql)).filter((r) => r.seq === k);
      await sql.query('UPDATE audit_events SET canonical = $1, actor = $2 WHERE seq = $3', [withActor(row!.canonical, 'human:mallory'), 'human:mallory', k]);
      return { index: k, kind: 'modified' };
    },
  },
  {
    name: '(b) one entry edited (actor) and its leaf hash recomputed',
    async apply(sql, size) {
      const k = size >> 1;
      const [row] = (await readRows(sql)).filter((r) => r.seq === k);
      const canonical = withActor(row!.canonical, 'human:mallory');
      await sql.query('UPDATE audit_events SET canonical = $1, actor = $2, leaf_hash = $3 WHERE seq = $4', [canonical, 'human:mallory', leafOf(canonical), k]);
      return { index: k, kind: 'modified' };
    },
  },
  {
    name: '(c) one entry deleted in the middle, nothing renumbered',
    async apply(sql, size) {
      const k = size >> 1;
      await sql.query('DELETE FROM audit_events WHERE seq = $1', [k]);
      return { index: k, kind: 'deleted' };
    },
  },
  {
    name: '(d) two entries swapped (text, hash and columns exchanged between their seqs)',
    async apply(sql, size) {
      const i = size >> 1;
      const j = i + 3;
      const rows = await readRows(sql);
      const [a, b] = [rows.find((r) => r.seq === i)!, rows.find((r) => r.seq === j)!];
      const put = (seq: number, r: EventRow): Promise<unknown> =>
        sql.query('UPDATE audit_events SET time = $1, type = $2, actor = $3, grant_id = $4, canonical = $5, leaf_hash = $6 WHERE seq = $7', [
          r.time,
          r.type,
          r.actor,
          r.grant_id,
          r.canonical,
          Buffer.from(r.leaf_hash),
          seq,
        ]);
      await put(i, b);
      await put(j, a);
      return { index: i, kind: 'reordered' };
    },
  },
  {
    name: '(e) a forged entry inserted (later rows shifted up, head rewritten to match)',
    async apply(sql, size) {
      const k = size >> 1;
      const before = (await readRows(sql)).find((r) => r.seq === k - 1)!;
      // Two steps: seq is the primary key, and a one-step "seq + 1" collides row by row.
      await sql.query('UPDATE audit_events SET seq = -seq - 2 WHERE seq >= $1', [k]);
      await sql.query('UPDATE audit_events SET seq = -seq - 1 WHERE seq < 0');
      // A well-formed entry that links to its predecessor: only its successor's link betrays it.
      const { record } = buildAuditEntry(
        { type: 'grant.approved', actor: 'human:mallory', grantId: 'g-forged', data: { approver: 'human:mallory' } },
        k,
        before.time,
        toHex(before.leaf_hash),
      );
      await sql.query('INSERT INTO audit_events (seq, time, type, actor, grant_id, canonical, leaf_hash) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
        k,
        record.time,
        record.type,
        record.actor,
        record.grantId,
        record.canonical,
        leafOf(record.canonical),
      ]);
      await rewriteHead(sql);
      return { index: k, kind: 'inserted' };
    },
  },
  {
    name: '(f) the last 3 entries truncated (head and later checkpoints rewritten to match)',
    async apply(sql, size) {
      const rows = await readRows(sql);
      const keep = rows.length - 3;
      await sql.query('DELETE FROM audit_events WHERE seq >= $1', [keep]);
      await rewriteHead(sql);
      await sql.query('DELETE FROM audit_checkpoints WHERE size > $1', [keep]);
      // Only the checkpoint saved outside (size `size`) still covers the deleted entries.
      expect(keep).toBeLessThan(size);
      return { index: keep, kind: 'truncated' };
    },
  },
  {
    name: '(g) nothing changed',
    apply: async () => undefined,
  },
];

/** Problems found at one entry (the others cover a range of entries or a checkpoint). */
const ROW_KINDS: ReadonlySet<AuditProblemKind> = new Set(['modified', 'inserted', 'deleted', 'reordered', 'non_canonical', 'broken_chain']);

function expectFinding(report: AuditVerifyReport, expected: { index: number; kind: AuditProblemKind }): void {
  const problems = JSON.stringify(report.problems);
  expect(report.ok).toBe(false);
  expect(report.firstBadIndex, problems).toBe(expected.index);
  expect(
    report.problems.filter((p) => p.index === expected.index).map((p) => p.kind),
    problems,
  ).toContain(expected.kind);
  // No entry before the tampered one is blamed. (A root or checkpoint problem names the start
  // of a range, or no entry at all: firstBadIndex above already weighs those.)
  for (const p of report.problems) if (ROW_KINDS.has(p.kind)) expect(p.index, problems).toBeGreaterThanOrEqual(expected.index);
}

function expectCliFailure(run: CliRun, expected: { index: number; kind: AuditProblemKind }): void {
  const out = `${run.stdout}${run.stderr}`;
  expect(run.code, out).toBe(1);
  expect(run.stdout).toMatch(new RegExp(`^${expected.kind} at index ${expected.index}: `, 'm'));
  expect(run.stdout.trimEnd().split('\n').at(-1), out).toBe(`FAIL: first bad index ${expected.index}`);
}

describe.each<Backend>(['pglite', 'postgres'])('the audit verifier on a real %s store tampered with SQL', (backend) => {
  let base: TestBroker;
  let savedCheckpoint: string;
  let verifierKey: string;
  let origin: string;
  /** Entries the saved checkpoint covers. */
  let checkpointSize: number;

  beforeAll(async () => {
    assertBuilt();
    base = await startTestBroker({ store: backend, clock: new ManualClock(T0), configPatch: pinOrigin });
    const call = async (who: string, method: string, path: string, body?: unknown): Promise<any> => {
      const res = await base.call(who, method, path, body);
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
      return res.body;
    };
    const request = (role: string, extra: object = {}): Promise<any> =>
      call(BOT, 'POST', '/v1/grants', { target: 'orders-db', role, task: 'tamper test', reason: 'issue #2', ttl: '15m', ...extra });
    for (let round = 0; round < 2; round++) {
      const read = await request('read');
      expect(read.grant.status).toBe('active');
      await call(BOT, 'POST', `/v1/grants/${read.grant.id}/complete`, { note: 'done' });
      const write = await request('write', { ticket: `CHG-${round}` });
      expect(write.grant.status).toBe('pending_approval');
      await call('human:alice', 'POST', `/v1/grants/${write.grant.id}/approve`, { reason: 'ticket checked' });
      await call('human:bob', 'POST', `/v1/grants/${write.grant.id}/approve`, {});
      expect((await call(BOT, 'POST', `/v1/grants/${write.grant.id}/activate`, {})).grant.status).toBe('active');
      expect((await request('write')).grant.status).toBe('denied');
    }
    savedCheckpoint = join(base.dir, 'saved-checkpoint.txt');
    const saved = await runCli(['--json', 'audit', 'checkpoint', '--out', savedCheckpoint], {
      url: base.url,
      token: await base.tokenFor('human:audrey'),
      cwd: base.dir,
    });
    expect(saved.code, saved.stderr).toBe(0);
    ({ verifierKey, origin, size: checkpointSize } = JSON.parse(saved.stdout) as { verifierKey: string; origin: string; size: number });
    expect(origin).toBe('stint.test/tamper');
    const served = await base.call('human:audrey', 'GET', '/v1/audit/checkpoint');
    expect(served.body).toMatchObject({ size: checkpointSize, verifierKey, note: await readFile(savedCheckpoint, 'utf8') });
    expect(checkpointSize).toBeGreaterThanOrEqual(30);
    await base.stop();
  }, 60_000);

  afterAll(async () => {
    await base?.cleanup();
  });

  it.each(TAMPERINGS.map((t) => [t.name, t] as const))('%s', async (_name, tampering) => {
    const state = await copyState(base, backend);
    let restarted: TestBroker | undefined;
    try {
      const sql = await openRaw(backend, state);
      let expected: { index: number; kind: AuditProblemKind } | undefined;
      try {
        // The stopped broker appended broker.stopped after the saved checkpoint.
        expect((await readRows(sql)).length).toBe(checkpointSize + 1);
        expected = await tampering.apply(sql, checkpointSize);
      } finally {
        await sql.close();
      }

      const store = await openStore(backend === 'pglite' ? { kind: 'pglite', dataDir: join(state.dir, 'data') } : { kind: 'postgres', url: state.databaseUrl! });
      let dump: string;
      try {
        const report = await verifyAuditLog(store, { checkpoints: [await readFile(savedCheckpoint, 'utf8')], verifierKey, origin });
        expect(report.checkpointsChecked).toBe(1);
        if (expected === undefined) {
          expect(report.problems).toEqual([]);
          expect(report.ok).toBe(true);
        } else {
          expectFinding(report, expected);
        }
        // What `stint audit export` writes, for the CLI's offline check below.
        const records = await store.readAudit(0, 10_000);
        dump = records.map((r) => `${JSON.stringify(r)}\n`).join('');
      } finally {
        await store.close();
      }

      restarted = await startTestBroker({
        store: backend,
        clock: new ManualClock(T0 + 60_000),
        configPatch: pinOrigin,
        dir: state.dir,
        ...(state.databaseUrl ? { databaseUrl: state.databaseUrl } : {}),
      });
      // A token from the restarted broker's dev issuer (its issuer URL names its port).
      const token = await restarted.tokenFor('human:audrey');
      const live = await runCli(['audit', 'verify', '--checkpoint', savedCheckpoint, '--key', verifierKey], { url: restarted.url, token, cwd: state.dir });
      if (expected === undefined) {
        expect(live, live.stdout).toMatchObject({ code: 0, stderr: '' });
        expect(live.stdout.trimEnd().split('\n').at(-1)).toMatch(/^OK: \d+ events, root [0-9a-f]{64}, 2 checkpoints consistent$/);
      } else if (expected.kind !== 'truncated') {
        expectCliFailure(live, expected);
      } else {
        // The broker's own checkpoint file (outside the database) covers more than the log holds.
        expect((await restarted.call(null, 'GET', '/readyz')).status).toBe(503);
        expect(live.code).toBe(1);
        expect(live.stderr).toMatch(/^stint: audit_unavailable: audit log has \d+ entries but a signed checkpoint covers \d+/);
        const file = join(state.dir, 'tampered.jsonl');
        await writeFile(file, dump);
        const offline = await runCli(['audit', 'verify', '--from-file', file, '--checkpoint', savedCheckpoint, '--key', verifierKey], { cwd: state.dir });
        expectCliFailure(offline, expected);
      }
    } finally {
      await restarted?.stop();
      await state.remove();
    }
  }, 60_000);
});
