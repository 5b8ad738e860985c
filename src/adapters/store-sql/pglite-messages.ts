/**
 * The messages between a PGlite driver and the worker thread that runs the database
 * (pglite-thread.ts on the caller's side, pglite-worker.ts on the worker's). Every request
 * carries an id; the worker answers each one exactly once, in the order it finished.
 *
 * Transactions are named by the caller (`tx`). The worker handles messages in the order they
 * were posted; a transaction's statements are queued for it and run one by one inside it.
 */
import type { ErrorCode } from '../../core/errors.js';

/** What the worker is started with. */
export interface PgliteWorkerData {
  /** Absolute data directory, or a `memory://` name. The caller holds its lock. */
  readonly dataDir: string;
}

/** A request from the caller's thread. */
export type PgliteRequest =
  | { readonly kind: 'query'; readonly id: number; readonly sql: string; readonly params: readonly unknown[]; readonly prepare?: string }
  | { readonly kind: 'begin'; readonly id: number; readonly tx: number }
  | { readonly kind: 'tx_query'; readonly id: number; readonly tx: number; readonly sql: string; readonly params: readonly unknown[]; readonly prepare?: string }
  | { readonly kind: 'end'; readonly id: number; readonly tx: number; readonly commit: boolean }
  | { readonly kind: 'wire'; readonly id: number; readonly message: Uint8Array }
  | { readonly kind: 'close'; readonly id: number };

/** A `StintError` as it crosses the thread boundary (its class does not). */
export interface SentError {
  readonly code: ErrorCode;
  readonly detail: string;
  readonly internalReason?: string;
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** The worker's answer to the request with the same id. */
export type PgliteReply =
  | { readonly id: number; readonly ok: true; readonly value?: unknown }
  | { readonly id: number; readonly ok: false; readonly error: SentError };

/** The worker's first message: the database is open, or why it could not be opened. */
export type PgliteOpened = { readonly kind: 'opened' } | { readonly kind: 'open_failed'; readonly error: SentError };
