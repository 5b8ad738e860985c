/**
 * Realistic grants and audit events for filling stores, made by the real state machine
 * (src/core/lifecycle.ts) rather than by hand, so rows and events have exactly the shape and
 * size the broker writes: an auto-approved request for orders-db/read with the token
 * connector's revocation recipe, carried through to its final state.
 */
import type { AuditEventInput } from '../core/events.js';
import type { Decision, Grant } from '../core/grant.js';
import { activate, beginProvisioning, credentialRevoked, endGrant, openGrant, type Transition } from '../core/lifecycle.js';
import { BENCH_GRANT_INPUT, BENCH_WORKLOAD } from './setup.js';

/** Final states the fill uses. */
export type SampleStatus = 'active' | 'expired' | 'completed' | 'revoked' | 'denied';

/** Pending-request timeout of examples/stint.yaml (grants.pendingTimeout: 1h). */
const PENDING_TIMEOUT_SECONDS = 3600;

/** A grant in `status` and every audit event its life produced, oldest first. */
export function sampleGrant(opts: { id: string; createdAt: number; status: SampleStatus; principal?: string; ttlSeconds?: number }): {
  grant: Grant;
  events: AuditEventInput[];
} {
  const { id, createdAt: t0, status } = opts;
  const principal = opts.principal ?? BENCH_WORKLOAD;
  const decision: Decision =
    status === 'denied'
      ? { outcome: 'deny', policies: [], errors: [], approvalsRequired: 0, decidedAt: t0 }
      : { outcome: 'auto', policies: ['auto-read'], errors: [], approvalsRequired: 0, decidedAt: t0 };
  const steps: Transition[] = [];
  const push = (t: Transition): Grant => {
    steps.push(t);
    return t.grant;
  };
  let grant = push(
    openGrant(
      {
        id,
        kind: 'access',
        tenant: 'default',
        principal,
        principalType: 'workload',
        actorChain: [],
        target: BENCH_GRANT_INPUT.target,
        role: BENCH_GRANT_INPUT.role,
        task: BENCH_GRANT_INPUT.task,
        reason: BENCH_GRANT_INPUT.reason,
        ttlSeconds: opts.ttlSeconds ?? BENCH_GRANT_INPUT.ttlSeconds,
        breakGlass: false,
      },
      decision,
      t0,
      PENDING_TIMEOUT_SECONDS,
    ),
  );
  if (status !== 'denied') {
    // The token connector's plan (src/adapters/connector-token): nothing on a target but the jti.
    grant = push(beginProvisioning(grant, { connector: 'token', target: grant.target, data: { jti: id } }, t0, 5));
    grant = push(activate(grant, t0, principal, false));
    if (status !== 'active') {
      const endAt = status === 'expired' ? grant.expiresAt! : t0 + 240_000;
      const by = status === 'expired' ? 'system' : status === 'completed' ? principal : 'human:alice';
      const note = status === 'revoked' ? 'job finished early, access no longer needed' : undefined;
      grant = push(endGrant(grant, status, by, endAt, note, 5000));
      const evidence = {
        verified: true,
        checks: [{ check: 'introspection', passed: true, detail: `token ${id} introspects as inactive` }],
        at: endAt + 3,
      };
      grant = push(credentialRevoked(grant, evidence, endAt + 3));
    }
  }
  return { grant, events: steps.flatMap((s) => s.events) };
}
