/**
 * Worker thread entry: runs a PGlite database for the thread that started it
 * (pglite-thread.ts) and answers its messages (pglite-messages.ts) with the unchanged
 * `PgliteDriver` (pglite.ts), which does all the work exactly as it does on the caller's thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { StintError, isStintError } from '../../core/errors.js';
import type { SqlExecutor } from './driver.js';
import type { PgliteOpened, PgliteReply, PgliteRequest, PgliteWorkerData, SentError } from './pglite-messages.js';
import { openPgliteHere, type PgliteDriver } from './pglite-session.js';

const port = parentPort!;
const { dataDir } = workerData as PgliteWorkerData;

/** Only `StintError` fields cross; anything else was a fault here and says so. */
function sentError(err: unknown): SentError {
  const error = isStintError(err)
    ? err
    : new StintError('store_unavailable', 'the store is unavailable', { internalReason: `PGlite worker: ${err instanceof Error ? err.message : String(err)}` });
  return {
    code: error.code,
    detail: error.detail,
    ...(error.internalReason !== undefined ? { internalReason: error.internalReason } : {}),
    ...(error.extra !== undefined ? { extra: error.extra } : {}),
  };
}

function answer(id: number, work: Promise<unknown>): void {
  work.then(
    (value) => {
      // A wire answer's buffer is handed over, not copied: it is fresh per call.
      const bytes = (value as { bytes?: unknown } | undefined)?.bytes;
      port.postMessage({ id, ok: true, value } satisfies PgliteReply, bytes instanceof Uint8Array ? [bytes.buffer as ArrayBuffer] : undefined);
    },
    (err: unknown) => port.postMessage({ id, ok: false, error: sentError(err) } satisfies PgliteReply),
  );
}

/** Statements of one open transaction, in the order they were posted (the caller sends them once BEGIN was answered). */
class OpenTransaction {
  private readonly queued: PgliteRequest[] = [];
  private wake: (() => void) | undefined;

  push(request: PgliteRequest): void {
    this.queued.push(request);
    this.wake?.();
  }

  async next(): Promise<PgliteRequest> {
    while (this.queued.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = undefined;
    return this.queued.shift()!;
  }
}

/** Thrown inside PGlite's transaction to roll it back; never leaves this file. */
const ROLLBACK = Symbol('rollback');

function serve(driver: PgliteDriver): void {
  const open = new Map<number, OpenTransaction>();

  /** Runs one transaction: its statements as they come, until its `end`. */
  const runTransaction = (beginId: number, txId: number, statements: OpenTransaction): void => {
    let endId: number | undefined;
    let begun = false;
    const run = driver.transaction(async (tx: SqlExecutor) => {
      begun = true;
      port.postMessage({ id: beginId, ok: true } satisfies PgliteReply);
      for (;;) {
        const request = await statements.next();
        if (request.kind === 'end') {
          endId = request.id;
          if (request.commit) return;
          throw ROLLBACK;
        }
        if (request.kind !== 'tx_query') continue;
        // One statement at a time, as the caller's callback awaits each.
        try {
          const rows = await tx.query(request.sql, request.params, request.prepare !== undefined ? { prepare: request.prepare } : undefined);
          port.postMessage({ id: request.id, ok: true, value: rows } satisfies PgliteReply);
        } catch (err) {
          port.postMessage({ id: request.id, ok: false, error: sentError(err) } satisfies PgliteReply);
        }
      }
    });
    run.then(
      () => {
        open.delete(txId);
        port.postMessage({ id: endId!, ok: true } satisfies PgliteReply);
      },
      (err: unknown) => {
        if (err === ROLLBACK) {
          open.delete(txId);
          port.postMessage({ id: endId!, ok: true } satisfies PgliteReply);
          return;
        }
        open.delete(txId);
        // A failed BEGIN: the caller is waiting for it and sends nothing more for this transaction.
        // Otherwise the COMMIT (or ROLLBACK) failed: its end hears why (the callback itself throws
        // nothing else, statement errors are answered to their statement).
        port.postMessage({ id: begun ? endId! : beginId, ok: false, error: sentError(err) } satisfies PgliteReply);
      },
    );
  };

  port.on('message', (request: PgliteRequest) => {
    switch (request.kind) {
      case 'query':
        answer(request.id, driver.query(request.sql, request.params, request.prepare !== undefined ? { prepare: request.prepare } : undefined));
        return;
      case 'begin': {
        const statements = new OpenTransaction();
        open.set(request.tx, statements);
        runTransaction(request.id, request.tx, statements);
        return;
      }
      case 'tx_query':
      case 'end': {
        const statements = open.get(request.tx);
        if (statements === undefined) {
          port.postMessage({ id: request.id, ok: false, error: sentError(new StintError('internal', `no open transaction ${request.tx}`)) } satisfies PgliteReply);
          return;
        }
        statements.push(request);
        return;
      }
      case 'wire':
        answer(request.id, driver.exchangeWire(request.message));
        return;
      case 'close':
        // The opening thread terminates this worker once it has the answer.
        answer(request.id, driver.close());
        return;
    }
  });
}

try {
  const driver = await openPgliteHere(dataDir, undefined);
  serve(driver);
  port.postMessage({ kind: 'opened' } satisfies PgliteOpened);
} catch (err) {
  port.postMessage({ kind: 'open_failed', error: sentError(err) } satisfies PgliteOpened);
}
