/**
 * The one error registry. Every error Stint returns over HTTP (RFC 9457 problem+json), prints
 * on the CLI or raises internally has a stable `code` from this list. docs/errors.md lists the
 * same codes; test/errors-registry.test.ts keeps the two in sync (the fastify model).
 *
 * Authentication failures reveal nothing to the caller (`unauthenticated` with a generic
 * detail) while the precise reason goes to the audit log and the server log (the jose model).
 */
export const ERROR_REGISTRY = {
  invalid_request: { status: 400, title: 'The request is malformed' },
  invalid_body: { status: 400, title: 'The request body does not match the schema' },
  body_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'The request content type is not supported' },
  unauthenticated: { status: 401, title: 'Authentication is required' },
  forbidden: { status: 403, title: 'The caller may not perform this action' },
  self_approval: { status: 403, title: 'A requester can never approve its own grant' },
  not_found: { status: 404, title: 'No such resource' },
  grant_not_found: { status: 404, title: 'No such grant' },
  unknown_target: { status: 400, title: 'The target is not configured' },
  unknown_role: { status: 400, title: 'The role is not configured for this target' },
  ttl_exceeds_max: { status: 400, title: 'The requested TTL exceeds the maximum for this role' },
  invalid_state: { status: 409, title: 'The grant is not in a state that allows this action' },
  already_decided: { status: 409, title: 'This approver has already decided on this grant' },
  conflict: { status: 409, title: 'The grant changed concurrently; retry' },
  policy_denied: { status: 403, title: 'Policy denied the request' },
  not_break_glass: { status: 409, title: 'Only break-glass grants are reviewed' },
  already_reviewed: { status: 409, title: 'This break-glass grant has already been reviewed' },
  audit_unavailable: { status: 503, title: 'The audit log could not be written; nothing was changed' },
  store_unavailable: { status: 503, title: 'The store is unavailable' },
  target_unavailable: { status: 503, title: 'The target could not be reached; nothing was granted' },
  not_ready: { status: 503, title: 'The broker is not ready' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal error' },
  config_invalid: { status: 500, title: 'The configuration is invalid' },
  policy_invalid: { status: 500, title: 'A policy file is invalid' },
  store_locked: { status: 500, title: 'The data directory is in use by another process' },
  checkpoint_invalid: { status: 400, title: 'The checkpoint is not a valid signed note' },
  audit_proof_unavailable: { status: 404, title: 'No such audit entry' },
} as const satisfies Record<string, { status: number; title: string }>;

/** Union of every stable error code. */
export type ErrorCode = keyof typeof ERROR_REGISTRY;

export const ERROR_CODES = Object.keys(ERROR_REGISTRY) as ErrorCode[];

/**
 * An expected failure with a stable code. `detail` is shown to the caller and must never
 * contain a secret; `internalReason` is for logs and the audit log only.
 */
export class StintError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string;
  readonly internalReason?: string;
  /** Extra problem members (e.g. `errors` for schema violations). Must be JSON-safe and secret-free. */
  readonly extra?: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    detail?: string,
    options?: { internalReason?: string; extra?: Record<string, unknown>; cause?: unknown },
  ) {
    const entry = ERROR_REGISTRY[code];
    super(detail ?? entry.title, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StintError';
    this.code = code;
    this.status = entry.status;
    this.detail = detail ?? entry.title;
    if (options?.internalReason !== undefined) this.internalReason = options.internalReason;
    if (options?.extra !== undefined) this.extra = options.extra;
  }
}

export function isStintError(e: unknown): e is StintError {
  return e instanceof StintError;
}
