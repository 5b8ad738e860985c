/**
 * The JSON shapes of the Stint HTTP API v1 (docs/api.md), as a client sees them. Times are
 * ISO 8601 strings; secrets (access tokens, credentials) only ever appear in the responses
 * that hand them over, never inside a grant.
 */
import type { ErrorCode } from '../core/errors.js';
import type { AuditRecord, EventType } from '../core/events.js';
import type { CredentialState, EndReason, GrantKind, GrantStatus } from '../core/grant.js';

export type { CredentialState, EndReason, ErrorCode, EventType, GrantKind, GrantStatus };

/** Outcome of a break-glass review. */
export type ReviewOutcome = 'justified' | 'unjustified' | 'needs_follow_up';

/** What the policy decided and which policies decided it. */
export interface DecisionJson {
  readonly outcome: 'auto' | 'approval' | 'deny';
  readonly policies: string[];
  readonly errors: string[];
  readonly approvalsRequired: number;
  readonly decidedAt: string;
}

/** One human's vote on a pending grant. */
export interface ApprovalJson {
  readonly approver: string;
  readonly verdict: 'approve' | 'deny';
  readonly reason?: string;
  readonly at: string;
}

/** The post-incident review of a break-glass grant. */
export interface ReviewJson {
  readonly reviewer: string;
  readonly outcome: ReviewOutcome;
  readonly notes: string;
  readonly at: string;
}

/** One thing the connector tried to prove a credential is dead, and what happened. */
export interface RevocationCheckJson {
  readonly check: string;
  readonly passed: boolean;
  readonly detail: string;
}

/** Evidence that a revoked credential no longer works. */
export interface RevocationEvidenceJson {
  readonly verified: boolean;
  readonly checks: RevocationCheckJson[];
  readonly at: string;
}

/** Target-side credential state of a grant (never the credential itself). */
export interface GrantCredentialJson {
  readonly state: CredentialState;
  readonly connector?: string;
  readonly revokeAttempts: number;
  readonly revokeNextAt?: string;
  readonly revokeLastError?: string;
  readonly revokedAt?: string;
  readonly evidence?: RevocationEvidenceJson;
}

/** A grant as the API returns it. */
export interface GrantJson {
  readonly id: string;
  readonly kind: GrantKind;
  readonly parentId?: string;
  readonly tenant: string;
  readonly principal: string;
  readonly principalType: 'workload' | 'human';
  readonly actorChain: string[];
  readonly target: string;
  readonly role: string;
  readonly task: string;
  readonly reason: string;
  readonly ticket?: string;
  readonly ttlSeconds: number;
  readonly breakGlass: boolean;
  readonly status: GrantStatus;
  readonly endReason?: EndReason;
  readonly decision?: DecisionJson;
  readonly approvals: ApprovalJson[];
  readonly review?: ReviewJson;
  readonly needsReview: boolean;
  readonly credential: GrantCredentialJson;
  readonly createdAt: string;
  readonly decisionDeadline?: string;
  readonly activatedAt?: string;
  readonly expiresAt?: string;
  readonly endedAt?: string;
  readonly endedBy?: string;
  readonly endNote?: string;
}

/** A target-side credential (user name, password, ...), handed over exactly once. */
export type IssuedCredentialJson = Record<string, string>;

/** Body of `POST /v1/grants`. `ttl` is a duration (`15m`, `1h30m`) or seconds. */
export interface GrantRequestBody {
  readonly target: string;
  readonly role: string;
  readonly task: string;
  readonly reason: string;
  readonly ticket?: string;
  readonly ttl: string | number;
  readonly breakGlass?: boolean;
}

/** Answer of `POST /v1/grants`; `accessToken`/`credential` only when the grant became active at once. */
export interface CreateGrantResponse {
  readonly grant: GrantJson;
  readonly accessToken?: string;
  /** `Bearer`, alongside an access token. */
  readonly tokenType?: 'Bearer';
  readonly credential?: IssuedCredentialJson;
}

/** Answer of approve, deny, complete, revoke and review. */
export interface GrantResponse {
  readonly grant: GrantJson;
}

/** Answer of `POST /v1/grants/:id/activate`. */
export interface ActivateResponse {
  readonly grant: GrantJson;
  readonly accessToken: string;
  readonly tokenType?: 'Bearer';
  readonly credential?: IssuedCredentialJson;
}

/** Answer of `POST /v1/grants/:id/token`. */
export interface TokenResponse {
  readonly grant: GrantJson;
  readonly accessToken: string;
  readonly tokenType?: 'Bearer';
}

/** Success answer of the RFC 8693 token exchange at `POST /oauth/token` (docs/oauth.md). */
export interface TokenExchangeJson {
  readonly access_token: string;
  readonly issued_token_type?: string;
  readonly token_type: 'Bearer' | 'DPoP';
  readonly expires_in: number;
  readonly scope: string;
  /** Stint extension: the grant behind the token. */
  readonly grant_id: string;
  /** Stint extension: the target credential made for this grant alone, when the connector makes one. */
  readonly credential?: IssuedCredentialJson;
}

