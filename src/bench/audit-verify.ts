/**
 * Goal 4: the audit verifier checks at least 200,000 events per second.
 *
 * The log is written the way the broker writes it: `appendAudit` in store transactions (here in
 * batches of 1,000), with the events real grant lifecycles produce (sample-grants.ts), on a
 * PGlite store; a checkpoint over the whole log is signed at the end. Then `verifyAuditLog`
 * (what `stint audit verify` runs) reads it back through `store.readAudit` and checks every
 * entry, the head and the checkpoint. Reported separately: the same verification over records
 * already in memory (verifier CPU only) and a plain read of the log through the store
 * (the reference: what the reads alone cost).
 */
import type { AuditEventInput, AuditRecord } from '../core/events.js';
import { openStore } from '../adapters/store-sql/index.js';
import { verifyAuditLog } from '../audit/verify.js';
import { createCheckpointSigner, formatCheckpointBody, loadOrCreateAuditKey } from '../audit/signed-note.js';
import { frontierRoot, fromHex } from '../audit/merkle.js';
import { timeSortableId } from '../service/context.js';
import { timed, type Rate } from './measure.js';
import { sampleGrant, type SampleStatus } from './sample-grants.js';
import { createBenchState, loadBenchConfig, type BenchWorkspace } from './setup.js';

/** Options of {@link benchAuditVerify}. */
export interface AuditVerifyOptions {
  /** Events in the log. */
  readonly events: number;
  /** Events per append transaction. */
  readonly batch: number;
}

/** Result of {@link benchAuditVerify}. */
export interface AuditVerifyResult {
  readonly events: number;
  /** Appending the log (for information). */
  readonly append: Rate;
  /** `verifyAuditLog` over the store, reads included. */
  readonly verifyWithReads: Rate;
  /** `verifyAuditLog` over records already in memory. */
  readonly verifyInMemory: Rate;
  /** `store.readAudit` over the whole log, nothing checked (reference). */
  readonly readOnly: Rate;
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

/** Writes a log of `opts.events` events and measures its verification. */
export async function benchAuditVerify(ws: BenchWorkspace, opts: AuditVerifyOptions): Promise<AuditVerifyResult> {
  const state = await createBenchState(ws, 'audit', 'pglite');
  const config = await loadBenchConfig(state);
  const store = await openStore({ kind: 'pglite', dataDir: state.dataDir });
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

    const withReads = await timed(() => verifyAuditLog(store, verifyOpts));
    if (!withReads.value.ok || withReads.value.size !== opts.events || withReads.value.checkpointsChecked !== 1) {
      throw new Error(`the audit log did not verify: ${JSON.stringify(withReads.value.problems.slice(0, 3))}`);
    }
    const read = await timed(() => readAll((from, limit) => store.readAudit(from, limit), head.size, opts.batch));
    const records = read.value;
    const inMemory = await timed(() =>
      verifyAuditLog(
        { readAudit: async (from, limit) => records.slice(from, from + limit), auditHead: async () => head },
        verifyOpts,
      ),
    );
    if (!inMemory.value.ok) throw new Error('the in-memory audit log did not verify');
    return {
      events: opts.events,
      append: rate(opts.events, append.ms),
      verifyWithReads: rate(opts.events, withReads.ms),
      verifyInMemory: rate(opts.events, inMemory.ms),
      readOnly: rate(opts.events, read.ms),
    };
  } finally {
    await close();
  }
}
