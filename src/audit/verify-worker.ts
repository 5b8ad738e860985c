/**
 * The worker thread of {@link verifyAuditLogInWorker} (verify-parallel.ts): runs the verifier
 * itself, unchanged, over a source whose reads are served by the main thread, where the store
 * lives (PGlite runs on the thread that opened it). Packed batches arrive as their two text
 * values and are decoded here, off the main thread; a batch that does not decode exactly is
 * asked for again row by row, as src/audit/packed-batch.ts prescribes.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { AuditRecord } from '../core/events.js';
import { isStintError } from '../core/errors.js';
import { unpackAuditBatch } from './packed-batch.js';
import { verifyAuditLog, type AuditSource } from './verify.js';
import type { VerifyWorkerData, WorkerReply, WorkerRequest, WorkerResult } from './verify-parallel-messages.js';

if (parentPort === null) throw new Error('verify-worker.js runs as a worker thread (see verify-parallel.ts)');
const port: MessagePort = parentPort;
const data = workerData as VerifyWorkerData;

const waiting = new Map<number, (reply: WorkerReply) => void>();
let nextId = 0;
port.on('message', (reply: WorkerReply) => {
  const resolve = waiting.get(reply.id);
  waiting.delete(reply.id);
  resolve?.(reply);
});

function request(fromSeq: number, limit: number, rowByRow: boolean): Promise<WorkerReply> {
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    const message: WorkerRequest = { id, fromSeq, limit, rowByRow };
    port.postMessage(message);
  });
}

async function rowsOf(fromSeq: number, limit: number, rowByRow: boolean): Promise<AuditRecord[]> {
  const reply = await request(fromSeq, limit, rowByRow);
  if (reply.type === 'records') return reply.records;
  return unpackAuditBatch(reply.packed) ?? rowsOf(fromSeq, limit, true);
}

const source: AuditSource = {
  readAudit: (fromSeq, limit) => rowsOf(fromSeq, limit, !data.packed),
  ...(data.head !== undefined ? { auditHead: async () => data.head! } : {}),
};

verifyAuditLog(source, data.options).then(
  (report) => port.postMessage({ type: 'done', report } satisfies WorkerResult),
  (error: unknown) => {
    const failed: WorkerResult = isStintError(error)
      ? { type: 'failed', message: error.message, code: error.code, detail: error.detail }
      : { type: 'failed', message: error instanceof Error ? error.message : String(error), name: error instanceof Error ? error.name : 'Error' };
    port.postMessage(failed);
  },
);
