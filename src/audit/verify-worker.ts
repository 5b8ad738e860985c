/**
 * The worker thread of {@link verifyAuditLogInWorker} (verify-parallel.ts): runs the verifier
 * itself, unchanged, over a source whose reads are served by the main thread, where the store
 * lives (PGlite runs on the thread that opened it). Wire batches arrive decoded and leaf-hashed by
 * the main thread (wire-batch.ts; their buffers transferred, not copied) and are checked here;
 * packed batches arrive as read and are decoded here. A batch that does not decode exactly is
 * asked for again row by row, as `verifyAuditLog` does on any source.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { AuditRecord } from '../core/events.js';
import { isStintError } from '../core/errors.js';
import type { PackedAuditBatch } from '../ports/store.js';
import { wireRowsFromMessage, type WireRows } from './wire-batch.js';
import { verifyAuditLog, type AuditSource } from './verify.js';
import type { BatchKind, VerifyWorkerData, WorkerReply, WorkerRequest, WorkerResult } from './verify-parallel-messages.js';

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

function request(fromSeq: number, limit: number, kind: BatchKind): Promise<WorkerReply> {
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    const message: WorkerRequest = { id, fromSeq, limit, kind };
    port.postMessage(message);
  });
}

function unexpected(reply: WorkerReply): Error {
  return new Error(`the audit verifier thread got a ${reply.type} reply it did not ask for`);
}

const source: AuditSource = {
  readAudit: async (fromSeq, limit): Promise<AuditRecord[]> => {
    const reply = await request(fromSeq, limit, 'rows');
    if (reply.type !== 'records') throw unexpected(reply);
    return reply.records;
  },
  ...(data.batches === 'wire'
    ? {
        readAuditRows: async (fromSeq: number, limit: number): Promise<WireRows | undefined> => {
          const reply = await request(fromSeq, limit, 'wire');
          if (reply.type !== 'wire') throw unexpected(reply);
          return reply.rows === undefined ? undefined : wireRowsFromMessage(reply.rows);
        },
      }
    : {}),
  ...(data.batches === 'packed'
    ? {
        readAuditPacked: async (fromSeq: number, limit: number): Promise<PackedAuditBatch> => {
          const reply = await request(fromSeq, limit, 'packed');
          if (reply.type !== 'packed') throw unexpected(reply);
          return reply.packed;
        },
      }
    : {}),
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
