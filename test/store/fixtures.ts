/**
 * Fixtures for the store tests: a grant factory, a fast-check arbitrary that covers every
 * optional field both present and absent, and an assertion for coded errors.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { StintError, type ErrorCode } from '../../src/core/errors.js';
import type { CredentialState, Grant, GrantStatus } from '../../src/core/grant.js';
import { GRANT_STATUSES } from '../../src/core/grant.js';

const BASE_TIME = Date.UTC(2026, 0, 5, 10, 0, 0);

let sequence = 0;

/** A new id that sorts after every id made before it in this process (like the broker's ids). */
export function nextGrantId(): string {
  sequence += 1;
  return `g-${String(sequence).padStart(8, '0')}`;
}

/** A minimal valid grant; `overrides` replace any field. */
export function makeGrant(overrides: Partial<Grant> = {}): Grant {
  return {
    id: nextGrantId(),
    kind: 'access',
    tenant: 'acme',
    principal: 'workload:deploy-bot',
    principalType: 'workload',
    actorChain: [],
    target: 'orders-db',
    role: 'read',
    task: 'run migration 42',
    reason: 'release 1.2',
    ttlSeconds: 900,
    breakGlass: false,
    status: 'active',
    approvals: [],
    credential: { state: 'issued', revokeAttempts: 0 },
    createdAt: BASE_TIME,
    activatedAt: BASE_TIME,
    expiresAt: BASE_TIME + 900_000,
    version: 1,
    ...overrides,
  };
}

const CREDENTIAL_STATES: readonly CredentialState[] = ['none', 'provisioning', 'issued', 'revoking', 'revoked', 'revoke_failed'];

/** Any Unicode text PostgreSQL can hold (no U+0000, no unpaired surrogates). */
const text = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\u0000'));
const time = fc.integer({ min: 0, max: 4_102_444_800_000 });
const count = fc.nat({ max: 1_000_000 });
/** JSON a connector may put in a revocation recipe. */
// JSON has no -0 (it reads back as 0), so a -0 would be a generator artefact, not a store bug.
const json = fc
  .jsonValue({ maxDepth: 3 })
  .filter((v) => !JSON.stringify(v).includes('\\u0000'))
  .map((v) => JSON.parse(JSON.stringify(v)) as unknown);

function optional<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }, required: (keyof T)[]): fc.Arbitrary<T> {
  return fc.record(model, { requiredKeys: required, noNullPrototype: true }) as fc.Arbitrary<T>;
}

/** Random grants: every field, every optional field present or absent. */
export function grantArbitrary(): fc.Arbitrary<Grant> {
  return optional<Grant>(
    {
      id: fc.uuid(),
      kind: fc.constantFrom('access', 'extension'),
      parentId: fc.uuid(),
      tenant: text,
      principal: text,
      principalType: fc.constantFrom('workload', 'human'),
      actorChain: fc.array(text, { maxLength: 3 }),
      target: text,
      role: text,
      task: text,
      reason: text,
      ticket: text,
      ttlSeconds: count,
      breakGlass: fc.boolean(),
      status: fc.constantFrom<GrantStatus>(...GRANT_STATUSES),
      endReason: fc.constantFrom('expired', 'completed', 'revoked'),
      decision: optional<NonNullable<Grant['decision']>>(
        {
          outcome: fc.constantFrom('auto', 'approval', 'deny'),
          policies: fc.array(text, { maxLength: 3 }),
          errors: fc.array(text, { maxLength: 2 }),
          approvalsRequired: fc.nat({ max: 5 }),
          decidedAt: time,
        },
        ['outcome', 'policies', 'errors', 'approvalsRequired', 'decidedAt'],
      ),
      approvals: fc.array(
        optional<Grant['approvals'][number]>(
          { approver: text, verdict: fc.constantFrom('approve', 'deny'), reason: text, at: time },
          ['approver', 'verdict', 'at'],
        ),
        { maxLength: 3 },
      ),
      review: optional<NonNullable<Grant['review']>>(
        {
          reviewer: text,
          outcome: fc.constantFrom('justified', 'unjustified', 'needs_follow_up'),
          notes: text,
          at: time,
        },
        ['reviewer', 'outcome', 'notes', 'at'],
      ),
      credential: optional<Grant['credential']>(
        {
          state: fc.constantFrom(...CREDENTIAL_STATES),
          recipe: fc.record(
            { connector: text, target: text, data: fc.dictionary(text, json, { maxKeys: 4, noNullPrototype: true }) },
            { noNullPrototype: true },
          ),
          revokeAttempts: count,
          revokeNextAt: time,
          revokeLastError: text,
          revokedAt: time,
          evidence: fc.record(
            {
              verified: fc.boolean(),
              checks: fc.array(
                fc.record({ check: text, passed: fc.boolean(), detail: text }, { noNullPrototype: true }),
                { maxLength: 3 },
              ),
              at: time,
            },
            { noNullPrototype: true },
          ),
        },
        ['state', 'revokeAttempts'],
      ),
      createdAt: time,
      decisionDeadline: time,
      activatedAt: time,
      expiresAt: time,
      endedAt: time,
      endedBy: text,
      endNote: text,
      version: fc.integer({ min: 1, max: 1_000_000 }),
    },
    [
      'id',
      'kind',
      'tenant',
      'principal',
      'principalType',
      'actorChain',
      'target',
      'role',
      'task',
      'reason',
      'ttlSeconds',
      'breakGlass',
      'status',
      'approvals',
      'credential',
      'createdAt',
      'version',
    ],
  );
}

/** Awaits `promise`, asserts it rejects with a `StintError` of `code`, and returns the error. */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<StintError> {
  const outcome = await promise.then(
    () => ({ rejected: false as const }),
    (error: unknown) => ({ rejected: true as const, error }),
  );
  if (!outcome.rejected) throw new Error(`expected a StintError '${code}', but the promise resolved`);
  expect(outcome.error).toBeInstanceOf(StintError);
  expect((outcome.error as StintError).code).toBe(code);
  return outcome.error as StintError;
}
