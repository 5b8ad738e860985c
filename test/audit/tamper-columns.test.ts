/**
 * Every stored column of audit_events tampered with plain SQL on a real store (PGlite on disk
 * and PostgreSQL), and verified twice: through the store itself, which `verifyAuditLog` reads in
 * packed batches (src/audit/packed-batch.ts, issue #2 item 13), and through `readAudit` alone,
 * row by row, the path the packed reads must never differ from. Both reports must be equal and
 * name the tampered index and kind. Several tamperings put the packing's separator characters
 * into a column, so the packed batch cannot be decoded and that batch is read row by row.
 *
 * A third run checks the same store with the built `verifyAuditLogInWorker` (dist/, as the CLI
 * and the benchmark run it: Node starts no worker from TypeScript), whose worker thread decodes
 * the packed batches and must report the same.
 *
 * The log spans several verifier batches (batch size 100) and the tampered entry sits inside
 * one, so the packed batches before and after it decode as usual.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/adapters/store-sql/index.js';
import { frontierRoot, fromHex } from '../../src/audit/merkle.js';
import { createCheckpointSigner, formatCheckpointBody } from '../../src/audit/signed-note.js';
import { verifyAuditLog, type AuditProblemKind, type AuditVerifyReport } from '../../src/audit/verify.js';
import { EVENT_TYPES, type AuditEventInput } from '../../src/core/events.js';
import type { Store } from '../../src/ports/store.js';
import { createTestDatabase, freshPgliteDataDir } from '../helpers/stores.js';
import { assertBuilt } from '../cli/run-cli.js';

/** The built worker-thread verifier (dist/audit/verify-parallel.js). */
type VerifyInWorker = typeof import('../../src/audit/verify-parallel.js').verifyAuditLogInWorker;
let verifyInWorker: VerifyInWorker;

type Backend = 'pglite' | 'postgres';

const ORIGIN = 'stint.test/columns';
const signer = createCheckpointSigner(ORIGIN, generateKeyPairSync('ed25519').privateKey);
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
/** Entries in the log, and the verifier's batch size: the log spans several batches. */
const SIZE = 450;
const BATCH = 100;
/** The tampered entry: inside the third batch. */
const K = 238;

/** Plain SQL on the stopped store. */
interface RawSql {
  query(sql: string, params?: unknown[]): Promise<unknown>;
  close(): Promise<void>;
}

/** A store holding SIZE entries, and how to tamper with it behind its back. */
interface TamperableStore {
  /** Closes nothing on PostgreSQL; on PGlite the store must be closed first (one connection). */
  raw(): Promise<RawSql>;
  open(): Promise<Store>;
  cleanup(): Promise<void>;
}

async function tamperableStore(backend: Backend): Promise<TamperableStore> {
  if (backend === 'pglite') {
    const dir = await freshPgliteDataDir();
    return {
      raw: async () => {
        const db = await PGlite.create(dir.dataDir);
        return { query: (sql, params = []) => db.query(sql, params), close: () => db.close() };
      },
      open: () => openStore({ kind: 'pglite', dataDir: dir.dataDir }),
      cleanup: async () => dir.cleanup(),
    };
  }
  const db = await createTestDatabase();
  return {
    raw: async () => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      return { query: (sql, params = []) => client.query(sql, params), close: () => client.end() };
    },
    open: () => openStore({ kind: 'postgres', url: db.url }),
    cleanup: () => db.drop(),
  };
}

function inputFor(n: number): AuditEventInput {
  return {
    type: EVENT_TYPES[n % EVENT_TYPES.length]!,
    actor: n % 3 === 0 ? 'system' : `workload:ci-${n % 7}`,
    ...(n % 2 === 0 ? { grantId: `g-${n >> 1}` } : {}),
    ...(n % 5 === 0 ? { tenant: 'acme' } : {}),
    data: { n, reason: n % 11 === 0 ? 'said "why" \\ twice' : 'routine', list: [n, 'é', null] },
  };
}

const leafOf = (canonical: string): Buffer => createHash('sha256').update(Buffer.from([0])).update(canonical, 'utf8').digest();

