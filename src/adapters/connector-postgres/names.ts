/**
 * Target-side names of grant roles (issue #3): `stint_<grantId>`. The name carries the grant
 * id so that `reconcile()` can read it back and tell an orphan from a live grant's role, and
 * so that revocation can never be pointed at a role Stint did not make.
 */
import { StintError } from '../../core/errors.js';

/** Prefix of every role Stint creates. */
export const ROLE_PREFIX = 'stint_';

/**
 * PostgreSQL truncates identifiers to NAMEDATALEN - 1 = 63 bytes; a truncated name would no
 * longer carry the whole grant id, so longer ids are refused instead.
 */
const MAX_IDENTIFIER_BYTES = 63;

/** A grant id as the broker makes them (`g` + hex; context.ts), lowercase only. */
const GRANT_ID = /^g[0-9a-f]+$/;

/** A role name Stint made, capturing the grant id. */
const STINT_ROLE = /^stint_(g[0-9a-f]+)$/;

/** The role name for a grant. Throws `internal` for an id the broker could not have made. */
export function roleNameFor(grantId: string): string {
  const name = `${ROLE_PREFIX}${grantId}`;
  if (!GRANT_ID.test(grantId) || Buffer.byteLength(name) > MAX_IDENTIFIER_BYTES) {
    throw new StintError('internal', 'grant id cannot be turned into a PostgreSQL role name', {
      internalReason: `grant id "${grantId.slice(0, 80)}" is not g + lowercase hex of at most ${MAX_IDENTIFIER_BYTES - ROLE_PREFIX.length - 1} digits`,
    });
  }
  return name;
}

/** The grant id a Stint role name carries, or undefined for any other role name. */
export function grantIdOfRole(name: string): string | undefined {
  const match = STINT_ROLE.exec(name);
  return match !== null && Buffer.byteLength(name) <= MAX_IDENTIFIER_BYTES ? match[1] : undefined;
}

/** SQL regular expression selecting candidate Stint roles in `pg_roles` (checked again in JS). */
export const STINT_ROLE_SQL_PATTERN = '^stint_g[0-9a-f]+$';
