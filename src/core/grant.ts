/**
 * The grant: one identity's privilege on one target, for one task, for a bounded time.
 * Plain data; the rules that move it between states live in `lifecycle.ts`.
 */

/**
 * Lifecycle states (issue #2):
 *   requested -> denied | pending_approval | active (auto-approved / break-glass)
 *   pending_approval -> approved -> active, or -> denied, or -> expired (nobody decided in time)
 *   active -> expired | completed | revoked
 * `revoke_failed` is an ended grant whose target-side revocation has not been confirmed yet;
 * it is retried forever and returns to its end reason once the target confirms.
 * Extension requests (kind `extension`) stop at `approved`: approval applies them to the parent.
 */
export type GrantStatus =
  | 'requested'
  | 'denied'
  | 'pending_approval'
  | 'approved'
  | 'active'
  | 'expired'
  | 'completed'
  | 'revoked'
  | 'revoke_failed';

export const GRANT_STATUSES: readonly GrantStatus[] = [
  'requested',
  'denied',
  'pending_approval',
  'approved',
  'active',
  'expired',
  'completed',
  'revoked',
  'revoke_failed',
];

/** Why an active grant ended. */
export type EndReason = 'expired' | 'completed' | 'revoked';

/** `access`: a normal request. `extension`: asks to move the expiry of `parentId`. */
export type GrantKind = 'access' | 'extension';

/** What the policy decided, and which policies decided it (stored and shown, issue #2). */
export interface Decision {
  /** `auto`: permitted without approval; `approval`: permitted only with human approval. */
  readonly outcome: 'auto' | 'approval' | 'deny';
  /** Ids of the policies that determined the outcome (Cedar diagnostics.reason). */
  readonly policies: readonly string[];
  /** Evaluation errors; any error makes the outcome `deny` (fail closed). */
  readonly errors: readonly string[];
  /** Distinct human approvals required (max of role config and policy annotation). 0 for auto. */
  readonly approvalsRequired: number;
  /** When the decision was taken (epoch ms). */
  readonly decidedAt: number;
}

/** One human's vote on a pending grant. */
export interface ApprovalVote {
  readonly approver: string;
  readonly verdict: 'approve' | 'deny';
  readonly reason?: string;
  readonly at: number;
}

/** The post-incident review every break-glass grant must get. */
export interface BreakGlassReview {
  readonly reviewer: string;
  readonly outcome: 'justified' | 'unjustified' | 'needs_follow_up';
  readonly notes: string;
  readonly at: number;
}

/**
 * Target-side credential state. `provisioning` is committed before the target is touched so a
 * crash can always be reconciled (issue #3); `revoking` is committed before the target-side
 * revocation starts; `revoke_failed` is retried with capped backoff forever.
 */
export type CredentialState = 'none' | 'provisioning' | 'issued' | 'revoking' | 'revoked' | 'revoke_failed';

/**
 * What revocation needs, stored with the grant at provision time so a later config change can
 * never orphan a credential (vault PR #4787). Never contains a secret.
 */
export interface RevocationRecipe {
  readonly connector: string;
  readonly target: string;
  /** Connector-specific, JSON-serialisable (role name, ACL user, ...). */
  readonly data: Readonly<Record<string, unknown>>;
}

/** Evidence that a credential is dead, from `Connector.verifyRevoked`. */
export interface RevocationEvidence {
  readonly verified: boolean;
  /** Human-readable list of what was tried and what happened. */
  readonly checks: readonly { readonly check: string; readonly passed: boolean; readonly detail: string }[];
  readonly at: number;
}

export interface CredentialInfo {
  readonly state: CredentialState;
  readonly recipe?: RevocationRecipe;
  readonly revokeAttempts: number;
  /** Epoch ms of the next revocation attempt (also a lease against concurrent workers). */
  readonly revokeNextAt?: number;
  readonly revokeLastError?: string;
  readonly revokedAt?: number;
  readonly evidence?: RevocationEvidence;
  /**
   * The issued credential sealed (encrypted, bound to the grant id) while it may still work, so the
   * post-revocation proof can try it. Removed once the proof passed. Never shown by the API.
   */
  readonly sealed?: string;
}