interface Case {
  readonly name: string;
  /** The SQL tampering; K is an even seq, so its entry has a grant id. */
  readonly apply: (sql: RawSql) => Promise<unknown>;
  readonly expected: { index: number; kind: AuditProblemKind };
}

const CASES: readonly Case[] = [
  { name: 'time', apply: (sql) => sql.query('UPDATE audit_events SET time = time + 1 WHERE seq = $1', [K]), expected: { index: K, kind: 'modified' } },
  { name: 'type', apply: (sql) => sql.query(`UPDATE audit_events SET type = 'grant.revoked' WHERE seq = $1`, [K]), expected: { index: K, kind: 'modified' } },
  { name: 'actor', apply: (sql) => sql.query(`UPDATE audit_events SET actor = 'human:mallory' WHERE seq = $1`, [K]), expected: { index: K, kind: 'modified' } },
  {
    name: 'actor holding a packing separator',
    apply: (sql) => sql.query(`UPDATE audit_events SET actor = actor || chr(1) WHERE seq = $1`, [K]),
    expected: { index: K, kind: 'modified' },
  },
  { name: 'grant_id set to NULL', apply: (sql) => sql.query('UPDATE audit_events SET grant_id = NULL WHERE seq = $1', [K]), expected: { index: K, kind: 'modified' } },
  { name: 'grant_id set to empty', apply: (sql) => sql.query(`UPDATE audit_events SET grant_id = '' WHERE seq = $1`, [K]), expected: { index: K, kind: 'modified' } },
  {
    name: 'grant_id given to an entry without one',
    apply: (sql) => sql.query(`UPDATE audit_events SET grant_id = 'g-forged' WHERE seq = $1`, [K + 1]),
    expected: { index: K + 1, kind: 'modified' },
  },
  {
    name: 'grant_id holding a packing separator',
    apply: (sql) => sql.query(`UPDATE audit_events SET grant_id = grant_id || chr(2) || 'x' WHERE seq = $1`, [K]),
    expected: { index: K, kind: 'modified' },
  },
  {
    name: 'type holding a packing separator',
    apply: (sql) => sql.query(`UPDATE audit_events SET type = chr(1) || type WHERE seq = $1`, [K]),
    expected: { index: K, kind: 'modified' },
  },
  {
    name: 'leaf_hash one byte short',
    apply: (sql) => sql.query('UPDATE audit_events SET leaf_hash = substring(leaf_hash from 1 for 31) WHERE seq = $1', [K]),
    expected: { index: K, kind: 'modified' },
  },
  {
    name: 'leaf_hash bytes shifted into the next entry (the concatenation stays the same)',
    apply: async (sql) => {
      await sql.query(
        `UPDATE audit_events SET leaf_hash = substring(leaf_hash from 1 for 31) WHERE seq = $1`,
        [K],
      );
      // The byte taken from entry K goes in front of entry K+1's hash.
      await sql.query(
        `UPDATE audit_events SET leaf_hash = (SELECT substring(leaf_hash from 32 for 1) FROM audit_events WHERE seq = $1) || leaf_hash WHERE seq = $2`,
        [K - 1, K + 1],
      );
    },
    expected: { index: K, kind: 'modified' },
  },
  {
    name: 'canonical edited, leaf hash recomputed, text holding a packing separator',
    apply: async (sql) => {
      // A row-separator inside the text: the packed batch would split into one text too many.
      const edited = `{"actor":"system","data":{"x":"\u0002"},"prev":"","seq":${K},"time":${T0},"type":"grant.revoked"}`;
      await sql.query('UPDATE audit_events SET canonical = $1, leaf_hash = $2 WHERE seq = $3', [edited, leafOf(edited), K]);
    },
    expected: { index: K, kind: 'non_canonical' },
  },
  {
    name: 'seq: one entry moved to the end of the log',
    apply: (sql) => sql.query('UPDATE audit_events SET seq = $1 WHERE seq = $2', [SIZE, K]),
    expected: { index: K, kind: 'reordered' },
  },
  {
    name: 'seq: the last entry renumbered, leaving a gap (the rows still read in order)',
    apply: (sql) => sql.query('UPDATE audit_events SET seq = $1 WHERE seq = $2', [SIZE + 7, SIZE - 1]),
    expected: { index: SIZE - 1, kind: 'modified' },
  },
  {
    name: 'seq: a gap (one entry deleted)',
    apply: (sql) => sql.query('DELETE FROM audit_events WHERE seq = $1', [K]),
    expected: { index: K, kind: 'deleted' },
  },
];

