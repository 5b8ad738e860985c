/**
 * `verifyAuditLog` with the checking on a worker thread and the reading on this one (issue #2,
 * item 13: >= 200,000 events/s with the store reads included). PGlite runs its queries on the
 * thread that opened it, in WebAssembly, so reading and checking on one thread take turns; here
 * the main thread reads batch k+1 (and k+2) while the worker checks batch k. The worker runs the
 * same `verifyAuditLog` over the same records in the same order (verify-worker.ts), so the
 * report is the one `verifyAuditLog(source, opts)` gives; only `eventsPerSecond` is timed here,
 * reads and thread start included.
 *
 * With wire batches (PGlite), this thread also decodes each batch and computes its leaf hashes
 * (`decodeWireBatch`), then transfers the buffers: measured with --cpu-prof on 200,000 events,
 * reading plus decoding and hashing here and the rest of the checks on the worker take about
 * the same time, where hashing on the worker left it the bottleneck.
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { StintError } from '../core/errors.js';
import type { AuditRecord } from '../core/events.js';
import type { PackedAuditBatch } from '../ports/store.js';
import { PACKED_FIELD_SEPARATOR, PACKED_ROW_SEPARATOR } from './packed-batch.js';
import { decodeWireBatch, lastSeqOfRows, wireRowsMessage } from './wire-batch.js';
import { DEFAULT_BATCH, verifyAuditLog, type AuditSource, type AuditVerifyOptions, type AuditVerifyReport } from './verify.js';
import type { VerifyWorkerData, WorkerReply, WorkerRequest, WorkerResult } from './verify-parallel-messages.js';
import { workerExecArgv, workerFile } from '../platform/worker-file.js';

/** The compiled worker entry (from the build when run from the sources: platform/worker-file.ts). */
const WORKER_FILE = workerFile('./verify-worker.js', import.meta.url);

/** Whether the compiled worker is there to start (it is not in a source tree that was never built). */
export function auditWorkerAvailable(): boolean {
  return WORKER_FILE !== undefined;
}

/** The seq of the last row of a packed batch (where the verifier reads on), if it reads as one. */
function lastSeqOfPacked(batch: PackedAuditBatch): number | undefined {
  if (batch.count === 0) return undefined;
  const start = batch.columns.lastIndexOf(PACKED_ROW_SEPARATOR) + 1;
  const seq = Number(batch.columns.slice(start, batch.columns.indexOf(PACKED_FIELD_SEPARATOR, start)));
  return Number.isSafeInteger(seq) ? seq : undefined;
}

/**
 * Reads batches for the worker, one ahead: after answering [from, from + limit) it starts the
 * read the verifier asks for next (from the last row's seq + 1, verify.ts), so the store is busy
 * while the worker checks. A guess that turns out wrong is simply not used.
 */
class Prefetcher<B> {
  private ahead: { fromSeq: number; limit: number; batch: Promise<B> } | undefined;

  constructor(
    private readonly read: (fromSeq: number, limit: number) => Promise<B>,
    private readonly lastSeq: (batch: B) => number | undefined,
  ) {}

  /** Starts reading [fromSeq, fromSeq + limit) now, for the `get` that asks for it. */
  prime(fromSeq: number, limit: number): void {
    const batch = this.read(fromSeq, limit);
    batch.catch(() => undefined);
    this.ahead = { fromSeq, limit, batch };
  }

  async get(fromSeq: number, limit: number): Promise<B> {
    const ahead = this.ahead;
    this.ahead = undefined;
    const batch = await (ahead !== undefined && ahead.fromSeq === fromSeq && ahead.limit === limit ? ahead.batch : this.read(fromSeq, limit));
    const last = this.lastSeq(batch);
    if (last !== undefined) {
      const next = this.read(last + 1, limit);
      // Unused when the verifier stops or asks elsewhere: its failure must not go unhandled.
      next.catch(() => undefined);
      this.ahead = { fromSeq: last + 1, limit, batch: next };
    }
    return batch;
  }
}

