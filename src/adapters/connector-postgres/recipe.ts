/**
 * The revocation recipe of a PostgreSQL grant (stored with the grant before the target is
 * touched; vault PR #4787): the role name, and the privileged roles and connection limit it was
 * planned with, so that re-provisioning after a crash makes exactly what was planned even if
 * the configuration changed meanwhile. Never contains a secret.
 */
import { StintError } from '../../core/errors.js';
import type { RevocationRecipe } from '../../core/grant.js';
import { grantIdOfRole } from './names.js';

/** `recipe.data` of a PostgreSQL grant. */
export interface PostgresRecipeData {
  /** The grant role, `stint_<grantId>`. */
  readonly name: string;
  /** Privileged roles it joins. */
  readonly memberOf: readonly string[];
  /** CONNECTION LIMIT; absent = unlimited. */
  readonly connectionLimit?: number;
}

function malformed(why: string): StintError {
  return new StintError('internal', 'the stored PostgreSQL revocation recipe is malformed', { internalReason: why });
}

/**
 * Reads and checks `recipe.data`. The role name must be one Stint makes (`stint_g<hex>`), so a
 * damaged or forged recipe can never make revoke drop somebody else's role.
 */
export function readRecipe(recipe: RevocationRecipe): PostgresRecipeData & { readonly grantId: string } {
  const { name, memberOf, connectionLimit } = recipe.data;
  if (typeof name !== 'string') throw malformed('data.name is not a string');
  const grantId = grantIdOfRole(name);
  if (grantId === undefined) throw malformed(`data.name "${name.slice(0, 80)}" is not a Stint role name (stint_g<hex>)`);
  if (!Array.isArray(memberOf) || !memberOf.every((m): m is string => typeof m === 'string' && m !== '')) {
    throw malformed('data.memberOf is not a list of role names');
  }
  if (connectionLimit !== undefined && (typeof connectionLimit !== 'number' || !Number.isInteger(connectionLimit) || connectionLimit < 1)) {
    throw malformed('data.connectionLimit is not a positive integer');
  }
  return { name, grantId, memberOf, ...(connectionLimit === undefined ? {} : { connectionLimit }) };
}
