/** The messages between {@link verifyAuditLogInWorker} (verify-parallel.ts) and its worker (verify-worker.ts). */
import type { ErrorCode } from '../core/errors.js';
import type { AuditRecord } from '../core/events.js';
import type { AuditHead, PackedAuditBatch } from '../ports/store.js';
import type { WireRowsMessage } from './wire-batch.js';
import type { AuditVerifyOptions, AuditVerifyReport } from './verify.js';

/** What the worker starts with. */
export interface VerifyWorkerData {
  readonly options: AuditVerifyOptions;
  /** The source's head, read by the main thread first; absent when the source has none. */
  readonly head?: AuditHead;
  /** How the source reads batches besides `readAudit`: `readAuditWire`, `readAuditPacked`, or neither. */
  readonly batches: BatchKind;
}

/** A way of reading a batch: the source's `readAuditWire`, `readAuditPacked`, or `readAudit`. */
export type BatchKind = 'wire' | 'packed' | 'rows';

/** Worker to main: read [fromSeq, fromSeq + limit) that way. */
export interface WorkerRequest {
  readonly id: number;
  readonly fromSeq: number;
  readonly limit: number;
  readonly kind: BatchKind;
}

/** Main to worker: the answer to request `id`. */
export type WorkerReply =
  /** A wire batch, decoded on the main thread (undefined: it did not decode; read it row by row). */
  | { readonly type: 'wire'; readonly id: number; readonly rows: WireRowsMessage | undefined }
  | { readonly type: 'packed'; readonly id: number; readonly packed: PackedAuditBatch }
  | { readonly type: 'records'; readonly id: number; readonly records: AuditRecord[] };

/** Worker to main, once: the report, or the error the verifier threw. */
export type WorkerResult =
  | { readonly type: 'done'; readonly report: AuditVerifyReport }
  | { readonly type: 'failed'; readonly message: string; readonly code?: ErrorCode; readonly detail?: string; readonly name?: string };
