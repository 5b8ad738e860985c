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
import { Limiter } from '../../core/limiter.js';
import type { BatchRevokeResult, Connector, ConnectorTarget, IssuedCredential, ReconcileReport, RevocationProofRequest, TargetCheck } from '../../ports/connector.js';
import { checkAdmin } from './check.js';
import { parsePostgresConnection, parsePostgresRoleGrants, privilegedRolesOf, roleGrantsPath, unionRoleGrants, type PostgresConnection } from './config.js';
import { describeDriverError, errorCode, isUnreachable, toTargetError } from './errors.js';
import { credentialUrl } from './login.js';
import { roleNameFor } from './names.js';
import { AdminPools } from './pools.js';
import { createOrResetRole } from './provision.js';
import { readRecipe } from './recipe.js';
import { findOrphans, findStandingPrivilege } from './reconcile.js';
import { revokeRole, revokeRoles } from './revoke.js';
import { scramSha256Verifier } from './scram.js';
import { quoteIdent, quoteLiteral } from './sql.js';
import { proveRevoked, proveRevokedMany } from './verify.js';

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
  /** Roles per statement batch in `revokeMany`. Default 200. */
  readonly revokeBatchSize?: number;
  /**
   * Login attempts of `verifyRevokedMany` in flight at once per client URL (each is a new
   * connection, so a new backend process on the server). Default 8: measured on 2 cores, more
   * parallel attempts do not finish sooner (the server's fork per connection is the limit) and
   * would only take connection slots from the target's applications.
   */
  readonly loginConcurrency?: number;
}

/** The connector, plus `close()` for shutdown (ends every admin pool). */
export interface PostgresConnector extends Connector {
  readonly kind: 'postgres';
  reconcile(target: ConnectorTarget, liveGrantIds: ReadonlySet<string>, opts: { dryRun: boolean }): Promise<ReconcileReport>;
  check(target: ConnectorTarget): Promise<TargetCheck>;
  revokeMany(recipes: readonly RevocationRecipe[], target: ConnectorTarget): Promise<readonly BatchRevokeResult[]>;
  verifyRevokedMany(requests: readonly RevocationProofRequest[], target: ConnectorTarget): readonly Promise<RevocationEvidence>[];
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
  const revokeBatchSize = opts.revokeBatchSize ?? 200;
  const loginConcurrency = opts.loginConcurrency ?? 8;
  /** One limiter per client URL: concurrent batches share the bound on login attempts. */
  const probeLimiters = new Map<string, Limiter>();
  /**
   * One statement batch at a time per admin URL: concurrent batches on one server contend for
   * the same catalog rows (pg_auth_members of the admin, pg_shdepend) and can deadlock, which
   * would push a whole batch onto the slow one-by-one fallback. A batch takes well under a
   * millisecond per role, so queueing them costs little.
   */
  const batchLanes = new Map<string, Limiter>();
  const batchLaneFor = (adminUrl: string): Limiter => {
    let limiter = batchLanes.get(adminUrl);
    if (limiter === undefined) batchLanes.set(adminUrl, (limiter = new Limiter(1)));
    return limiter;
  };
  const probesFor = (clientUrl: string): Limiter => {
    let limiter = probeLimiters.get(clientUrl);
    if (limiter === undefined) probeLimiters.set(clientUrl, (limiter = new Limiter(loginConcurrency)));
    return limiter;
  };

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

    async revokeMany(recipes: readonly RevocationRecipe[], target: ConnectorTarget): Promise<readonly BatchRevokeResult[]> {
      const byName = new Map<string, BatchRevokeResult>();
      const names: (string | StintError)[] = recipes.map((recipe) => {
        try {
          return readRecipe(recipe).name;
        } catch (err) {
          return toTargetError(err, target.name, 'read the revocation recipe', []);
        }
      });
      const valid = [...new Set(names.filter((n): n is string => typeof n === 'string'))];
      for (let at = 0; at < valid.length; at += revokeBatchSize) {
        const chunk = valid.slice(at, at + revokeBatchSize);
        try {
          const errors = await onTarget(target, 'revoke the grant roles', (conn, pool) => batchLaneFor(conn.adminUrl).run(() => revokeRoles(pool, chunk, terminateBudgetMs)));
          const conn = parsePostgresConnection(target.connection, target.name);
          chunk.forEach((name, i) => {
            const err = errors[i];
            byName.set(name, err === undefined ? { ok: true } : { ok: false, error: toTargetError(err, target.name, `revoke the grant role ${name}`, conn.secrets) });
          });
        } catch (err) {
          // The whole chunk failed at once (unreachable, admin login refused, bad connection config).
          const error = err instanceof StintError ? err : toTargetError(err, target.name, 'revoke the grant roles', []);
          for (const name of chunk) byName.set(name, { ok: false, error });
        }
      }
      return names.map((n) => (typeof n === 'string' ? byName.get(n)! : { ok: false, error: n }));
    },

    verifyRevokedMany(requests: readonly RevocationProofRequest[], target: ConnectorTarget): readonly Promise<RevocationEvidence>[] {
      let conn: PostgresConnection;
      try {
        conn = parsePostgresConnection(target.connection, target.name);
      } catch (err) {
        const error = toTargetError(err, target.name, 'verify the revocation', []);
        return requests.map(() => Promise.reject(error));
      }
      const parsed = requests.map(({ recipe, credential }) => {
        try {
          return { name: readRecipe(recipe).name, ...(credential === undefined ? {} : { credential }) };
        } catch (err) {
          return toTargetError(err, target.name, 'read the revocation recipe', []);
        }
      });
      const valid = parsed.filter((p): p is Exclude<typeof p, StintError> => !(p instanceof StintError));
      let proofs: Promise<RevocationEvidence>[];
      try {
        proofs = proveRevokedMany(pools.get(conn.adminUrl), conn.clientUrl, valid, connectTimeoutMs, probesFor(conn.clientUrl), () => clock.now());
      } catch (err) {
        const error = toTargetError(err, target.name, 'verify the revocation', conn.secrets);
        return requests.map(() => Promise.reject(error));
      }
      let next = 0;
      return parsed.map((p) => {
        if (p instanceof StintError) return Promise.reject(p);
        const secrets = p.credential?.password === undefined ? conn.secrets : [...conn.secrets, p.credential.password];
        return proofs[next++]!.catch((err: unknown) => {
          throw toTargetError(err, target.name, 'verify the revocation', secrets);
        });
      });
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
