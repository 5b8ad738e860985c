/**
 * Blocking until a grant settles: what a pipeline needs after `POST /v1/grants` answered
 * `pending_approval`. Polls the grant; when it is approved and the caller is its requester,
 * activates it (which starts the TTL and hands over the access token).
 */
import { StintApiError, isTransientError } from './errors.js';
import type { ActivateResponse, GrantJson, GrantStatus, IssuedCredentialJson } from './types.js';

/** Options of `waitForGrant`. */
export interface WaitOptions {
  /** Give up after this long (ms). 0 polls exactly once. */
  readonly timeoutMs: number;
  /** Pause between polls (ms). */
  readonly intervalMs: number;
  /** Stops waiting; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Called with the first grant seen and whenever its status or approvals change. */
  readonly onUpdate?: (grant: GrantJson) => void;
  /**
   * Activate an approved grant (default true). Activation is refused to anyone but the
   * requester; an approver who waits simply keeps polling until the requester activates.
   */
  readonly activate?: boolean;
}

/** How a wait ended: the grant's final status, or `timeout`. */
export type WaitOutcome = Extract<GrantStatus, 'active' | 'denied' | 'expired' | 'revoked' | 'completed' | 'revoke_failed' | 'approved'> | 'timeout';

/** Result of `waitForGrant`. `accessToken`/`credential` are present only when this wait activated the grant. */
export interface WaitResult {
  readonly outcome: WaitOutcome;
  /** The last state seen. */
  readonly grant: GrantJson;
  readonly accessToken?: string;
  readonly credential?: IssuedCredentialJson;
}

/** What waiting needs from the client. */
export interface WaitDeps {
  getGrant(id: string, options: { signal?: AbortSignal }): Promise<GrantJson>;
  activate(id: string, options: { signal?: AbortSignal }): Promise<ActivateResponse>;
  /** Epoch ms (injectable for tests). */
  now(): number;
}

/** Statuses after which nothing more will happen before the grant becomes usable or is gone. */
const SETTLED: ReadonlySet<GrantStatus> = new Set(['active', 'denied', 'expired', 'revoked', 'completed', 'revoke_failed']);

/** An extension request stops at `approved`: approval applies it to its parent. */
function settledOutcome(grant: GrantJson): WaitOutcome | undefined {
  if (SETTLED.has(grant.status)) return grant.status as WaitOutcome;
  if (grant.kind === 'extension' && grant.status === 'approved') return 'approved';
  return undefined;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function changed(before: GrantJson | undefined, after: GrantJson): boolean {
  return before === undefined || before.status !== after.status || before.approvals.length !== after.approvals.length;
}

/**
 * Polls grant `id` until it settles or `timeoutMs` elapses. Transient failures (no answer,
 * 429, 503) are retried until the deadline; if the last poll before the deadline failed,
 * that error is thrown instead of reporting a timeout.
 */
export async function waitForGrant(deps: WaitDeps, id: string, options: WaitOptions): Promise<WaitResult> {
  const { signal } = options;
  const deadline = deps.now() + Math.max(0, options.timeoutMs);
  const interval = Math.max(1, options.intervalMs);
  let tryActivate = options.activate !== false;
  let last: GrantJson | undefined;
  for (;;) {
    let pollError: unknown;
    try {
      const grant = await deps.getGrant(id, signal ? { signal } : {});
      if (changed(last, grant)) options.onUpdate?.(grant);
      last = grant;
      const outcome = settledOutcome(grant);
      if (outcome !== undefined) return { outcome, grant };
      if (grant.status === 'approved' && tryActivate) {
        const activated = await activateIfRequester(deps, id, signal);
        if (activated === 'not_requester') tryActivate = false;
        else if (activated !== 'retry') {
          options.onUpdate?.(activated.grant);
          return {
            outcome: 'active',
            grant: activated.grant,
            accessToken: activated.accessToken,
            ...(activated.credential !== undefined ? { credential: activated.credential } : {}),
          };
        }
      }
    } catch (e) {
      if (!isTransientError(e)) throw e;
      pollError = e;
    }
    const remaining = deadline - deps.now();
    if (remaining <= 0) {
      if (pollError !== undefined || last === undefined) throw pollError;
      return { outcome: 'timeout', grant: last };
    }
    await sleep(Math.min(interval, remaining), signal);
  }
}

/**
 * Activates an approved grant. `forbidden` means the caller is not the requester; `invalid_state`
 * and `conflict` mean someone else moved the grant meanwhile (the next poll shows where to).
 */
async function activateIfRequester(deps: WaitDeps, id: string, signal: AbortSignal | undefined): Promise<ActivateResponse | 'not_requester' | 'retry'> {
  try {
    return await deps.activate(id, signal ? { signal } : {});
  } catch (e) {
    if (e instanceof StintApiError && e.code === 'forbidden') return 'not_requester';
    if (e instanceof StintApiError && (e.code === 'invalid_state' || e.code === 'conflict')) return 'retry';
    throw e;
  }
}
