/**
 * The one place a `Grant` becomes a `grants` row and back. Fields the store filters, orders or
 * claims on are columns; everything else is stored once in `doc` (jsonb). The round trip is
 * exact: an optional field that is absent stays absent (NULL columns and missing doc keys map
 * back to no property at all).
 */
import type { CredentialState, Grant, GrantStatus } from '../../core/grant.js';
import { needsReview } from '../../core/grant.js';
import { StintError } from '../../core/errors.js';
import type { SqlRow } from './driver.js';

/** Insert/select column order; `grantToParams` returns values in this order. */
export const GRANT_COLUMNS = [
  'id',
  'kind',
  'parent_id',
  'tenant',
  'principal',
  'principal_type',
  'target',
  'role',
  'status',
  'break_glass',
  'needs_review',
  'created_at',
  'expires_at',
  'decision_deadline',
  'credential_state',
  'revoke_next_at',
  'version',
  'doc',
] as const;

/** `GRANT_COLUMNS` as a select list. */
export const GRANT_SELECT = GRANT_COLUMNS.join(', ');

/** Index of the `version` parameter in `grantToParams`, 1-based as in SQL (`$17`). */
export const VERSION_PARAM = GRANT_COLUMNS.indexOf('version') + 1;

/** Index of the `doc` parameter, 1-based; it is sent as JSON text and cast to jsonb. */
export const DOC_PARAM = GRANT_COLUMNS.indexOf('doc') + 1;

/**
 * PostgreSQL text cannot hold U+0000 and jsonb rejects unpaired surrogates (the pg driver would
 * even replace them silently), so such strings could not round-trip: refuse them up front.
 */
const UNSTORABLE_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * The statement parameters for `grant`, in `GRANT_COLUMNS` order. Throws
 * `StintError('invalid_request')` when a value cannot be stored exactly.
 */
export function grantToParams(grant: Grant): unknown[] {
  assertStorable(grant, 'grant');
  const {
    id,
    kind,
    parentId,
    tenant,
    principal,
    principalType,
    target,
    role,
    status,
    breakGlass,
    createdAt,
    expiresAt,
    decisionDeadline,
    version,
    credential,
    ...docFields
  } = grant;
  const { state, revokeNextAt, ...credentialDoc } = credential;
  const doc = { ...docFields, credential: credentialDoc };
  return [
    id,
    kind,
    parentId ?? null,
    tenant,
    principal,
    principalType,
    target,
    role,
    status,
    breakGlass,
    needsReview(grant),
    epochMs('createdAt', createdAt),
    optionalEpochMs('expiresAt', expiresAt),
    optionalEpochMs('decisionDeadline', decisionDeadline),
    state,
    optionalEpochMs('credential.revokeNextAt', revokeNextAt),
    epochMs('version', version),
    JSON.stringify(doc),
  ];
}

/** The grant stored in `row` (selected with `GRANT_SELECT`). */
export function rowToGrant(row: SqlRow): Grant {
  const { credential: credentialDoc, ...docFields } = row.doc as Record<string, unknown> & {
    credential: Record<string, unknown>;
  };
  const grant = {
    ...docFields,
    id: row.id as string,
    kind: row.kind as Grant['kind'],
    ...(row.parent_id !== null ? { parentId: row.parent_id as string } : {}),
    tenant: row.tenant as string,
    principal: row.principal as string,
    principalType: row.principal_type as Grant['principalType'],
    target: row.target as string,
    role: row.role as string,
    status: row.status as GrantStatus,
    breakGlass: row.break_glass as boolean,
    createdAt: Number(row.created_at),
    ...(row.expires_at !== null ? { expiresAt: Number(row.expires_at) } : {}),
    ...(row.decision_deadline !== null ? { decisionDeadline: Number(row.decision_deadline) } : {}),
    version: Number(row.version),
    credential: {
      ...credentialDoc,
      state: row.credential_state as CredentialState,
      ...(row.revoke_next_at !== null ? { revokeNextAt: Number(row.revoke_next_at) } : {}),
    },
  };
  return grant as unknown as Grant;
}

/** Throws unless every string and number under `value` survives PostgreSQL and JSON unchanged. */
export function assertStorable(value: unknown, path: string): void {
  const problem = unstorableIn(value);
  if (problem !== undefined) throw new StintError('invalid_request', `${path}${problem.at} ${problem.what}`);
}

/**
 * The first value under `value` that cannot be stored: where (relative to `value`, `.key`,
 * `[i]`, or ` key` for a member name) and why. Paths are built only on the way back from a
 * problem: every grant write passes here, and building one path string per field made this
 * check ~8% of the bytes a grant request allocates (measured in session 8).
 */
function unstorableIn(value: unknown): { at: string; what: string } | undefined {
  if (typeof value === 'string') return UNSTORABLE_TEXT.test(value) ? { at: '', what: 'contains a NUL character or an unpaired surrogate' } : undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { at: '', what: 'is not a finite number' };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = unstorableIn(value[i]);
      if (problem !== undefined) return { at: `[${i}]${problem.at}`, what: problem.what };
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    // Own enumerable string keys, in Object.keys order (what JSON.stringify writes).
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue;
      if (UNSTORABLE_TEXT.test(key)) return { at: ' key', what: 'contains a NUL character or an unpaired surrogate' };
      const problem = unstorableIn(record[key]);
      if (problem !== undefined) return { at: `.${key}${problem.at}`, what: problem.what };
    }
  }
  return undefined;
}

function epochMs(field: string, value: number): number {
  if (!Number.isSafeInteger(value)) throw new StintError('invalid_request', `${field} must be an integer`);
  return value;
}

function optionalEpochMs(field: string, value: number | undefined): number | null {
  return value === undefined ? null : epochMs(field, value);
}
