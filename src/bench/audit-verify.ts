/**
 * Goal 4: the audit verifier checks at least 200,000 events per second.
 *
 * The log is written the way the broker writes it: `appendAudit` in store transactions (here in
 * batches of 1,000), with the events real grant lifecycles produce (sample-grants.ts), on a
 * PGlite store and on a PostgreSQL store; a checkpoint over the whole log is signed at the end.
 * Then the verifier reads it back through the store and checks every entry, the head and the
 * checkpoint, two ways (issue #2, item 13): `verifyAuditLogInWorker` (what `stint audit verify
 * --store` runs: the checks on a worker thread while this thread reads the next batch; the
 * judged figure) and `verifyAuditLog` on
 * this thread (reading and checking take turns). Reported separately: the verification over
 * records already in memory (verifier CPU only), and plain reads of the log through the store,
 * packed (`readAuditFast`: the reference), row by row (`readAudit`, the earlier read path) and,
 * on PGlite, as wire batches (`readAuditWire` + `decodeWireBatch`, what the verifier reads there).
 */
import type { AuditEventInput, AuditRecord } from '../core/events.js';
import { openStore } from '../adapters/store-sql/index.js';
import { verifyAuditLog } from '../audit/verify.js';
import { verifyAuditLogInWorker } from '../audit/verify-parallel.js';
import { readAuditFast } from '../audit/packed-batch.js';
import { decodeWireBatch } from '../audit/wire-batch.js';
import { createCheckpointSigner, formatCheckpointBody, loadOrCreateAuditKey } from '../audit/signed-note.js';
import { frontierRoot, fromHex } from '../audit/merkle.js';
import { timeSortableId } from '../service/context.js';
import { timed, type Rate } from './measure.js';
import { sampleGrant, type SampleStatus } from './sample-grants.js';
import { createBenchState, loadBenchConfig, type BenchStoreKind, type BenchWorkspace } from './setup.js';

/** Options of {@link benchAuditVerify}. */
export interface AuditVerifyOptions {
  /** Events in the log. */
  readonly events: number;
  /** Events per append transaction. */
  readonly batch: number;
}

/** The figures of one store. */
export interface AuditVerifyStoreResult {
  readonly store: BenchStoreKind;
  readonly events: number;
  /** Appending the log (for information). */
  readonly append: Rate;
  /** `verifyAuditLogInWorker` over the store, reads included (judged). */
  readonly verifyWithReads: Rate;
  /** `verifyAuditLog` over the store on one thread, reads included. */
  readonly verifyWithReadsOneThread: Rate;
  /** `verifyAuditLog` over records already in memory. */
  readonly verifyInMemory: Rate;
  /** `readAuditFast` (packed batches) over the whole log, nothing checked (reference). */
  readonly readOnly: Rate;
  /** `store.readAudit` (row by row) over the whole log, nothing checked. */
  readonly readRowByRow: Rate;
  /**
   * PGlite only (`store.readAuditWire`): the wire batches the verifier reads there, decoded and
   * leaf-hashed as the verifier's reading thread does it (`decodeWireBatch`), nothing checked.
   */
  readonly readWire?: Rate;
}

/** Result of {@link benchAuditVerify}: PGlite (the default store, the goal) and PostgreSQL. */
export interface AuditVerifyResult extends AuditVerifyStoreResult {
  readonly postgres: AuditVerifyStoreResult;
}

/** Lifecycle mix of the generated grants (their events fill the log). */
const STATUSES: readonly SampleStatus[] = ['expired', 'expired', 'completed', 'expired', 'revoked', 'completed', 'denied', 'expired', 'completed', 'active'];

function rate(events: number, ms: number): Rate {
  return { ops: events, seconds: ms / 1000, perSecond: events / (ms / 1000) };
}

/** Reads the whole log in pages of `batch`. */
async function readAll(read: (from: number, limit: number) => Promise<AuditRecord[]>, size: number, batch: number): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  for (let from = 0; from < size; from += batch) records.push(...(await read(from, batch)));
  return records;
}

/** Writes a log of `opts.events` events on PGlite and on PostgreSQL and measures its verification. */
export async function benchAuditVerify(ws: BenchWorkspace, opts: AuditVerifyOptions): Promise<AuditVerifyResult> {
  const pglite = await benchAuditVerifyOn(ws, 'pglite', opts);
  const postgres = await benchAuditVerifyOn(ws, 'postgres', opts);
  return { ...pglite, postgres };
}

