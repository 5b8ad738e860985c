/**
 * PGlite on a worker thread of its own, behind the same `SqlDriver` as on the caller's thread.
 *
 * PGlite is Postgres compiled to WebAssembly: every statement runs, and every result is parsed,
 * on the thread that opened it. In the broker that thread also serves HTTP, verifies tokens,
 * decides policy and signs, so the database's work took turns with all of it on one core while
 * the machine's other core sat partly idle: measured in session 9 with --cpu-prof, the
 * WebAssembly module and PGlite's JavaScript were ~38% of the broker thread's time per grant
 * issued over HTTP (docs/benchmarks.md). Here the worker thread runs the unchanged
 * `PgliteDriver` (pglite-session.ts) and this side forwards each call as one message.
 *
 * - One database, one session, as before: the worker runs requests in the order they arrive,
 *   and PGlite's own locks order statements and transactions inside it exactly as they did.
 * - A transaction is named here; its callback runs once the worker has begun it, its statements
 *   follow as messages, and `end` commits it (or rolls it back when the callback threw). Each
 *   statement is a round trip during which the database waits for this thread, so the hot path
 *   (the group commit of new grants) is one statement of its own, one message
 *   (`SqlStore.commitNewGrants`).
 * - Errors cross as their `StintError` fields (code, detail, internal reason) and are rebuilt
 *   here; the callback's own error is rethrown unchanged, as `SqlDriver.transaction` promises.
 * - If the worker stops (a crash, an out-of-memory kill of its heap), every pending and later
 *   call fails with `store_unavailable`: nothing is retried on a database whose state is unknown.
 * - The worker holds the process open only while a call is pending; the data directory's lock
 *   stays with the opening thread and is released once the worker has closed the database.
 */
import { Worker } from 'node:worker_threads';
import { StintError } from '../../core/errors.js';
import { workerExecArgv, workerFile } from '../../platform/worker-file.js';
import type { QueryOptions, SqlDriver, SqlExecutor, SqlRow } from './driver.js';
import type { DataDirLock } from './lock.js';
import type { PgliteOpened, PgliteReply, PgliteRequest, PgliteWorkerData, SentError } from './pglite-messages.js';

/** The compiled worker entry (from the build when run from the sources: platform/worker-file.ts). */
const WORKER_FILE = workerFile('./pglite-worker.js', import.meta.url);

/**
 * The worker's young generation, in MB (V8's default grows to 16 MB semi-spaces). The broker
 * must stay under 300 MB with 1,000,000 grants stored (issue #2); measured in session 9 after
 * 1,000 grants and 80 listing pages at 1M grants, peak RSS was 299 MB with V8's default, 277-294
 * MB with 6-8 MB, with no change in issuance over HTTP beyond noise (docs/benchmarks.md).
 */
const WORKER_YOUNG_GENERATION_MB = 6;

/** Whether the worker entry is there to start (it is not in a source tree that was never built). */
export function pgliteWorkerAvailable(): boolean {
  return WORKER_FILE !== undefined;
}

/** A `StintError` rebuilt from its fields. */
function receivedError(sent: SentError): StintError {
  return new StintError(sent.code, sent.detail, {
    ...(sent.internalReason !== undefined ? { internalReason: sent.internalReason } : {}),
    ...(sent.extra !== undefined ? { extra: { ...sent.extra } } : {}),
  });
}

function stopped(reason: string): StintError {
  return new StintError('store_unavailable', 'the store is unavailable', { internalReason: `the PGlite worker thread stopped: ${reason}` });
}

/**
 * Starts the worker on `location` (resolved, or a `memory://` name) and waits until the
 * database is open. `lock` is released when the driver closes (or here, by the caller, if this
 * throws).
 */
export async function openPgliteOnWorker(location: string, lock: DataDirLock | undefined): Promise<SqlDriver> {
  if (WORKER_FILE === undefined) throw new StintError('internal', 'the PGlite worker entry is not built');
  const worker = new Worker(WORKER_FILE, {
    workerData: { dataDir: location } satisfies PgliteWorkerData,
    execArgv: workerExecArgv(),
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number): void => reject(stopped(`exited with code ${code} while opening`));
      const onError = (err: Error): void => reject(stopped(err.message));
      worker.once('exit', onExit);
      worker.once('error', onError);
      worker.once('message', (opened: PgliteOpened) => {
        worker.off('exit', onExit);
        worker.off('error', onError);
        if (opened.kind === 'opened') resolve();
        else reject(receivedError(opened.error));
      });
    });
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  return new PgliteWorkerDriver(worker, lock);
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: StintError): void;
}

/** Distributes `Omit` over a union, so each request kind keeps its own fields. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/** The caller's side of a PGlite database on a worker thread. */
class PgliteWorkerDriver implements SqlDriver {
  readonly kind = 'pglite' as const;
  readonly offThread = true;
  private nextId = 1;
  private nextTx = 1;
  private readonly pending = new Map<number, Pending>();
  /** Why the worker can no longer answer, once it cannot. */
  private failure: StintError | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly worker: Worker,
    private readonly lock: DataDirLock | undefined,
  ) {
    worker.unref();
    worker.on('message', (reply: PgliteReply) => this.settle(reply));
    worker.on('error', (err) => this.fail(stopped(err.message)));
    worker.on('exit', (code) => this.fail(stopped(`exited with code ${code}`)));
  }

  private settle(reply: PgliteReply): void {
    const pending = this.pending.get(reply.id);
    if (pending === undefined) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(receivedError(reply.error));
  }

  /** Fails every pending call and every later one with `error`. */
  private fail(error: StintError): void {
    this.failure ??= error;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const pending of waiting) pending.reject(this.failure);
  }

  /** Posts `request` and resolves with the worker's answer to it. */
  private call<T>(request: WithoutId<PgliteRequest>, transfer?: ArrayBuffer[]): Promise<T> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      // Held open only while an answer is awaited: an idle store never keeps the process alive.
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ ...request, id } as PgliteRequest, transfer);
    });
  }

  query(sql: string, params: readonly unknown[] = [], options?: QueryOptions): Promise<SqlRow[]> {
    return this.call<SqlRow[]>({ kind: 'query', sql, params, ...(options?.prepare !== undefined ? { prepare: options.prepare } : {}) });
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const tx = this.nextTx++;
    // `fn` runs only once the worker holds the transaction open, as on the caller's thread: what
    // it reads of the store's caches is then the state every earlier transaction committed.
    await this.call<void>({ kind: 'begin', tx });
    let result: T;
    try {
      result = await fn({
        query: (sql: string, params: readonly unknown[] = [], options?: QueryOptions) =>
          this.call<SqlRow[]>({ kind: 'tx_query', tx, sql, params, ...(options?.prepare !== undefined ? { prepare: options.prepare } : {}) }),
      });
    } catch (err) {
      // Rolled back; the callback's own error is what the caller hears, unchanged.
      await this.call<void>({ kind: 'end', tx, commit: false }).catch(() => undefined);
      throw err;
    }
    await this.call<void>({ kind: 'end', tx, commit: true });
    return result;
  }

  exchangeWire(message: Uint8Array): Promise<{ readonly bytes: Uint8Array; readonly length: number }> {
    return this.call<{ bytes: Uint8Array; length: number }>({ kind: 'wire', message });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        if (this.failure === undefined) await this.call<void>({ kind: 'close' });
      } finally {
        this.failure ??= new StintError('store_unavailable', 'the store is closed');
        await this.worker.terminate();
        this.lock?.release();
      }
    })();
    return this.closing;
  }
}