/** The report without its timing, which differs between two runs. */
function comparable(report: AuditVerifyReport): Omit<AuditVerifyReport, 'eventsPerSecond'> {
  const { eventsPerSecond: _rate, ...rest } = report;
  return rest;
}

describe.each<Backend>(['pglite', 'postgres'])('every audit column tampered with SQL on a real %s store', (backend) => {
  let note: string;

  beforeAll(async () => {
    assertBuilt();
    const built = (await import(new URL('../../dist/audit/verify-parallel.js', import.meta.url).href)) as {
      verifyAuditLogInWorker: VerifyInWorker;
      auditWorkerAvailable(): boolean;
    };
    expect(built.auditWorkerAvailable()).toBe(true);
    verifyInWorker = built.verifyAuditLogInWorker;
    // The checkpoint every case verifies against: the same log is written in every case.
    const probe = await tamperableStore(backend);
    try {
      const store = await probe.open();
      try {
        await fill(store);
        const head = await store.auditHead();
        note = signer.sign(formatCheckpointBody({ origin: ORIGIN, size: head.size, rootHash: frontierRoot(head.frontier.map(fromHex)) }));
      } finally {
        await store.close();
      }
    } finally {
      await probe.cleanup();
    }
  }, 60_000);

  /** Writes the same SIZE entries, in batches as the broker would, at fixed times. */
  async function fill(store: Store): Promise<void> {
    for (let n = 0; n < SIZE; n += 50) {
      await store.transaction((tx) => tx.appendAudit(Array.from({ length: 50 }, (_, j) => inputFor(n + j)), T0 + n));
    }
  }

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const target = await tamperableStore(backend);
    try {
      const store = await target.open();
      await fill(store);
      await store.close();
      const sql = await target.raw();
      try {
        await c.apply(sql);
      } finally {
        await sql.close();
      }
      const reopened = await target.open();
      try {
        const opts = { checkpoints: [note], verifierKey: signer.verifierKey, origin: ORIGIN, batchSize: BATCH };
        const packed = await verifyAuditLog(reopened, opts);
        const rowByRow = await verifyAuditLog(
          { readAudit: (from, limit) => reopened.readAudit(from, limit), auditHead: () => reopened.auditHead() },
          opts,
        );
        expect(comparable(packed)).toStrictEqual(comparable(rowByRow));
        expect(comparable(await verifyInWorker(reopened, opts))).toStrictEqual(comparable(rowByRow));
        const problems = JSON.stringify(packed.problems);
        expect(packed.ok).toBe(false);
        expect(packed.firstBadIndex, problems).toBe(c.expected.index);
        expect(packed.problems.filter((p) => p.index === c.expected.index).map((p) => p.kind), problems).toContain(c.expected.kind);
      } finally {
        await reopened.close();
      }
    } finally {
      await target.cleanup();
    }
  }, 60_000);

  it('reports nothing for the untouched log, the same both ways', async () => {
    const target = await tamperableStore(backend);
    try {
      const store = await target.open();
      try {
        await fill(store);
        const opts = { checkpoints: [note], verifierKey: signer.verifierKey, origin: ORIGIN, batchSize: BATCH };
        const packed = await verifyAuditLog(store, opts);
        expect(packed).toMatchObject({ ok: true, size: SIZE, problems: [], checkpointsChecked: 1 });
        expect(comparable(packed)).toStrictEqual(comparable(await verifyAuditLog({ readAudit: (f, l) => store.readAudit(f, l), auditHead: () => store.auditHead() }, opts)));
        const inWorker = await verifyInWorker(store, opts);
        expect(comparable(inWorker)).toStrictEqual(comparable(packed));
        expect(inWorker.eventsPerSecond).toBeGreaterThan(0);
      } finally {
        await store.close();
      }
    } finally {
      await target.cleanup();
    }
  }, 60_000);
});
