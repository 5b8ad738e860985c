/**
 * Creates a grant's LOGIN role, or resets it when it already exists (a crash after the role was
 * made but before `issued` committed; issue #3). Each path is one simple-protocol query, which
 * PostgreSQL runs as one implicit transaction: the role, its memberships and its ownership
 * note appear together or not at all.
 *
 * The password is sent as a SCRAM verifier (scram.ts) because utility statements take no
 * parameters; the statement text still never goes to a log or an error (errors.ts).
 */
import type pg from 'pg';
import { errorCode } from './errors.js';
import { ownershipNote } from './ownership.js';
import { quoteIdent, quoteIdentList, quoteLiteral } from './sql.js';

/** SQLSTATE 42710 duplicate_object: CREATE ROLE of an existing role. */
const DUPLICATE_OBJECT = '42710';

/** What to create. */
export interface RoleSpec {
  readonly name: string;
  readonly memberOf: readonly string[];
  readonly connectionLimit?: number;
  /** VALID UNTIL, epoch ms: PostgreSQL refuses password logins after it. */
  readonly validUntil: number;
  /** Recorded on the role so reconcile() only ever touches its own target's roles. */
  readonly target: string;
  readonly grantId: string;
}

/** The attributes both paths set: login, connection limit, password, expiry. */
function loginAttributes(spec: RoleSpec, verifier: string): string {
  const limit = spec.connectionLimit ?? -1;
  return `LOGIN CONNECTION LIMIT ${limit} PASSWORD ${quoteLiteral(verifier)} VALID UNTIL ${quoteLiteral(new Date(spec.validUntil).toISOString())}`;
}

function noteStatement(spec: RoleSpec): string {
  return `COMMENT ON ROLE ${quoteIdent(spec.name)} IS ${quoteLiteral(ownershipNote({ target: spec.target, grant: spec.grantId }))}`;
}

/**
 * Makes the role exist with exactly `spec` and the password behind `verifier`. The new role
 * keeps PostgreSQL's defaults for everything else (INHERIT, so it uses its memberships without
 * SET ROLE; NOSUPERUSER, NOCREATEDB, NOCREATEROLE, NOREPLICATION, NOBYPASSRLS).
 */
export async function createOrResetRole(pool: pg.Pool, spec: RoleSpec, verifier: string): Promise<'created' | 'reset'> {
  const role = quoteIdent(spec.name);
  const members = quoteIdentList(spec.memberOf);
  try {
    await pool.query(`CREATE ROLE ${role} WITH ${loginAttributes(spec, verifier)} IN ROLE ${members}; ${noteStatement(spec)}`);
    return 'created';
  } catch (err) {
    if (errorCode(err) !== DUPLICATE_OBJECT) throw err;
  }
  // The role exists: a retry after a crash. A revoke that began (NOLOGIN) cannot race this:
  // the service never provisions a grant whose credential is being revoked.
  await pool.query(`ALTER ROLE ${role} WITH ${loginAttributes(spec, verifier)}; GRANT ${members} TO ${role}; ${noteStatement(spec)}`);
  return 'reset';
}
