/**
 * The PostgreSQL connector (issue #3, docs/connectors.md): one LOGIN role per grant, named
 * `stint_<grantId>`, with a random password (192 bits), `VALID UNTIL` at the grant's expiry
 * (so the database refuses new logins on its own even if the broker is down) and membership in
 * the privileged roles configured for the requested role. Revocation ends live sessions before
 * dropping the role, and the proof tries the credential for real.
 *
 * The broker's admin login needs CREATEROLE, not SUPERUSER (check.ts reports which it has).
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Grant, RevocationEvidence, RevocationRecipe } from '../../core/grant.js';
import { StintError } from '../../core/errors.js';
import { systemClock, type Clock } from '../../ports/clock.js';
import type { Connector, ConnectorTarget, IssuedCredential, ReconcileReport, TargetCheck } from '../../ports/connector.js';
import { checkAdmin } from './check.js';
import { parsePostgresConnection, parsePostgresRoleGrants, privilegedRolesOf, roleGrantsPath, unionRoleGrants, type PostgresConnection } from './config.js';
import { describeDriverError, errorCode, isUnreachable, toTargetError } from './errors.js';
import { credentialUrl } from './login.js';
import { roleNameFor } from './names.js';
import { AdminPools } from './pools.js';
import { createOrResetRole } from './provision.js';
import { readRecipe } from './recipe.js';
import { findOrphans, findStandingPrivilege } from './reconcile.js';
import { revokeRole } from './revoke.js';
import { scramSha256Verifier } from './scram.js';
import { quoteIdent, quoteLiteral } from './sql.js';
import { proveRevoked } from './verify.js';

export {
  parsePostgresConnection,
  parsePostgresRoleGrants,
  roleGrantsPath,
  unionRoleGrants,
  type PostgresConnection,
  type PostgresRoleGrants,
} from './config.js';
export { grantIdOfRole, roleNameFor, ROLE_PREFIX } from './names.js';
export type { PostgresRecipeData } from './recipe.js';

/** Tuning; the defaults suit a broker with a handful of targets. */
export interface PostgresConnectorOptions {
  /** Source of "now" for VALID UNTIL and evidence timestamps. Default: the system clock. */
  readonly clock?: Clock;
  /** Admin connections per target URL. Default 4. */
  readonly poolSize?: number;
  /** How long to wait for a connection (admin or a login attempt). Default 5000 ms. */
  readonly connectTimeoutMs?: number;
  /** statement_timeout of admin sessions. Default 30000 ms. */
  readonly statementTimeoutMs?: number;
  /** How long revoke waits for a role's sessions to end before failing (and being retried). Default 10000 ms. */
  readonly terminateBudgetMs?: number;
}

/** The connector, plus `close()` for shutdown (ends every admin pool). */
export interface PostgresConnector extends Connector {
  readonly kind: 'postgres';
  reconcile(target: ConnectorTarget, liveGrantIds: ReadonlySet<string>, opts: { dryRun: boolean }): Promise<ReconcileReport>;
  check(target: ConnectorTarget): Promise<TargetCheck>;
  close(): Promise<void>;
}

/** Bytes of randomness in a generated password: 192 bits, above the 128-bit floor. */
const PASSWORD_BYTES = 24;

/** SQLSTATE 42704 undefined_object (ALTER ROLE of a role that is gone). */
const UNDEFINED_OBJECT = '42704';