async function benchAuditVerifyOn(ws: BenchWorkspace, kind: BenchStoreKind, opts: AuditVerifyOptions): Promise<AuditVerifyStoreResult> {
  const state = await createBenchState(ws, `audit-${kind}`, kind);
  const config = await loadBenchConfig(state);
  const store = await openStore(state.databaseUrl !== undefined ? { kind: 'postgres', url: state.databaseUrl } : { kind: 'pglite', dataDir: state.dataDir });
  const close = ws.cleanup.add('close audit store', () => store.close());
  try {
    let time = Date.now() - 30 * 86_400_000;
    let pending: AuditEventInput[] = [];
    let grants = 0;
    const append = await timed(async () => {
      let written = 0;
      while (written < opts.events) {
        while (pending.length < opts.batch) {
          const { events } = sampleGrant({ id: timeSortableId(time), createdAt: time, status: STATUSES[grants % STATUSES.length]! });
          pending.push(...events);
          grants++;
        }
        const batch = pending.slice(0, Math.min(opts.batch, opts.events - written));
        pending = pending.slice(batch.length);
        time += 1000;
        await store.transaction((tx) => tx.appendAudit(batch, time));
        written += batch.length;
      }
    });

    const head = await store.auditHead();
    if (head.size !== opts.events) throw new Error(`the log holds ${head.size} events, expected ${opts.events}`);
    const signer = createCheckpointSigner(config.audit.origin, await loadOrCreateAuditKey(config.audit.keyFile));
    const note = signer.sign(formatCheckpointBody({ origin: config.audit.origin, size: head.size, rootHash: frontierRoot(head.frontier.map(fromHex)) }));
    const verifyOpts = { checkpoints: [note], verifierKey: signer.verifierKey, origin: config.audit.origin, batchSize: opts.batch };

    const mustVerify = (report: Awaited<ReturnType<typeof verifyAuditLog>>): void => {
      if (!report.ok || report.size !== opts.events || report.checkpointsChecked !== 1) {
        throw new Error(`the audit log did not verify: ${JSON.stringify(report.problems.slice(0, 3))}`);
      }
    };
    // Each way twice, alternating, best of two: the machine is shared and noisy (docs/benchmarks.md).
    const best = (a: number, b: number): number => Math.min(a, b);
    const inWorker: number[] = [];
    const oneThread: number[] = [];
    const packedReads: number[] = [];
    let records: AuditRecord[] = [];
    for (let round = 0; round < 2; round++) {
      const w = await timed(() => verifyAuditLogInWorker(store, verifyOpts));
      mustVerify(w.value);
      inWorker.push(w.ms);
      const t = await timed(() => verifyAuditLog(store, verifyOpts));
      mustVerify(t.value);
      oneThread.push(t.ms);
      const p = await timed(() => readAll((from, limit) => readAuditFast(store, from, limit), head.size, opts.batch));
      packedReads.push(p.ms);
      records = p.value;
    }
    const read = await timed(() => readAll((from, limit) => store.readAudit(from, limit), head.size, opts.batch));
    const readWireBatch = store.readAuditWire;
    const wire =
      readWireBatch === undefined
        ? undefined
        : await timed(async () => {
            let rows = 0;
            for (let from = 0; from < head.size; from += opts.batch) rows += decodeWireBatch(await readWireBatch(from, opts.batch))?.count ?? 0;
            if (rows !== head.size) throw new Error(`the wire batches hold ${rows} events, expected ${head.size}`);
          });
    if (read.value.length !== records.length) throw new Error('the packed and the row-by-row reads differ in length');
    const inMemory: number[] = [];
    for (let round = 0; round < 2; round++) {
      const m = await timed(() =>
        verifyAuditLog({ readAudit: async (from, limit) => records.slice(from, from + limit), auditHead: async () => head }, verifyOpts),
      );
      mustVerify(m.value);
      inMemory.push(m.ms);
    }
    return {
      store: kind,
      events: opts.events,
      append: rate(opts.events, append.ms),
      verifyWithReads: rate(opts.events, best(inWorker[0]!, inWorker[1]!)),
      verifyWithReadsOneThread: rate(opts.events, best(oneThread[0]!, oneThread[1]!)),
      verifyInMemory: rate(opts.events, best(inMemory[0]!, inMemory[1]!)),
      readOnly: rate(opts.events, best(packedReads[0]!, packedReads[1]!)),
      readRowByRow: rate(opts.events, read.ms),
      ...(wire !== undefined ? { readWire: rate(opts.events, wire.ms) } : {}),
    };
  } finally {
    await close();
  }
}