export interface Grant {
  /** Opaque unique id; also the `jti` of the grant's access token. */
  readonly id: string;
  readonly kind: GrantKind;
  /** For extensions: the grant whose expiry this request would move. */
  readonly parentId?: string;
  readonly tenant: string;
  /** Requester principal id (`workload:deploy-bot`). */
  readonly principal: string;
  /** Principal type and workload kind at request time, kept for policy and display. */
  readonly principalType: 'workload' | 'human';
  /** Delegation chain at request time, outermost = current actor (issue #4). */
  readonly actorChain: readonly string[];
  readonly target: string;
  readonly role: string;
  /** What the work is ("run migration 42"). Required. */
  readonly task: string;
  /** Why it is needed. Required. */
  readonly reason: string;
  readonly ticket?: string;
  /** Requested duration in seconds (capped by the role's max TTL, or break-glass max). */
  readonly ttlSeconds: number;
  readonly breakGlass: boolean;
  /**
   * RFC 9449: thumbprint of the client's DPoP key when the grant was requested with a DPoP proof.
   * Every access token of the grant is bound to it (`cnf.jkt`).
   */
  readonly dpopJkt?: string;
  readonly status: GrantStatus;
  readonly endReason?: EndReason;
  readonly decision?: Decision;
  readonly approvals: readonly ApprovalVote[];
  readonly review?: BreakGlassReview;
  readonly credential: CredentialInfo;
  /** Epoch ms timestamps. */
  readonly createdAt: number;
  /**
   * When a pending request lapses if nobody decides, and when an approved grant lapses if the
   * requester never activates it (activation starts the TTL and hands over the credential).
   */
  readonly decisionDeadline?: number;
  readonly activatedAt?: number;
  /** When an active grant ends (moves forward only through approved extensions). */
  readonly expiresAt?: number;
  readonly endedAt?: number;
  /** Who ended it (principal id or `system`) and why, for revoke/complete. */
  readonly endedBy?: string;
  readonly endNote?: string;
  /** Optimistic concurrency: incremented on every update. */
  readonly version: number;
}

/** Statuses in which nothing more can happen to a grant except break-glass review. */
export const TERMINAL_STATUSES: ReadonlySet<GrantStatus> = new Set(['denied', 'expired', 'completed', 'revoked']);

/**
 * The status a reader must see at `now`. A grant past its expiry is never reported as
 * active even if no worker has run yet (issue #2, "checked on read"); a pending request past
 * its decision deadline likewise reads as expired.
 */
export function effectiveStatus(grant: Pick<Grant, 'status' | 'expiresAt' | 'decisionDeadline'>, now: number): GrantStatus {
  if (grant.status === 'active' && grant.expiresAt !== undefined && grant.expiresAt <= now) return 'expired';
  // A request nobody decided on in time, or an approval nobody picked up in time, lapses.
  if (
    (grant.status === 'pending_approval' || grant.status === 'approved') &&
    grant.decisionDeadline !== undefined &&
    grant.decisionDeadline <= now
  ) {
    return 'expired';
  }
  return grant.status;
}

/** True when the grant confers privilege at `now`. The single check every consumer uses. */
export function isLive(grant: Pick<Grant, 'status' | 'expiresAt' | 'decisionDeadline'>, now: number): boolean {
  return effectiveStatus(grant, now) === 'active';
}

/**
 * A break-glass grant that conferred privilege and has no post-review yet. Loud by design: it
 * stays listed (`stint grants --needs-review`) until a human records the review.
 */
export function needsReview(grant: Pick<Grant, 'breakGlass' | 'review' | 'activatedAt'>): boolean {
  return grant.breakGlass && grant.review === undefined && grant.activatedAt !== undefined;
}
