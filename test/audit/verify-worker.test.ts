/**
 * `verifyAuditLogInWorker` (src/audit/verify-parallel.ts), built (Node starts no worker from
 * TypeScript): the worker thread's report is `verifyAuditLog`'s, for row-by-row sources too, and
 * a failing read or a failing check ends it with that error. Packed stores, tampered with SQL,
 * are covered in tamper-columns.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAuditEntry } from '../../src/audit/event.js';
import { frontierAppend, fromHex, toHex } from '../../src/audit/merkle.js';
import { verifyAuditLog, type AuditSource, type AuditVerifyReport } from '../../src/audit/verify.js';
import { StintError } from '../../src/core/errors.js';
import type { AuditRecord } from '../../src/core/events.js';
import type { AuditHead } from '../../src/ports/store.js';
import { assertBuilt } from '../cli/run-cli.js';

type VerifyInWorker = typeof import('../../src/audit/verify-parallel.js').verifyAuditLogInWorker;
let verifyInWorker: VerifyInWorker;

beforeAll(async () => {
  assertBuilt();
  ({ verifyAuditLogInWorker: verifyInWorker } = (await import(new URL('../../dist/audit/verify-parallel.js', import.meta.url).href)) as {
    verifyAuditLogInWorker: VerifyInWorker;
  });
});

function buildLog(n: number): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (let seq = 0; seq < n; seq++) {
    const input = { type: 'grant.requested' as const, actor: `workload:w${seq % 5}`, ...(seq % 2 === 0 ? { grantId: `g-${seq}` } : {}), data: { seq } };
    records.push(buildAuditEntry(input, seq, 1_700_000_000_000 + seq, records[seq - 1]?.leafHash ?? '').record);
  }
  return records;
}

function headOf(records: readonly AuditRecord[]): AuditHead {
  let frontier: Uint8Array[] = [];
  records.forEach((r, i) => (frontier = frontierAppend(frontier, i, fromHex(r.leafHash))));
  return { size: records.length, frontier: frontier.map(toHex) };
}

const source = (rows: readonly AuditRecord[], head?: AuditHead): AuditSource => ({
  readAudit: async (from, limit) => rows.filter((r) => r.seq >= from && r.seq < from + limit),
  ...(head !== undefined ? { auditHead: async () => head } : {}),
});

const comparable = ({ eventsPerSecond: _rate, ...rest }: AuditVerifyReport): Omit<AuditVerifyReport, 'eventsPerSecond'> => rest;

describe('verifyAuditLogInWorker', () => {
  it('reports what verifyAuditLog reports, on a clean and on a tampered row-by-row source', async () => {
    const log = buildLog(300);
    const head = headOf(log);
    const tampered = log.map((r) => (r.seq === 123 ? { ...r, actor: 'human:mallory' } : r)).filter((r) => r.seq !== 200);
    for (const rows of [log, tampered]) {
      const opts = { batchSize: 64 };
      const here = await verifyAuditLog(source(rows, head), opts);
      const there = await verifyInWorker(source(rows, head), opts);
      expect(comparable(there)).toStrictEqual(comparable(here));
    }
    const report = await verifyInWorker(source(tampered, head), { batchSize: 64 });
    expect(report).toMatchObject({ ok: false, firstBadIndex: 123 });
    expect(report.problems.map((p) => `${p.kind}@${p.index}`)).toEqual(expect.arrayContaining(['modified@123', 'deleted@200']));
  });

  it('ends with the error of a failed read', async () => {
    const failing: AuditSource = {
      readAudit: async (from) => {
        if (from >= 100) throw new StintError('store_unavailable', 'the store went away');
        return buildLog(100).filter((r) => r.seq >= from);
      },
    };
    await expect(verifyInWorker(failing, { batchSize: 50 })).rejects.toMatchObject({ code: 'store_unavailable' });
  });

  it('ends with the error the verifier throws on the worker thread', async () => {
    const log = buildLog(10);
    // Rows below the seq asked for: the source is broken, which the verifier refuses.
    const broken: AuditSource = { readAudit: async (from) => (from === 0 ? log.slice(0, 5) : log.slice(0, 5)) };
    await expect(verifyInWorker(broken, { batchSize: 5 })).rejects.toMatchObject({ code: 'internal', message: expect.stringMatching(/out of order/) });
    await expect(verifyInWorker(source(log), { batchSize: 0 })).rejects.toThrow(RangeError);
  });
});
