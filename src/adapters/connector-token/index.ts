/**
 * The built-in token-only connector: the grant's signed access token IS the credential, so
 * there is nothing to create on a target. Revocation is the grant's state change itself, which
 * is durable in the store and checked by introspection on every use (unlike Keycloak #31296,
 * a revoked token can never become valid again after a restart). The proof asks the same
 * question a resource server would: does introspection still call the token active?
 */
import type { Grant, RevocationEvidence, RevocationRecipe } from '../../core/grant.js';
import { isLive } from '../../core/grant.js';
import type { BatchRevokeResult, Connector, ConnectorTarget, IssuedCredential, RevocationProofRequest } from '../../ports/connector.js';
import type { Clock } from '../../ports/clock.js';

export interface TokenConnectorDeps {
  /** Reads the grant as introspection would (from the store, not from memory). */
  readonly readGrant: (id: string) => Promise<Grant | undefined>;
  readonly clock: Clock;
}

/** Creates the token-only connector. */
export function createTokenConnector(deps: TokenConnectorDeps): Connector & { readonly sideEffects: false } {
  /** Asks what a resource server would: does introspection still call the token active? */
  async function verifyRevoked(recipe: RevocationRecipe): Promise<RevocationEvidence> {
    const now = deps.clock.now();
    const jti = String(recipe.data.jti ?? '');
    const grant = await deps.readGrant(jti);
    const live = grant !== undefined && isLive(grant, now);
    return {
      verified: !live,
      checks: [
        {
          check: 'introspection',
          passed: !live,
          detail: live ? `token ${jti} still introspects as active` : `token ${jti} introspects as inactive`,
        },
      ],
      at: now,
    };
  }

  return {
    kind: 'token',
    sideEffects: false,
    plan(grant: Grant, target: ConnectorTarget): RevocationRecipe {
      return { connector: 'token', target: target.name, data: { jti: grant.id } };
    },
    async provision(): Promise<IssuedCredential | undefined> {
      return undefined;
    },
    async extend(): Promise<void> {
      // The expiry lives in the store; introspection reads it. Nothing to move on a target.
    },
    async revoke(): Promise<void> {
      // The state change that ended the grant is the revocation; nothing else holds the token.
    },
    async revokeMany(recipes: readonly RevocationRecipe[]): Promise<readonly BatchRevokeResult[]> {
      // As revoke: the committed state change is the revocation, for every token of the batch.
      return recipes.map(() => ({ ok: true }));
    },
    verifyRevokedMany(requests: readonly RevocationProofRequest[]): readonly Promise<RevocationEvidence>[] {
      return requests.map(({ recipe }) => verifyRevoked(recipe));
    },
    verifyRevoked,
  };
}
