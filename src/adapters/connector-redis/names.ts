/**
 * Target-side naming of Stint's Redis ACL users (docs/connectors.md): `stint_<grantId>`.
 * The grant id is readable back from the name, which is how `reconcile()` tells Stint's users
 * from everyone else's and finds the grant that should back each one (issue #3).
 */
import { StintError } from '../../core/errors.js';

/** Prefix of every ACL user Stint creates. */
export const CREDENTIAL_PREFIX = 'stint_';

/** Grant ids are `g` + lowercase hex (src/service/context.ts: 12 hex of time + 20 random). */
const GRANT_ID = /^g[0-9a-f]{1,64}$/u;

/** The ACL user name for a grant. Throws `internal` for an id that is not a grant id. */
export function credentialName(grantId: string): string {
  if (!GRANT_ID.test(grantId)) throw new StintError('internal', 'grant id is not of the form g<hex>; cannot name its Redis user');
  return `${CREDENTIAL_PREFIX}${grantId}`;
}

/** The grant id encoded in an ACL user name, or undefined when Stint did not make that user. */
export function grantIdFromName(name: string): string | undefined {
  if (!name.startsWith(CREDENTIAL_PREFIX)) return undefined;
  const id = name.slice(CREDENTIAL_PREFIX.length);
  return GRANT_ID.test(id) ? id : undefined;
}