/** Creates the PostgreSQL connector. */
export function createPostgresConnector(opts: PostgresConnectorOptions = {}): PostgresConnector {
  const clock = opts.clock ?? systemClock;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5_000;
  const terminateBudgetMs = opts.terminateBudgetMs ?? 10_000;
  const pools = new AdminPools({ max: opts.poolSize ?? 4, connectTimeoutMs, statementTimeoutMs: opts.statementTimeoutMs ?? 30_000 });

  /** Runs `fn` against the target's admin pool; every failure becomes a secret-free StintError. */
  async function onTarget<T>(target: ConnectorTarget, action: string, fn: (conn: PostgresConnection, pool: pg.Pool) => Promise<T>, extraSecrets: readonly string[] = []): Promise<T> {
    const conn = parsePostgresConnection(target.connection, target.name);
    try {
      return await fn(conn, pools.get(conn.adminUrl));
    } catch (err) {
      throw toTargetError(err, target.name, action, [...conn.secrets, ...extraSecrets]);
    }
  }

  return {
    kind: 'postgres',

    plan(grant: Grant, target: ConnectorTarget): RevocationRecipe {
      const grants = parsePostgresRoleGrants(target.roleGrants, roleGrantsPath(target.name, grant.role));
      const connectionLimit = grants.connectionLimit ?? parsePostgresConnection(target.connection, target.name).connectionLimit;
      return {
        connector: 'postgres',
        target: target.name,
        data: { name: roleNameFor(grant.id), memberOf: [...grants.memberOf], ...(connectionLimit === undefined ? {} : { connectionLimit }) },
      };
    },

    async provision(grant: Grant, target: ConnectorTarget, recipe: RevocationRecipe): Promise<IssuedCredential> {
      const data = readRecipe(recipe);
      if (data.grantId !== grant.id) {
        throw new StintError('internal', 'the revocation recipe belongs to another grant', { internalReason: `recipe role ${data.name} for grant ${grant.id}` });
      }
      const password = randomBytes(PASSWORD_BYTES).toString('base64url');
      const verifier = await scramSha256Verifier(password);
      // Provisioning runs before activation commits, so grant.expiresAt is normally not set yet;
      // activation then sets it to (its own now) + ttl, which is a few milliseconds later than
      // this. VALID UNTIL therefore ends new logins at most that much early, never late. It is
      // only a backstop: the broker revokes on time (docs/connectors.md).
      const validUntil = grant.expiresAt ?? clock.now() + grant.ttlSeconds * 1000;
      return onTarget(
        target,
        'create the grant role',
        async (conn, pool) => {
          await createOrResetRole(pool, { ...data, validUntil, target: target.name, grantId: grant.id }, verifier);
          return { username: data.name, password, url: credentialUrl(conn.clientUrl, data.name, password) };
        },
        [password, verifier],
      );
    },

    async extend(recipe: RevocationRecipe, target: ConnectorTarget, newExpiresAt: number): Promise<void> {
      const { name } = readRecipe(recipe);
      await onTarget(target, 'move the role expiry', async (_conn, pool) => {
        try {
          await pool.query(`ALTER ROLE ${quoteIdent(name)} VALID UNTIL ${quoteLiteral(new Date(newExpiresAt).toISOString())}`);
        } catch (err) {
          // No role, no backstop to move: revocation already happened or provisioning never did.
          if (errorCode(err) !== UNDEFINED_OBJECT) throw err;
        }
      });
    },

    async revoke(recipe: RevocationRecipe, target: ConnectorTarget): Promise<void> {
      const { name } = readRecipe(recipe);
      await onTarget(target, 'revoke the grant role', (_conn, pool) => revokeRole(pool, name, terminateBudgetMs));
    },

    async verifyRevoked(recipe: RevocationRecipe, target: ConnectorTarget, credential?: IssuedCredential): Promise<RevocationEvidence> {
      const { name } = readRecipe(recipe);
      const extra = credential?.password === undefined ? [] : [credential.password];
      return onTarget(target, 'verify the revocation', (conn, pool) => proveRevoked(pool, conn.clientUrl, name, credential, connectTimeoutMs, () => clock.now()), extra);
    },

    async reconcile(target: ConnectorTarget, liveGrantIds: ReadonlySet<string>, { dryRun }: { dryRun: boolean }): Promise<ReconcileReport> {
      const privileged = privilegedRolesOf(target);
      const { orphans, standing } = await onTarget(target, 'list roles', async (_conn, pool) => ({
        orphans: await findOrphans(pool, target.name, liveGrantIds),
        standing: await findStandingPrivilege(pool, privileged),
      }));
      const removed: string[] = [];
      const failures: string[] = [];
      if (!dryRun) {
        for (const orphan of orphans) {
          try {
            await onTarget(target, `revoke orphan ${orphan.name}`, (_conn, pool) => revokeRole(pool, orphan.name, terminateBudgetMs));
            removed.push(orphan.name);
          } catch (err) {
            failures.push(err instanceof StintError ? (err.internalReason ?? err.detail) : String(err));
          }
        }
      }
      if (failures.length > 0) {
        throw new StintError('target_unavailable', `target ${target.name}: ${failures.length} of ${orphans.length} orphan role(s) could not be removed`, {
          internalReason: failures.join('; '),
        });
      }
      return { orphans, removed, standing };
    },

    validateTarget(target: Omit<ConnectorTarget, 'roleGrants'>, roles: Readonly<Record<string, Readonly<Record<string, unknown>>>>): void {
      parsePostgresConnection(target.connection, target.name);
      for (const [role, grants] of Object.entries(roles)) parsePostgresRoleGrants(grants, roleGrantsPath(target.name, role));
    },

    unionGrants(all: readonly Readonly<Record<string, unknown>>[]): Readonly<Record<string, unknown>> {
      return unionRoleGrants(all);
    },

    async check(target: ConnectorTarget): Promise<TargetCheck> {
      const conn = parsePostgresConnection(target.connection, target.name);
      const memberOf = privilegedRolesOf(target);
      const pool = pools.get(conn.adminUrl);
      try {
        await pool.query('SELECT 1');
      } catch (err) {
        const mapped = toTargetError(err, target.name, 'connect', conn.secrets);
        const why = isUnreachable(err) ? mapped.detail : `${mapped.detail}: ${describeDriverError(err, conn.secrets)}`;
        return { reachable: false, minimalPrivileges: false, details: [`cannot connect: ${why}`] };
      }
      try {
        return await checkAdmin(pool, conn.clientUrl, memberOf, connectTimeoutMs);
      } catch (err) {
        throw toTargetError(err, target.name, 'check the admin role', conn.secrets);
      }
    },

    close: () => pools.close(),
  };
}
