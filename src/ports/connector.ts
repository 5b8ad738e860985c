import type { Grant, RevocationEvidence, RevocationRecipe } from '../core/grant.js';

/** A credential handed to the requester exactly once. Never stored, logged or audited. */
export type IssuedCredential = Readonly<Record<string, string>>;

/** The target as configured (connection details already resolved; may contain secrets). */
export interface ConnectorTarget {
  readonly name: string;
  readonly connector: string;
  readonly connection: Readonly<Record<string, unknown>>;
  /** What the requested role confers on this target (connector-specific, from config). */
  readonly roleGrants: Readonly<Record<string, unknown>>;
}

/**
 * The connector contract (docs/connectors.md). Crash-safe order, driven by the service:
 *   1. `plan` computes the revocation recipe without touching the target;
 *   2. the recipe and credential state `provisioning` commit to the store;
 *   3. `provision` creates the credential (idempotent for the same recipe);
 *   4. state `issued` commits.
 * `revoke` is idempotent (revoking twice, or revoking something never created, succeeds).
 */
export interface Connector {
  readonly kind: string;
  plan(grant: Grant, target: ConnectorTarget): RevocationRecipe;
  /** Creates the credential; returns it once (or undefined when the access token is the credential). */
  provision(grant: Grant, target: ConnectorTarget, recipe: RevocationRecipe): Promise<IssuedCredential | undefined>;
  /** Moves the target-side expiry after an approved extension. */
  extend(recipe: RevocationRecipe, newExpiresAt: number): Promise<void>;
  revoke(recipe: RevocationRecipe): Promise<void>;
  /** Proves the credential is dead: tries it and checks for live sessions. */
  verifyRevoked(recipe: RevocationRecipe): Promise<RevocationEvidence>;
}

/** Looks up the connector for a target kind. */
export interface ConnectorRegistry {
  get(kind: string): Connector | undefined;
}
