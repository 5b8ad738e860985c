/**
 * The two ways a call can fail: the broker answered with an error (RFC 9457 problem+json,
 * {@link StintApiError}), or no usable answer arrived at all ({@link StintNetworkError}).
 * Neither message ever contains the caller's token.
 */
import type { ErrorCode, ProblemJson } from './types.js';

/** The broker answered with an error. `code` is the stable code from the error registry. */
export class StintApiError extends Error {
  /** Stable error code (`grant_not_found`, `invalid_state`, ...). */
  readonly code: ErrorCode;
  /** HTTP status of the answer. */
  readonly status: number;
  /** What went wrong, as the broker explained it. */
  readonly detail: string;
  /** Generic title of the code. */
  readonly title: string;
  /**
   * The problem document. For an error answer that was not problem+json (a proxy's 502 page),
   * a document synthesised from the HTTP status (`type: about:blank`, RFC 9457 section 4.2.1).
   */
  readonly problem: ProblemJson;

  constructor(problem: ProblemJson) {
    super(`${problem.code}: ${problem.detail}`);
    this.name = 'StintApiError';
    this.code = problem.code;
    this.status = problem.status;
    this.detail = problem.detail;
    this.title = problem.title;
    this.problem = problem;
  }
}

/**
 * The OAuth token endpoint answered with an OAuth error (RFC 6749 section 5.2): `invalid_grant`,
 * `access_denied`, or `authorization_pending` with the grant id to poll with (docs/oauth.md).
 */
export class StintOAuthError extends Error {
  /** OAuth error code (`invalid_grant`, `authorization_pending`, ...). */
  readonly error: string;
  /** `error_description`, when the broker gave one. */
  readonly description: string;
  /** The grant the answer is about (pending, denied or ended), when there is one. */
  readonly grantId?: string;
  /** HTTP status of the answer. */
  readonly status: number;

  constructor(error: string, description: string, status: number, grantId?: string) {
    super(`${error}: ${description}`);
    this.name = 'StintOAuthError';
    this.error = error;
    this.description = description;
    this.status = status;
    if (grantId !== undefined) this.grantId = grantId;
  }
}

/** No usable answer: connection refused or reset, DNS failure, or no answer within the timeout. */
export class StintNetworkError extends Error {
  /** The URL that was called. */
  readonly url: string;
  /** True when the request was abandoned because the client's timeout elapsed. */
  readonly timedOut: boolean;

  constructor(message: string, url: string, options: { timedOut: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StintNetworkError';
    this.url = url;
    this.timedOut = options.timedOut;
  }
}

/** True for failures worth retrying while polling: no answer, overload, or a broker not ready yet. */
export function isTransientError(e: unknown): boolean {
  return e instanceof StintNetworkError || (e instanceof StintApiError && (e.status === 503 || e.status === 429));
}