/** An OAuth error answer (RFC 6749 section 5.2), with Stint's `grant_id` for pending or denied grants. */
export interface OAuthErrorJson {
  readonly error: string;
  readonly error_description?: string;
  readonly grant_id?: string;
  readonly interval?: number;
}

/** Body of `POST /v1/grants/:id/approve`. */
export interface ApproveBody {
  readonly reason?: string;
}

/** Body of `POST /v1/grants/:id/deny`. */
export interface DenyBody {
  readonly reason: string;
}

/** Body of `POST /v1/grants/:id/complete`. */
export interface CompleteBody {
  readonly note?: string;
}

/** Body of `POST /v1/grants/:id/revoke`. */
export interface RevokeBody {
  readonly reason: string;
}

/** Body of `POST /v1/grants/:id/extend`. */
export interface ExtendBody {
  readonly ttl: string | number;
  readonly reason: string;
  readonly ticket?: string;
}

/** Answer of `POST /v1/grants/:id/extend`: the extension request, and a new parent token when applied at once. */
export interface ExtendResponse {
  readonly grant: GrantJson;
  readonly accessToken?: string;
  readonly tokenType?: 'Bearer';
}

/** Body of `POST /v1/grants/:id/review`. */
export interface ReviewBody {
  readonly outcome: ReviewOutcome;
  readonly notes: string;
}

/** Filters of `GET /v1/grants`. */
export interface GrantQuery {
  readonly status?: GrantStatus;
  readonly target?: string;
  readonly principal?: string;
  /** Only break-glass grants still waiting for their review. */
  readonly needsReview?: boolean;
  readonly limit?: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
}

/** One page of `GET /v1/grants`. */
export interface GrantPage {
  readonly items: GrantJson[];
  readonly nextCursor?: string;
}

/** One audit log entry, exactly as stored (`canonical`: the RFC 8785 entry text; `leafHash`: its RFC 6962 leaf hash, hex). */
export type AuditItemJson = AuditRecord;

/** One page of `GET /v1/audit`; `next` is the `from` of the following page. */
export interface AuditPage {
  readonly size: number;
  readonly items: AuditItemJson[];
  readonly next?: number;
}

/** Answer of `GET /v1/audit/checkpoint`: a C2SP signed note over the log's Merkle root. */
export interface CheckpointJson {
  readonly note: string;
  readonly size: number;
  /** Hex. */
  readonly rootHash: string;
  /** Note verifier key (`<name>+<keyid>+<base64 key>`). */
  readonly verifierKey: string;
  readonly origin: string;
}

/** Answer of `GET /v1/audit/proof/:index`: RFC 9162 inclusion proof of one entry. */
export interface AuditProofJson {
  readonly index: number;
  readonly size: number;
  readonly leafHash: string;
  readonly rootHash: string;
  readonly proof: string[];
  readonly note: string;
}

/** RFC 7662 introspection answer. */
export type IntrospectionJson =
  | { readonly active: false }
  | {
      readonly active: true;
      readonly sub: string;
      readonly aud: string | string[];
      readonly scope: string;
      readonly exp: number;
      readonly iat: number;
      readonly jti: string;
      readonly client_id: string;
      readonly iss: string;
      readonly token_type: 'Bearer';
      readonly task: string;
      readonly tenant: string;
    };

/** One public key of the access-token signing key set (RFC 7517). */
export interface JwkJson {
  readonly kty: string;
  readonly kid?: string;
  readonly alg?: string;
  readonly use?: string;
  readonly [member: string]: unknown;
}

/** `GET /.well-known/jwks.json`. */
export interface JwksJson {
  readonly keys: JwkJson[];
}

/** RFC 9457 problem details as Stint sends them. */
export interface ProblemJson {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: ErrorCode;
  readonly instance?: string;
  readonly [extra: string]: unknown;
}

/** Connectivity and the broker's own privileges on a target (`GET /v1/targets?check=true`). */
export interface TargetCheckJson {
  readonly reachable: boolean;
  readonly minimalPrivileges: boolean;
  readonly details: string[];
}

/** One configured target. */
export interface TargetJson {
  readonly name: string;
  readonly connector: string;
  readonly env: string;
  readonly tenant: string;
  readonly owners: string[];
  readonly roles: { name: string; maxTtlSeconds: number; approvals: number; riskTier: string }[];
  readonly breakGlassMaxTtlSeconds: number;
  readonly check?: TargetCheckJson;
}

/** `POST /v1/targets/:name/reconcile`. */
export interface ReconcileJson {
  readonly target: string;
  readonly dryRun: boolean;
  readonly orphans: { name: string; grantId?: string; detail: string }[];
  readonly removed: string[];
  readonly standing: { name: string; holds: string; detail: string }[];
}
