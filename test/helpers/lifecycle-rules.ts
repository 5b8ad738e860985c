/**
 * The grant lifecycle's rules as seen in a whole audit log, for tests that drive many lifecycles
 * at once and then check what was recorded (test/api/concurrent-lifecycles.test.ts,
 * test/e2e/random-kill.test.ts). `ruleBreaks` returns what is broken; empty when nothing is.
 */
import type { AuditRecord } from '../../src/core/events.js';

/** Events that end a grant; at most one per grant. */
export const ENDS = new Set(['grant.denied', 'grant.completed', 'grant.revoked', 'grant.expired']);
/** What may still be recorded about a grant after its end. */
const AFTER_END = new Set(['credential.revoking', 'credential.revoked', 'credential.revoke_failed', 'credential.verified_revoked', 'credential.still_usable', 'grant.reviewed']);
/**
 * Approvals the example configuration requires (examples/stint.yaml), a floor under what the
 * decision recorded in `grant.pending` (`approvalsRequired`); 1 where neither says more.
 */
const REQUIRED_APPROVALS: Readonly<Record<string, number>> = { 'orders-db/write': 2 };
export const STATUS_OF_END: Readonly<Record<string, string>> = { 'grant.denied': 'denied', 'grant.completed': 'completed', 'grant.revoked': 'revoked', 'grant.expired': 'expired' };

/** The lifecycle's rules, checked over the whole log. Returns what is broken (empty when nothing). */
export function ruleBreaks(records: readonly AuditRecord[]): string[] {
  const broken: string[] = [];
  const byGrant = new Map<string, { type: string; actor: string; data: Record<string, unknown> }[]>();
  records.forEach((r, i) => {
    if (r.seq !== i) broken.push(`seq ${r.seq} at index ${i}`);
    if (r.grantId === undefined) return;
    const body = JSON.parse(r.canonical) as { data: Record<string, unknown> };
    const list = byGrant.get(r.grantId) ?? [];
    list.push({ type: r.type, actor: r.actor, data: body.data });
    byGrant.set(r.grantId, list);
  });
  for (const [id, events] of byGrant) {
    // An extension is a grant of its own, requested with `grant.extension_requested`.
    const requested = events.filter((e) => e.type === 'grant.requested' || e.type === 'grant.extension_requested');
    if (requested.length !== 1) {
      broken.push(`${id}: ${requested.length} requests (${events.map((e) => e.type).join(', ')})`);
      continue;
    }
    const { principal, target, role } = requested[0]!.data as { principal: string; target: string; role: string };
    const endAt = events.findIndex((e) => ENDS.has(e.type));
    if (events.filter((e) => ENDS.has(e.type)).length > 1) broken.push(`${id}: ended twice (${events.map((e) => e.type).join(', ')})`);
    if (endAt >= 0) {
      const after = events.slice(endAt + 1).filter((e) => !AFTER_END.has(e.type));
      if (after.length > 0) broken.push(`${id}: ${after.map((e) => e.type).join(', ')} after ${events[endAt]!.type}`);
    }
    // Nothing extends silently: each extension applied was approved first, and applied at most once.
    for (const extended of events.filter((e) => e.type === 'grant.extended')) {
      const extensionId = extended.data.extensionId as string;
      const extension = byGrant.get(extensionId) ?? [];
      if (!extension.some((e) => e.type === 'grant.approved')) broken.push(`${id}: extended by ${extensionId}, which was not approved`);
      if (extension.some((e) => ENDS.has(e.type))) broken.push(`${id}: extended by ${extensionId}, which then lapsed (${extension.map((e) => e.type).join(', ')})`);
    }
    const applied = events.filter((e) => e.type === 'grant.extended').map((e) => e.data.extensionId);
    if (new Set(applied).size !== applied.length) broken.push(`${id}: one extension applied twice`);
    if (events.filter((e) => e.type === 'grant.activated').length > 1) broken.push(`${id}: activated twice`);
    // Break-glass is reviewed once, by a human who did not ask, and only break-glass is.
    const reviews = events.filter((e) => e.type === 'grant.reviewed');
    if (reviews.length > 0 && !events.some((e) => e.type === 'breakglass.activated')) broken.push(`${id}: reviewed, but not break-glass`);
    if (reviews.length > 1) broken.push(`${id}: reviewed ${reviews.length} times`);
    if (reviews.some((e) => e.actor === principal || !e.actor.startsWith('human:'))) broken.push(`${id}: reviewed by ${reviews.map((e) => e.actor).join(', ')}`);
    // A grant that conferred privilege and ended has its credential revoked and proven dead.
    if (endAt >= 0 && events.some((e) => e.type === 'grant.activated')) {
      for (const proof of ['credential.revoked', 'credential.verified_revoked']) {
        if (!events.slice(endAt).some((e) => e.type === proof)) broken.push(`${id}: ended without ${proof}`);
      }
    }
    if (events.filter((e) => e.type === 'grant.approved').length > 1) broken.push(`${id}: approved twice`);
    const approvers = events.filter((e) => e.type === 'grant.approval_recorded').map((e) => e.actor);
    if (approvers.includes(principal)) broken.push(`${id}: approved by its requester ${principal}`);
    // Nobody acting for the requester may approve either (RFC 8693 delegation, docs/oauth.md).
    const chain = (requested[0]!.data.actorChain as string[] | undefined) ?? [];
    const inChain = approvers.filter((a) => chain.includes(a));
    if (inChain.length > 0) broken.push(`${id}: approved by ${inChain.join(', ')}, who acted for the requester`);
    if (approvers.some((a) => !a.startsWith('human:'))) broken.push(`${id}: approved by a workload (${approvers.join(', ')})`);
    if (new Set(approvers).size !== approvers.length) broken.push(`${id}: the same approver twice (${approvers.join(', ')})`);
    const approvedAt = events.findIndex((e) => e.type === 'grant.approved');
    const recorded = Number(events.find((e) => e.type === 'grant.pending')?.data.approvalsRequired ?? 1);
    const needed = Math.max(REQUIRED_APPROVALS[`${target}/${role}`] ?? 1, recorded);
    // Auto-approved and break-glass grants are approved by policy, with no human vote.
    const byHumans = approvedAt >= 0 && events.slice(0, approvedAt).some((e) => e.type === 'grant.pending');
    if (byHumans) {
      const votes = events.slice(0, approvedAt).filter((e) => e.type === 'grant.approval_recorded').length;
      if (votes < needed) broken.push(`${id}: approved after ${votes} of ${needed} approvals`);
    }
  }
  return broken;
}

