/** The messages between {@link verifyAuditLogInWorker} (verify-parallel.ts) and its worker (verify-worker.ts). */
import type { ErrorCode } from '../core/errors.js';
import type { AuditRecord } from '../core/events.js';
import type { AuditHead, PackedAuditBatch } from '../ports/store.js';
import type { AuditVerifyOptions, AuditVerifyReport } from './verify.js';

/** What the worker starts with. */
export interface VerifyWorkerData {
  readonly options: AuditVerifyOptions;
  /** The source's head, read by the main thread first; absent when the source has none. */
  readonly head?: AuditHead;
  /** Whether the source reads packed batches (`readAuditPacked`). */
  readonly packed: boolean;
}

/** Worker to main: read [fromSeq, fromSeq + limit), packed unless `rowByRow`. */
export interface WorkerRequest {
  readonly id: number;
  readonly fromSeq: number;
  readonly limit: number;
  readonly rowByRow: boolean;
}

/** Main to worker: the answer to request `id`. */
export type WorkerReply =
  | { readonly type: 'packed'; readonly id: number; readonly packed: PackedAuditBatch }
  | { readonly type: 'records'; readonly id: number; readonly records: AuditRecord[] };

/** Worker to main, once: the report, or the error the verifier threw. */
export type WorkerResult =
  | { readonly type: 'done'; readonly report: AuditVerifyReport }
  | { readonly type: 'failed'; readonly message: string; readonly code?: ErrorCode; readonly detail?: string; readonly name?: string };
