/**
 * The pure state machine and tiering (issue #2, item 12): example-based rules plus properties
 * over random action sequences.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  activate,
  applyExtension,
  beginProvisioning,
  credentialRevokeFailed,
  credentialRevoked,
  endGrant,
  extensionExpiry,
  openGrant,
  recordVote,
  revokeBackoffSeconds,
  reviewBreakGlass,
  type GrantRequest,
} from '../../src/core/lifecycle.js';
import { decideTier } from '../../src/core/tiering.js';
import { effectiveStatus, isLive, TERMINAL_STATUSES, type Decision, type Grant } from '../../src/core/grant.js';
import { StintError } from '../../src/core/errors.js';
import type { PolicyAnswer } from '../../src/ports/policy.js';

const T0 = Date.UTC(2026, 0, 5, 10);
const RETRY = { initialSeconds: 1, maxSeconds: 300 };
const recipe = { connector: 'token', target: 'orders-db', data: { jti: 'g1' } };
const req = (over: Partial<GrantRequest> = {}): GrantRequest => ({
  id: 'g1',
  kind: 'access',
  tenant: 'default',
  principal: 'workload:deploy-bot',
  principalType: 'workload',
  actorChain: [],
  target: 'orders-db',
  role: 'write',
  task: 'migration 42',
  reason: 'release',
  ttlSeconds: 900,
  breakGlass: false,
  ...over,
});
const decision = (outcome: Decision['outcome'], approvalsRequired = 0): Decision => ({ outcome, policies: ['p'], errors: [], approvalsRequired, decidedAt: T0 });

function activeGrant(over: Partial<GrantRequest> = {}): Grant {
  const opened = openGrant(req(over), decision('auto'), T0, 3600);
  const begun = beginProvisioning(opened.grant, recipe, T0, 5);
  return activate(begun.grant, T0, 'policy', false).grant;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof StintError) return e.code;
    throw e;
  }
  return undefined;
}

describe('tiering', () => {
  const answer = (allowed: boolean, extra: Partial<PolicyAnswer> = {}): PolicyAnswer => ({ allowed, policies: allowed ? ['permit'] : [], errors: [], ...extra });

  it('auto-approves when permitted without approval', () => {
    expect(decideTier(() => answer(true), { breakGlass: false, roleApprovals: 2, now: T0 })).toMatchObject({ outcome: 'auto', approvalsRequired: 0 });
  });
  it('routes to humans when permitted only with approval, taking the larger approval count', () => {
    const d = decideTier((approved) => answer(approved, { approvalsAnnotation: 3 }), { breakGlass: false, roleApprovals: 2, now: T0 });
    expect(d).toMatchObject({ outcome: 'approval', approvalsRequired: 3 });
    expect(decideTier((approved) => answer(approved), { breakGlass: false, roleApprovals: 2, now: T0 }).approvalsRequired).toBe(2);
  });
  it('denies otherwise, and denies on any evaluation error (fail closed)', () => {
    expect(decideTier(() => answer(false), { breakGlass: false, roleApprovals: 1, now: T0 }).outcome).toBe('deny');
    expect(decideTier(() => answer(true, { errors: ['boom'] }), { breakGlass: false, roleApprovals: 1, now: T0 }).outcome).toBe('deny');
    expect(decideTier((approved) => (approved ? answer(true, { errors: ['boom'] }) : answer(false)), { breakGlass: false, roleApprovals: 1, now: T0 }).outcome).toBe('deny');
  });
  it('never routes break-glass to humans', () => {
    const passes: boolean[] = [];
    const d = decideTier((approved) => (passes.push(approved), answer(approved)), { breakGlass: true, roleApprovals: 1, now: T0 });
    expect(d.outcome).toBe('deny');
    expect(passes).toEqual([false]);
  });
});

describe('state machine rules', () => {
  it('opens denied, pending or approved according to the decision, with its events', () => {
    expect(openGrant(req(), decision('deny'), T0, 3600).grant.status).toBe('denied');
    const pending = openGrant(req(), decision('approval', 2), T0, 3600);
    expect(pending.grant).toMatchObject({ status: 'pending_approval', decisionDeadline: T0 + 3600_000 });
    expect(pending.events.map((e) => e.type)).toEqual(['grant.requested', 'grant.pending']);
    expect(openGrant(req(), decision('auto'), T0, 3600).events.map((e) => e.type)).toEqual(['grant.requested', 'grant.approved']);
  });

  it('needs N distinct eligible approvers, never the requester or its actors', () => {
    const g = openGrant(req({ actorChain: ['workload:agent-7'] }), decision('approval', 2), T0, 3600).grant;
    expect(codeOf(() => recordVote(g, { approver: 'workload:deploy-bot', verdict: 'approve', at: T0 }, true, T0, 3600))).toBe('self_approval');
    expect(codeOf(() => recordVote(g, { approver: 'workload:agent-7', verdict: 'approve', at: T0 }, true, T0, 3600))).toBe('self_approval');
    expect(codeOf(() => recordVote(g, { approver: 'human:eve', verdict: 'approve', at: T0 }, false, T0, 3600))).toBe('forbidden');
    const one = recordVote(g, { approver: 'human:alice', verdict: 'approve', at: T0 }, true, T0, 3600).grant;
    expect(one.status).toBe('pending_approval');
    expect(codeOf(() => recordVote(one, { approver: 'human:alice', verdict: 'approve', at: T0 }, true, T0, 3600))).toBe('already_decided');
    const two = recordVote(one, { approver: 'human:bob', verdict: 'approve', at: T0 + 5 }, true, T0 + 5, 3600).grant;
    expect(two.status).toBe('approved');
    expect(two.decisionDeadline).toBe(T0 + 5 + 3600_000);
    expect(codeOf(() => recordVote(g, { approver: 'human:bob', verdict: 'deny', at: T0 }, true, T0, 3600))).toBe('invalid_request');
    expect(recordVote(g, { approver: 'human:bob', verdict: 'deny', reason: 'no', at: T0 }, true, T0, 3600).grant.status).toBe('denied');
  });

  it('activates with the TTL starting at activation', () => {
    const opened = openGrant(req(), decision('auto'), T0, 3600);
    expect(codeOf(() => activate(opened.grant, T0, 'x', false))).toBe('invalid_state');
    const g = activate(beginProvisioning(opened.grant, recipe, T0 + 10, 5).grant, T0 + 10, 'x', true);
    expect(g.grant).toMatchObject({ status: 'active', activatedAt: T0 + 10, expiresAt: T0 + 10 + 900_000 });
    expect(g.grant.decisionDeadline).toBeUndefined();
    expect(g.grant.credential.revokeNextAt).toBeUndefined();
    expect(g.events.map((e) => e.type)).toEqual(['credential.issued', 'grant.activated']);
  });

  it('is never live at or after expiry, whatever the stored status says', () => {
    const g = activeGrant();
    expect(isLive(g, g.expiresAt! - 1)).toBe(true);
    expect(isLive(g, g.expiresAt!)).toBe(false);
    expect(effectiveStatus(g, g.expiresAt!)).toBe('expired');
    expect(codeOf(() => endGrant(g, 'completed', g.principal, g.expiresAt!, undefined, 0))).toBe('invalid_state');
    expect(codeOf(() => endGrant(g, 'expired', 'system', g.expiresAt! - 1, undefined, 0))).toBe('invalid_state');
    const ended = endGrant(g, 'expired', 'system', g.expiresAt! + 5000, undefined, 1000).grant;
    // The record says when privilege really ended, not when the worker noticed.
    expect(ended).toMatchObject({ status: 'expired', endedAt: g.expiresAt, credential: { state: 'revoking', revokeNextAt: g.expiresAt! + 6000 } });
  });

  it('retries failed revocations with capped exponential backoff, forever', () => {
    let g = endGrant(activeGrant(), 'completed', 'workload:deploy-bot', T0 + 1000, undefined, 0).grant;
    const delays: number[] = [];
    for (let i = 0; i < 40; i++) {
      const now = T0 + 2000 + i;
      g = credentialRevokeFailed(g, 'connection refused', false, now, RETRY).grant;
      expect(g.status).toBe('revoke_failed');
      delays.push((g.credential.revokeNextAt! - now) / 1000);
    }
    expect(delays.slice(0, 5)).toEqual([1, 2, 4, 8, 16]);
    expect(Math.max(...delays)).toBe(300);
    expect(g.credential.revokeAttempts).toBe(40);
    const evidence = { verified: true, checks: [{ check: 'login', passed: true, detail: 'refused' }], at: T0 + 9000 };
    const done = credentialRevoked(g, evidence, T0 + 9000).grant;
    expect(done).toMatchObject({ status: 'completed', credential: { state: 'revoked', evidence } });
    expect(done.credential.revokeLastError).toBeUndefined();
    expect(codeOf(() => credentialRevoked(g, { ...evidence, verified: false }, T0))).toBe('invalid_state');
    expect(credentialRevokeFailed(g, 'still there', true, T0, RETRY).events.map((e) => e.type)).toEqual(['credential.still_usable', 'credential.revoke_failed']);
  });

  it('extends without a gap and never past the role maximum from now', () => {
    const parent = activeGrant({ role: 'read' });
    expect(extensionExpiry(parent, 600, T0 + 60_000, 3600)).toBe(parent.expiresAt! + 600_000);
    expect(codeOf(() => extensionExpiry(parent, 3000, T0, 3600))).toBe('ttl_exceeds_max');
    const ext = openGrant(req({ id: 'g2', kind: 'extension', parentId: parent.id, role: 'read', ttlSeconds: 600 }), decision('auto'), T0, 3600).grant;
    const applied = applyExtension(parent, ext, T0 + 1, 3600);
    expect(applied.parent.grant.expiresAt).toBe(parent.expiresAt! + 600_000);
    expect(applied.parent.events.map((e) => e.type)).toEqual(['grant.extended']);
    // The applied extension ends at approved with nothing pending: it never reads as lapsed.
    expect(ext.decisionDeadline).toBeDefined();
    expect(applied.extension).toMatchObject({ status: 'approved', endedAt: T0 + 1 });
    expect(applied.extension.decisionDeadline).toBeUndefined();
    expect(effectiveStatus(applied.extension, T0 + 7 * 86_400_000)).toBe('approved');
    // It has ended: revoking, completing or lapsing it would record an end that changes nothing.
    for (const reason of ['revoked', 'completed', 'expired'] as const) {
      expect(codeOf(() => endGrant(applied.extension, reason, 'human:root', T0 + 2, 'x', 1000))).toBe('invalid_state');
    }
    expect(codeOf(() => applyExtension(parent, { ...ext, status: 'pending_approval' }, T0, 3600))).toBe('invalid_state');
    expect(codeOf(() => applyExtension(parent, ext, parent.expiresAt!, 3600))).toBe('invalid_state');
  });

  it('reviews only break-glass grants, once, never by the requester', () => {
    const bg = activeGrant({ breakGlass: true });
    const review = { reviewer: 'human:alice', outcome: 'justified' as const, notes: 'ok', at: T0 };
    expect(codeOf(() => reviewBreakGlass(activeGrant(), review, true))).toBe('not_break_glass');
    expect(codeOf(() => reviewBreakGlass(bg, { ...review, reviewer: bg.principal }, true))).toBe('self_approval');
    expect(codeOf(() => reviewBreakGlass(bg, review, false))).toBe('forbidden');
    const done = reviewBreakGlass(bg, review, true).grant;
    expect(codeOf(() => reviewBreakGlass(done, review, true))).toBe('already_reviewed');
  });
});

describe('state machine properties', () => {
  type Action =
    | { kind: 'vote'; approver: string; verdict: 'approve' | 'deny' }
    | { kind: 'activate' }
    | { kind: 'end'; reason: 'expired' | 'completed' | 'revoked' }
    | { kind: 'revokeResult'; ok: boolean }
    | { kind: 'advance'; ms: number };
  const action: fc.Arbitrary<Action> = fc.oneof(
    fc.record({ kind: fc.constant('vote' as const), approver: fc.constantFrom('human:alice', 'human:bob', 'human:carol', 'workload:deploy-bot'), verdict: fc.constantFrom('approve' as const, 'deny' as const) }),
    fc.constant({ kind: 'activate' as const }),
    fc.record({ kind: fc.constant('end' as const), reason: fc.constantFrom('expired' as const, 'completed' as const, 'revoked' as const) }),
    fc.record({ kind: fc.constant('revokeResult' as const), ok: fc.boolean() }),
    fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 2 * 3600_000 }) }),
  );

  it('any action sequence keeps the invariants; refused actions change nothing', () => {
    fc.assert(
      fc.property(fc.constantFrom<Decision['outcome']>('auto', 'approval', 'deny'), fc.array(action, { maxLength: 25 }), (outcome, actions) => {
        let now = T0;
        let g = openGrant(req(), decision(outcome, 2), now, 3600).grant;
        let everActive = false;
        for (const a of actions) {
          const before = g;
          try {
            switch (a.kind) {
              case 'advance':
                now += a.ms;
                break;
              case 'vote':
                g = recordVote(g, { approver: a.approver, verdict: a.verdict, ...(a.verdict === 'deny' ? { reason: 'r' } : {}), at: now }, a.approver.startsWith('human:') && a.approver !== 'human:carol', now, 3600).grant;
                break;
              case 'activate':
                g = activate(beginProvisioning(g, recipe, now, 5).grant, now, 'x', false).grant;
                break;
              case 'end':
                g = endGrant(g, a.reason, 'human:alice', now, undefined, 0).grant;
                break;
              case 'revokeResult':
                g = a.ok
                  ? credentialRevoked(g, { verified: true, checks: [], at: now }, now).grant
                  : credentialRevokeFailed(g, 'down', false, now, RETRY).grant;
                break;
            }
          } catch (e) {
            expect(e).toBeInstanceOf(StintError);
            expect(g).toBe(before);
          }
          if (g.status === 'active') everActive = true;
          // A grant is live only while active and before its expiry.
          if (isLive(g, now)) expect(g.expiresAt! > now).toBe(true);
          // Approval never happens without enough distinct human approvals.
          if (['approved', 'active'].includes(g.status) && outcome === 'approval') {
            expect(new Set(g.approvals.filter((v) => v.verdict === 'approve').map((v) => v.approver)).size).toBeGreaterThanOrEqual(2);
            expect(g.approvals.some((v) => v.approver === g.principal)).toBe(false);
          }
          // Denied requests never become active.
          if (outcome === 'deny') expect(everActive).toBe(false);
          // Ended grants carry their end reason; a credential, once revoked, stays revoked.
          if (TERMINAL_STATUSES.has(g.status) && g.status !== 'denied') expect(g.endReason).toBe(g.status);
          if (before.credential.state === 'revoked') expect(g.credential.state).toBe('revoked');
          // Every successful step bumps the version (activation is two steps: intent, then active).
          if (before !== g) expect(g.version).toBe(before.version + (a.kind === 'activate' ? 2 : 1));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('backoff is monotonic and capped for any settings', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 60, max: 3600 }), fc.integer({ min: 1, max: 200 }), (initial, max, n) => {
        const r = { initialSeconds: initial, maxSeconds: max };
        expect(revokeBackoffSeconds(n + 1, r)).toBeGreaterThanOrEqual(revokeBackoffSeconds(n, r));
        expect(revokeBackoffSeconds(n, r)).toBeLessThanOrEqual(max);
      }),
    );
  });
});
