/** A realistic GrantJson for client and formatting tests. */
import type { GrantJson } from '../../src/client/types.js';

export const T0 = Date.UTC(2026, 0, 5, 10, 0, 0);
export const iso = (ms: number): string => new Date(ms).toISOString();

export function grantFixture(overrides: Partial<GrantJson> = {}): GrantJson {
  return {
    id: 'g0000000000001',
    kind: 'access',
    tenant: 'default',
    principal: 'workload:deploy-bot',
    principalType: 'workload',
    actorChain: [],
    target: 'orders-db',
    role: 'write',
    task: 'run migration 42',
    reason: 'release 1.2',
    ticket: 'CHG-7',
    ttlSeconds: 900,
    breakGlass: false,
    status: 'pending_approval',
    decision: { outcome: 'approval', policies: ['human-write-prod'], errors: [], approvalsRequired: 2, decidedAt: iso(T0) },
    approvals: [],
    needsReview: false,
    credential: { state: 'none', revokeAttempts: 0 },
    createdAt: iso(T0),
    decisionDeadline: iso(T0 + 3600_000),
    ...overrides,
  };
}