function errorOf(result: Extract<WorkerResult, { type: 'failed' }>): Error {
  if (result.code !== undefined) return new StintError(result.code, result.detail);
  const error = new Error(result.message);
  if (result.name !== undefined) error.name = result.name;
  return error;
}

/**
 * Verifies the log read from `source` like {@link verifyAuditLog}, with the checks on a worker
 * thread. Runs `verifyAuditLog` on this thread instead when the compiled worker is not
 * available ({@link auditWorkerAvailable}). A read that fails ends the verification with that
 * error, as in `verifyAuditLog`.
 */
export async function verifyAuditLogInWorker(source: AuditSource, opts: AuditVerifyOptions = {}): Promise<AuditVerifyReport> {
  if (!auditWorkerAvailable()) return verifyAuditLog(source, opts);
  const batchSize = opts.batchSize;
  if (batchSize !== undefined && (!Number.isSafeInteger(batchSize) || batchSize < 1)) throw new RangeError('batchSize must be a positive integer');
  const started = performance.now();
  const head = source.auditHead === undefined ? undefined : await source.auditHead();
  const readWire = source.readAuditWire?.bind(source);
  const readPacked = source.readAuditPacked?.bind(source);
  // The same preference as verifyAuditLog's: wire batches, else packed ones, else rows.
  // Wire batches are decoded and leaf-hashed here, the worker does the rest (verify-worker.ts):
  // measured with --cpu-prof, that shares the work about evenly between the two threads.
  const wire = readWire === undefined ? undefined : new Prefetcher(async (fromSeq, limit) => decodeWireBatch(await readWire(fromSeq, limit)), lastSeqOfRows);
  const packed = wire !== undefined || readPacked === undefined ? undefined : new Prefetcher(readPacked, lastSeqOfPacked);
  const batches = wire !== undefined ? 'wire' : packed !== undefined ? 'packed' : 'rows';
  const workerData: VerifyWorkerData = { options: opts, batches, ...(head !== undefined ? { head } : {}) };
  const worker = new Worker(WORKER_FILE!, { workerData, execArgv: workerExecArgv() });
  // The verifier's first read is [0, batch size): it runs here while the worker thread starts.
  (wire ?? packed)?.prime(0, batchSize ?? DEFAULT_BATCH);
  try {
    const report = await new Promise<AuditVerifyReport>((resolve, reject) => {
      // One read at a time, in the order asked: the store serialises them anyway.
      let serving = Promise.resolve();
      const serve = async (req: WorkerRequest): Promise<void> => {
        if (req.kind === 'wire' && wire !== undefined) {
          const rows = await wire.get(req.fromSeq, req.limit);
          if (rows === undefined) {
            worker.postMessage({ type: 'wire', id: req.id, rows: undefined } satisfies WorkerReply);
            return;
          }
          // The buffers move to the worker (no copy); this thread keeps nothing of them.
          const { message, transfer } = wireRowsMessage(rows);
          worker.postMessage({ type: 'wire', id: req.id, rows: message } satisfies WorkerReply, transfer);
          return;
        }
        let reply: WorkerReply;
        if (req.kind === 'packed' && packed !== undefined) {
          reply = { type: 'packed', id: req.id, packed: await packed.get(req.fromSeq, req.limit) };
        } else {
          const records: AuditRecord[] = await source.readAudit(req.fromSeq, req.limit);
          reply = { type: 'records', id: req.id, records };
        }
        worker.postMessage(reply);
      };
      worker.on('message', (message: WorkerRequest | WorkerResult) => {
        if ('type' in message) {
          if (message.type === 'done') resolve(message.report);
          else reject(errorOf(message));
          return;
        }
        serving = serving.then(() => serve(message)).catch(reject);
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new StintError('internal', `the audit verifier thread stopped (exit code ${code})`)));
    });
    const seconds = (performance.now() - started) / 1000;
    const { eventsPerSecond: _insideWorker, ...rest } = report;
    return { ...rest, ...(report.size > 0 && seconds > 0 ? { eventsPerSecond: report.size / seconds } : {}) };
  } finally {
    await worker.terminate();
  }
}
