/**
 * Grants for connector tests, shaped as the service hands them to `provision`: approved, with
 * the credential in `provisioning` and no expiry yet (activation sets it after provisioning).
 */
import { randomBytes } from 'node:crypto';
import type { Grant } from '../../src/core/grant.js';

/** A fresh grant id in the broker's format (`g` + 12 hex of time + 20 random hex; service/context.ts). */
export function newGrantId(now: number = Date.now()): string {
  return `g${now.toString(16).padStart(12, '0')}${randomBytes(10).toString('hex')}`;
}

/** An approved grant for `target`/`role` with a new id; `overrides` win. */
export function grantFixture(target: string, role: string, overrides: Partial<Grant> = {}): Grant {
  const now = Date.now();
  return {
    id: newGrantId(now),
    kind: 'access',
    tenant: 'default',
    principal: 'workload:conformance',
    principalType: 'workload',
    actorChain: [],
    target,
    role,
    task: 'connector conformance',
    reason: 'test',
    ttlSeconds: 900,
    breakGlass: false,
    status: 'approved',
    approvals: [],
    credential: { state: 'provisioning', revokeAttempts: 0 },
    createdAt: now,
    version: 2,
    ...overrides,
  };
}
