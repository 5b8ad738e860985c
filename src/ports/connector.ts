import type { StintError } from '../core/errors.js';
import type { Grant, RevocationEvidence, RevocationRecipe } from '../core/grant.js';

/**
 * A credential handed to the requester exactly once (e.g. `{ username, password, url }`).
 * Never logged, never audited; stored only sealed (encrypted) so that the post-revocation
 * proof can try it, and wiped once the proof passed.
 */
export type IssuedCredential = Readonly<Record<string, string>>;

/** The target as configured (connection details already resolved; may contain secrets). */
export interface ConnectorTarget {
  readonly name: string;
  readonly connector: string;
  /** Connector-specific settings; values may be `Secret` objects (call `.reveal()`). */
  readonly connection: Readonly<Record<string, unknown>>;
  /** What the requested role confers on this target (connector-specific, from config). */
  readonly roleGrants: Readonly<Record<string, unknown>>;
}

/** A credential on a target that Stint made but that no live grant backs. */
export interface Orphan {
  /** Target-side name (role name, ACL user). */
  readonly name: string;
  /** The grant id encoded in the name, when it could be read back. */
  readonly grantId?: string;
  readonly detail: string;
}

/** Standing privilege Stint can see on a target: logins it did not make that hold a privileged role/rule. */
export interface StandingPrivilege {
  readonly name: string;
  readonly holds: string;
  readonly detail: string;
}

export interface ReconcileReport {
  readonly orphans: readonly Orphan[];
  /** Orphans removed (empty on a dry run). */
  readonly removed: readonly string[];
  readonly standing: readonly StandingPrivilege[];
}

/**
 * The outcome of one credential in {@link Connector.revokeMany}: revoked (idempotently, sessions
 * ended), or failed with its own secret-free error (`target_unavailable` for target trouble).
 */
export type BatchRevokeResult = { readonly ok: true } | { readonly ok: false; readonly error: StintError };

/** One credential to prove dead in {@link Connector.verifyRevokedMany}. */
export interface RevocationProofRequest {
  readonly recipe: RevocationRecipe;
  /** The issued credential to try, when the broker still holds it (sealed). */
  readonly credential?: IssuedCredential;
}

/** Connectivity and the broker's own privileges on a target. */
export interface TargetCheck {
  readonly reachable: boolean;
  /** True when the broker's account holds no more than the documented minimum. */
  readonly minimalPrivileges: boolean;
  readonly details: readonly string[];
}

/**
 * The connector contract (docs/connectors.md). Crash-safe order, driven by the service:
 *   1. `plan` computes the revocation recipe without touching the target;
 *   2. the recipe and credential state `provisioning` commit to the store;
 *   3. `provision` creates the credential (idempotent for the same recipe);
 *   4. state `issued` commits.
 * `revoke` is idempotent (revoking twice, or revoking something never created, succeeds) and
 * kills live sessions. `verifyRevoked` tries the issued credential and looks for sessions.
 * `revokeMany`/`verifyRevokedMany` are optional batch forms of the two for one target, used by
 * the expiry worker when many credentials end together.
 * Every method gets the target as configured now; what identifies the credential comes from the
 * recipe stored with the grant, so a config change cannot orphan a credential.
 */
export interface Connector {
  readonly kind: string;
  plan(grant: Grant, target: ConnectorTarget): RevocationRecipe;
  /** Creates the credential; returns it once (or undefined when the access token is the credential). */
  provision(grant: Grant, target: ConnectorTarget, recipe: RevocationRecipe): Promise<IssuedCredential | undefined>;
  /** Moves the target-side expiry after an approved extension. */
  extend(recipe: RevocationRecipe, target: ConnectorTarget, newExpiresAt: number): Promise<void>;
  revoke(recipe: RevocationRecipe, target: ConnectorTarget): Promise<void>;
  /** Proves the credential is dead: tries it (when given) and checks for live sessions. */
  verifyRevoked(recipe: RevocationRecipe, target: ConnectorTarget, credential?: IssuedCredential): Promise<RevocationEvidence>;
  /**
   * Batch form of {@link Connector.revoke} for many credentials on one target (issue #3, item 5:
   * 1,000 grants expiring together must be dead within 1 s, which per-credential round trips
   * cannot reach). Same guarantees as `revoke` for every recipe: idempotent, live sessions
   * ended, the same safe order. Resolves with one result per recipe, in the order given, and
   * rejects only for a programming error: target failures are per-recipe results, and one
   * credential that cannot be removed must not hold the others back (the connector falls back
   * to one-by-one work for a batch that fails, so only the bad one fails).
   * `target.roleGrants` is empty here: a batch spans roles, and revocation works from the
   * recipes alone. Optional: without it the service calls `revoke` per credential.
   */
  revokeMany?(recipes: readonly RevocationRecipe[], target: ConnectorTarget): Promise<readonly BatchRevokeResult[]>;
  /**
   * Batch form of {@link Connector.verifyRevoked} for many credentials on one target, after
   * `revokeMany`. Returns one promise per request, in the order given, each settling as soon as
   * that credential's proof is complete, so the service records early proofs while later ones
   * are still being tried; a rejection is that credential's failure only. Every proof makes the
   * same observations as `verifyRevoked` (a real login attempt with the issued credential when
   * one is given, sessions, existence); shared catalog reads may serve the whole batch, and the
   * login attempts run on a bounded number of parallel connections. `target.roleGrants` is
   * empty, as for `revokeMany`. Optional, and implemented together with `revokeMany`.
   */
  verifyRevokedMany?(requests: readonly RevocationProofRequest[], target: ConnectorTarget): readonly Promise<RevocationEvidence>[];
  /** Lists (and unless `dryRun`, removes) credentials Stint made that no live grant backs. */
  reconcile?(target: ConnectorTarget, liveGrantIds: ReadonlySet<string>, opts: { dryRun: boolean }): Promise<ReconcileReport>;
  check?(target: ConnectorTarget): Promise<TargetCheck>;
  /**
   * Merges every role's `grants` of a target into one, for target-wide work (`check`,
   * `reconcile` look at everything any role confers, e.g. all privileged PostgreSQL roles).
   */
  unionGrants?(all: readonly Readonly<Record<string, unknown>>[]): Readonly<Record<string, unknown>>;
  /**
   * Checks a target's `connection` and every role's `grants` at start-up, without I/O; throws
   * `StintError('config_invalid')` naming the key path, so a typo stops the broker instead of
   * failing the first request.
   */
  validateTarget?(target: Omit<ConnectorTarget, 'roleGrants'>, roles: Readonly<Record<string, Readonly<Record<string, unknown>>>>): void;
  /** Releases pools and clients at shutdown. */
  close?(): Promise<void>;
}

/** Looks up the connector for a target kind. */
export interface ConnectorRegistry {
  get(kind: string): Connector | undefined;
}
