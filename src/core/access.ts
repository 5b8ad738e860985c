/**
 * Who may do what. Pure rules over the principal, the grant and the (structurally typed)
 * approver configuration; the service layer enforces them. Cross-tenant access is reported
 * as "not found" so a caller learns nothing about other tenants' grants.
 */
import type { Grant } from './grant.js';
import type { Principal } from './principal.js';

/** Owners of a target as configured: `group:<name>` or `human:<id>` entries. */
export interface TargetOwnership {
  readonly tenant: string;
  readonly owners: readonly string[];
}

/** Approver groups, admins and auditors as configured. */
export interface ApproverDirectory {
  readonly groups: Readonly<Record<string, readonly string[]>>;
  readonly admins: readonly string[];
  readonly auditors: readonly string[];
}

/** Groups (from config) a principal belongs to. */
export function groupsOf(principalId: string, dir: ApproverDirectory): string[] {
  return Object.entries(dir.groups)
    .filter(([, members]) => members.includes(principalId))
    .map(([name]) => name);
}

/** Human principal ids named by a target's owners list, groups expanded. */
export function expandOwners(target: TargetOwnership, dir: ApproverDirectory): Set<string> {
  const out = new Set<string>();
  for (const owner of target.owners) {
    if (owner.startsWith('group:')) for (const m of dir.groups[owner.slice(6)] ?? []) out.add(m);
    else out.add(owner);
  }
  return out;
}

export function isAdmin(p: Principal, dir: ApproverDirectory): boolean {
  return p.type === 'human' && dir.admins.includes(p.id);
}

/** May `p` approve or deny requests on this target? (The self-approval rule is checked separately.) */
export function mayApprove(p: Principal, target: TargetOwnership, dir: ApproverDirectory): boolean {
  return p.type === 'human' && p.tenant === target.tenant && (expandOwners(target, dir).has(p.id) || isAdmin(p, dir));
}

/** Owners and admins revoke and review. */
export const mayRevoke = mayApprove;
export const mayReview = mayApprove;

/**
 * Requesters see their own grants; humans of the same tenant see the tenant's grants; an actor
 * in the grant's delegation chain (RFC 8693 `act`) sees the grant it requested for its subject.
 */
export function mayView(p: Principal, grant: Pick<Grant, 'tenant' | 'principal' | 'actorChain'>): boolean {
  if (p.tenant !== grant.tenant) return false;
  return p.type === 'human' || grant.principal === p.id || isActorOf(p, grant);
}

/** Is `p` one of the actors that requested this grant on its subject's behalf (issue #4 item 2)? */
export function isActorOf(p: Principal, grant: Pick<Grant, 'tenant' | 'actorChain'>): boolean {
  return p.tenant === grant.tenant && grant.actorChain.includes(p.id);
}

/** The requester, or an actor that did the task for it, ends a grant because the task is done. */
export function mayComplete(p: Principal, grant: Pick<Grant, 'tenant' | 'principal' | 'actorChain'>): boolean {
  return p.tenant === grant.tenant && (grant.principal === p.id || isActorOf(p, grant));
}

/**
 * May `p` pick up (activate, or get a token for) this grant? `p` is the requester, with the
 * delegation chain it presents (`actorChain`: in a token exchange, the actor token's). The
 * requester itself may; an actor only when the chain it presents is the one the grant was
 * requested with. Otherwise anyone named in the subject's `may_act` could fetch the credential
 * of a grant it never asked for, including a human who approved that grant, since approval
 * excludes only the recorded chain (lifecycle.ts recordVote).
 */
export function mayPickUp(p: Principal, grant: Pick<Grant, 'tenant' | 'principal' | 'actorChain'>): boolean {
  if (p.tenant !== grant.tenant || grant.principal !== p.id) return false;
  const chain = p.actorChain ?? [];
  return chain.length === 0 || (chain.length === grant.actorChain.length && chain.every((actor, i) => grant.actorChain[i] === actor));
}

/** The audit log is for auditors and admins. */
export function mayReadAudit(p: Principal, dir: ApproverDirectory): boolean {
  return p.type === 'human' && (dir.auditors.includes(p.id) || dir.admins.includes(p.id));
}
