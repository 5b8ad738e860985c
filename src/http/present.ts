/**
 * The JSON shapes of the API (docs/api.md). Times are ISO 8601; secrets never appear (the
 * revocation recipe holds only names; credentials are returned once, outside the grant).
 */
import { needsReview, type Grant } from '../core/grant.js';

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/** Drops undefined members so responses stay compact and stable. */
function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

export function grantJson(g: Grant): Record<string, unknown> {
  const c = g.credential;
  return compact({
    id: g.id,
    kind: g.kind,
    parentId: g.parentId,
    tenant: g.tenant,
    principal: g.principal,
    principalType: g.principalType,
    actorChain: [...g.actorChain],
    target: g.target,
    role: g.role,
    task: g.task,
    reason: g.reason,
    ticket: g.ticket,
    ttlSeconds: g.ttlSeconds,
    breakGlass: g.breakGlass,
    status: g.status,
    endReason: g.endReason,
    decision: g.decision
      ? { outcome: g.decision.outcome, policies: [...g.decision.policies], errors: [...g.decision.errors], approvalsRequired: g.decision.approvalsRequired, decidedAt: iso(g.decision.decidedAt) }
      : undefined,
    approvals: g.approvals.map((a) => compact({ approver: a.approver, verdict: a.verdict, reason: a.reason, at: iso(a.at) })),
    review: g.review ? { reviewer: g.review.reviewer, outcome: g.review.outcome, notes: g.review.notes, at: iso(g.review.at) } : undefined,
    needsReview: needsReview(g),
    credential: compact({
      state: c.state,
      connector: c.recipe?.connector,
      revokeAttempts: c.revokeAttempts,
      revokeNextAt: c.state === 'revoke_failed' ? iso(c.revokeNextAt) : undefined,
      revokeLastError: c.revokeLastError,
      revokedAt: iso(c.revokedAt),
      evidence: c.evidence ? { verified: c.evidence.verified, checks: c.evidence.checks.map((x) => ({ ...x })), at: iso(c.evidence.at) } : undefined,
    }),
    createdAt: iso(g.createdAt),
    decisionDeadline: iso(g.decisionDeadline),
    activatedAt: iso(g.activatedAt),
    expiresAt: iso(g.expiresAt),
    endedAt: iso(g.endedAt),
    endedBy: g.endedBy,
    endNote: g.endNote,
  });
}
