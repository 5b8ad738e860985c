/**
 * `stint/client`: the TypeScript SDK of the Stint HTTP API v1.
 *
 * ```ts
 * const stint = new StintClient({ baseUrl: 'http://127.0.0.1:8080', token: process.env.STINT_TOKEN! });
 * const { grant, accessToken } = await stint.requestGrant({ target: 'orders-db', role: 'read', task: 'report', reason: 'weekly', ttl: '15m' });
 * const done = accessToken ? undefined : await stint.waitForGrant(grant.id, { timeoutMs: 900_000, intervalMs: 2_000 });
 * ```
 */
export { StintClient, DEFAULT_TIMEOUT_MS, type StintClientOptions } from './client.js';
export { StintApiError, StintNetworkError, StintOAuthError, isTransientError } from './errors.js';
export type { RequestOptions, TokenSource } from './http.js';
export type { WaitOptions, WaitOutcome, WaitResult } from './wait.js';
export type * from './types.js';
