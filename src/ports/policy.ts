import type { Principal } from '../core/principal.js';

/** Everything a policy can see about one request (see docs/policies.md). */
export interface PolicyInput {
  readonly principal: Principal;
  /** Approver groups (from config) the principal belongs to; Cedar entity parents. */
  readonly principalGroups: readonly string[];
  readonly target: {
    readonly name: string;
    readonly env: string;
    readonly tenant: string;
    /** Config owners (`group:dba`, `human:alice`). */
    readonly owners: readonly string[];
    readonly attributes: Readonly<Record<string, string>>;
  };
  readonly role: string;
  readonly roleMaxTtlSeconds: number;
  readonly riskTier: string;
  readonly ttlSeconds: number;
  readonly task: string;
  readonly reason: string;
  readonly ticket?: string;
  readonly breakGlass: boolean;
  readonly isExtension: boolean;
  /** The grant's tokens will be DPoP-bound (RFC 9449): the request carried a verified DPoP proof. */
  readonly dpopBound: boolean;
  /** Computed by the broker: Cedar's datetime has no weekday or time zone. */
  readonly businessHours: boolean;
  /** Epoch ms of the decision. */
  readonly now: number;
  /** The tiering pass: false = "may this be auto-approved?", true = "may a human approve it?". */
  readonly approved: boolean;
}

/** One evaluation. Any evaluation error must yield `allowed: false` (fail closed). */
export interface PolicyAnswer {
  readonly allowed: boolean;
  /** Ids of the policies that determined the answer. */
  readonly policies: readonly string[];
  readonly errors: readonly string[];
  /** Largest `@approvals("N")` annotation among the determining permit policies, if any. */
  readonly approvalsAnnotation?: number;
}

/** A loaded, validated, pre-parsed policy set. Synchronous: Cedar runs in-process. */
export interface PolicyEvaluator {
  evaluate(input: PolicyInput): PolicyAnswer;
  /** Ids of all loaded policies (for /readyz and docs). */
  readonly policyIds: readonly string[];
}
