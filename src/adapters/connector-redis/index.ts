/**
 * The Redis ACL connector (issue #3, docs/connectors.md "Redis"). Per grant: an ACL user
 * `stint_<grantId>` with the role's rules and a random password. Revoke: `ACL DELUSER`, which
 * closes the user's connections (REFERENCE.md section 1: `off` and `resetpass` do not), then any
 * connection still listed for it is killed by id. Proof: a real login must fail, `CLIENT LIST`
 * shows none of its connections, and `ACL GETUSER` finds no such user.
 *
 * Redis ACL users have no expiry, so unlike PostgreSQL's `VALID UNTIL` there is no target-side
 * backstop: the broker's revocation worker is the only thing that ends access on time.
 */
import { StintError } from '../../core/errors.js';
import type { Grant, RevocationEvidence, RevocationRecipe } from '../../core/grant.js';
import { systemClock, type Clock } from '../../ports/clock.js';
import { Limiter } from '../../core/limiter.js';
import type { BatchRevokeResult, Connector, ConnectorTarget, IssuedCredential, ReconcileReport, RevocationProofRequest, TargetCheck } from '../../ports/connector.js';
import { AdminClients } from './admin-clients.js';
import { assessUsers } from './assess-users.js';
import { assessBrokerUser } from './broker-user.js';
import { parseRedisConnection, parseRedisGrants, type RedisConnection } from './config.js';
import { credentialUrl, newPassword, passwordHash } from './credential.js';
import { tryLogin } from './login-probe.js';
import { credentialName } from './names.js';
import { recipeRules, recipeUser } from './recipe.js';
import { clientIdsOf, parseAclList, parseGetUser } from './replies.js';
import { targetError } from './redis-errors.js';

export { BROKER_ACL_SETUSER, BROKER_COMMANDS } from './broker-user.js';
export { parseRedisConnection, parseRedisGrants, type RedisConnection, type RedisGrants } from './config.js';
export { aclRuleProblem } from './acl-rules.js';
export { credentialName, grantIdFromName, CREDENTIAL_PREFIX } from './names.js';

/** Options of {@link createRedisConnector}. */
export interface RedisConnectorOptions {
  /** Bound on opening a connection (TCP, TLS and login), ms. Default 3000. */
  readonly connectTimeoutMs?: number;
  /** Bound on each admin command, ms. Default 5000. */
  readonly commandTimeoutMs?: number;
  /** Time source for evidence timestamps. Default: the system clock. */
  readonly clock?: Clock;
  /** Login attempts of `verifyRevokedMany` in flight at once per target. Default 8. */
  readonly loginConcurrency?: number;
}

/** The Redis connector; `close()` quits its admin connections. */
export interface RedisConnector extends Connector {
  readonly kind: 'redis';
  revokeMany(recipes: readonly RevocationRecipe[], target: ConnectorTarget): Promise<readonly BatchRevokeResult[]>;
  verifyRevokedMany(requests: readonly RevocationProofRequest[], target: ConnectorTarget): readonly Promise<RevocationEvidence>[];
  close(): Promise<void>;
}

type Check = RevocationEvidence['checks'][number];

function connectionOf(target: ConnectorTarget): RedisConnection {
  return parseRedisConnection(target.connection, `targets.${target.name}.connection`);
}

/** Creates the Redis ACL connector. Admin connections open lazily, one per admin URL. */
export function createRedisConnector(opts: RedisConnectorOptions = {}): RedisConnector {
  const connectTimeoutMs = opts.connectTimeoutMs ?? 3000;
  const clock = opts.clock ?? systemClock;
  const admin = new AdminClients({ connectTimeoutMs, commandTimeoutMs: opts.commandTimeoutMs ?? 5000 });
  const loginConcurrency = opts.loginConcurrency ?? 8;
  /** One limiter per admin URL key: concurrent batches share the bound on login attempts. */
  const probeLimiters = new Map<string, Limiter>();
  const probesFor = (conn: RedisConnection): Limiter => {
    let limiter = probeLimiters.get(conn.key);
    if (limiter === undefined) probeLimiters.set(conn.key, (limiter = new Limiter(loginConcurrency)));
    return limiter;
  };

  /** The login check of a proof: the issued password must be refused (WRONGPASS). */
  async function loginCheck(conn: RedisConnection, target: string, user: string, credential: IssuedCredential | undefined): Promise<Check[]> {
    const password = credential?.password;
    if (password === undefined) return [];
    const login = credential?.username ?? user;
    let outcome: 'refused' | 'accepted';
    try {
      outcome = await tryLogin(conn, login, password, connectTimeoutMs);
    } catch (e) {
      throw targetError(target, `login as ${login}`, e, [password, passwordHash(password), conn.password, conn.key]);
    }
    return [
      {
        check: 'login',
        passed: outcome === 'refused',
        detail: outcome === 'refused' ? `login as ${login} with the issued password was refused (WRONGPASS)` : `login as ${login} with the issued password SUCCEEDED`,
      },
    ];
  }

  function connectionsCheck(user: string, live: readonly string[]): Check {
    return {
      check: 'connections',
      passed: live.length === 0,
      detail: live.length === 0 ? `CLIENT LIST shows no connection of ${user}` : `CLIENT LIST shows ${live.length} connection(s) of ${user} (ids ${live.join(', ')})`,
    };
  }

  function userCheck(user: string, exists: boolean, command: 'ACL GETUSER' | 'ACL LIST'): Check {
    return { check: 'user', passed: !exists, detail: exists ? `ACL user ${user} still exists` : `${command} finds no user ${user}` };
  }

  /** Ids of the live connections authenticated as `user`. */
  async function connectionsOf(conn: RedisConnection, target: string, user: string): Promise<string[]> {
    return clientIdsOf(await admin.command(conn, target, ['CLIENT', 'LIST']), user);
  }

  /**
   * Deletes `user` (which closes its connections) and kills any connection still listed for it.
   * `CLIENT KILL USER` cannot serve as the second step: it answers "No such user" once the user
   * is gone, so leftovers are found by name in `CLIENT LIST` and killed by id.
   */
  async function removeUser(conn: RedisConnection, target: string, user: string): Promise<void> {
    await admin.command(conn, target, ['ACL', 'DELUSER', user]);
    for (const id of await connectionsOf(conn, target, user)) {
      await admin.command(conn, target, ['CLIENT', 'KILL', 'ID', id]);
    }
  }

  return {
    kind: 'redis',

    validateTarget(target: Omit<ConnectorTarget, 'roleGrants'>, roles: Readonly<Record<string, Readonly<Record<string, unknown>>>>): void {
      parseRedisConnection(target.connection, `targets.${target.name}.connection`);
      for (const [role, grants] of Object.entries(roles)) parseRedisGrants(grants, `targets.${target.name}.roles.${role}.grants`);
    },

    plan(grant: Grant, target: ConnectorTarget): RevocationRecipe {
      // Validated here so a broken target config fails before any intent is committed.
      connectionOf(target);
      const { rules } = parseRedisGrants(target.roleGrants, `targets.${target.name}.roles.${grant.role}.grants`);
      return { connector: 'redis', target: target.name, data: { name: credentialName(grant.id), rules: [...rules] } };
    },

    async provision(grant: Grant, target: ConnectorTarget, recipe: RevocationRecipe): Promise<IssuedCredential> {
      const conn = connectionOf(target);
      const user = recipeUser(recipe);
      if (user !== credentialName(grant.id)) throw new StintError('internal', `recipe names ${user}, not the user of grant ${grant.id}`);
      const password = newPassword();
      const hash = passwordHash(password);
      // `reset` first: provisioning the same recipe again (a crash before the broker committed)
      // replaces password and rules instead of adding to them.
      await admin.command(conn, target.name, ['ACL', 'SETUSER', user, 'reset', 'on', `#${hash}`, ...recipeRules(recipe)], [password, hash]);
      // A connection made with an earlier password must not outlive its reset (resetpass keeps
      // connections open, REFERENCE.md section 1).
      await admin.command(conn, target.name, ['CLIENT', 'KILL', 'USER', user]);
      return { username: user, password, url: credentialUrl(conn, user, password) };
    },

    /**
     * Redis ACL users have no expiry to move (no backstop like PostgreSQL's VALID UNTIL: the
     * broker's revocation is the only end). What an extension can still check is that the
     * credential it extends exists: a user removed out of band makes the extension confer
     * nothing, and the service logs this error for operators.
     */
    async extend(recipe: RevocationRecipe, target: ConnectorTarget): Promise<void> {
      const user = recipeUser(recipe);
      const found = parseGetUser(await admin.command(connectionOf(target), target.name, ['ACL', 'GETUSER', user]));
      if (found === undefined) {
        throw new StintError('target_unavailable', `redis target "${target.name}" has no ACL user ${user}: the extension confers nothing`);
      }
    },

    async revoke(recipe: RevocationRecipe, target: ConnectorTarget): Promise<void> {
      await removeUser(connectionOf(target), target.name, recipeUser(recipe));
    },

    async verifyRevoked(recipe: RevocationRecipe, target: ConnectorTarget, credential?: IssuedCredential): Promise<RevocationEvidence> {
      const conn = connectionOf(target);
      const user = recipeUser(recipe);
      const checks = await loginCheck(conn, target.name, user, credential);
      checks.push(connectionsCheck(user, await connectionsOf(conn, target.name, user)));
      checks.push(userCheck(user, parseGetUser(await admin.command(conn, target.name, ['ACL', 'GETUSER', user])) !== undefined, 'ACL GETUSER'));
      return { verified: checks.every((c) => c.passed), checks, at: clock.now() };
    },

    /**
     * One `ACL DELUSER u1 u2 ..` (which closes their connections), one `CLIENT LIST`, and a
     * `CLIENT KILL ID` for any connection still listed. A refused batch (e.g. NOPERM) falls back
     * to one user at a time so each ends with its own outcome; an unreachable target fails all.
     */
    async revokeMany(recipes: readonly RevocationRecipe[], target: ConnectorTarget): Promise<readonly BatchRevokeResult[]> {
      const users = recipes.map((recipe): string | StintError => {
        try {
          return recipeUser(recipe);
        } catch (e) {
          return e instanceof StintError ? e : targetError(target.name, 'read the recipe', e, []);
        }
      });
      const valid = [...new Set(users.filter((u): u is string => typeof u === 'string'))];
      const failed = new Map<string, StintError>();
      if (valid.length > 0) {
        let conn: RedisConnection | undefined;
        try {
          conn = connectionOf(target);
          await admin.command(conn, target.name, ['ACL', 'DELUSER', ...valid]);
          const list = await admin.command(conn, target.name, ['CLIENT', 'LIST']);
          for (const user of valid) {
            for (const id of clientIdsOf(list, user)) await admin.command(conn, target.name, ['CLIENT', 'KILL', 'ID', id]);
          }
        } catch (e) {
          const error = e instanceof StintError ? e : targetError(target.name, 'ACL DELUSER', e, []);
          // Redis answered but refused: user by user. No answer (or a bad config): all fail.
          if (conn === undefined || error.extra?.redisReply === undefined) {
            for (const user of valid) failed.set(user, error);
          } else {
            for (const user of valid) {
              try {
                await removeUser(conn, target.name, user);
              } catch (userError) {
                failed.set(user, userError instanceof StintError ? userError : targetError(target.name, 'ACL DELUSER', userError, []));
              }
            }
          }
        }
      }
      return users.map((u): BatchRevokeResult => {
        if (typeof u !== 'string') return { ok: false, error: u };
        const error = failed.get(u);
        return error === undefined ? { ok: true } : { ok: false, error };
      });
    },

    /** One `CLIENT LIST` and one `ACL LIST` for the batch; a login attempt per user (bounded). */
    verifyRevokedMany(requests: readonly RevocationProofRequest[], target: ConnectorTarget): readonly Promise<RevocationEvidence>[] {
      let conn: RedisConnection;
      try {
        conn = connectionOf(target);
      } catch (e) {
        return requests.map(() => Promise.reject(e));
      }
      const shared = (async () => {
        const list = await admin.command(conn, target.name, ['CLIENT', 'LIST']);
        // ACL LIST, not ACL USERS: the broker's documented minimal user may run the former only.
        const users = parseAclList(await admin.command(conn, target.name, ['ACL', 'LIST']));
        return { list, users: new Set(users.map((u) => u.name)) };
      })();
      // Awaited by every request, some only after their login attempt: never unhandled meanwhile.
      shared.catch(() => undefined);
      const probes = probesFor(conn);
      return requests.map(async ({ recipe, credential }) => {
        const user = recipeUser(recipe);
        const checks = await probes.run(() => loginCheck(conn, target.name, user, credential));
        const { list, users } = await shared;
        checks.push(connectionsCheck(user, clientIdsOf(list, user)));
        checks.push(userCheck(user, users.has(user), 'ACL LIST'));
        return { verified: checks.every((c) => c.passed), checks, at: clock.now() };
      });
    },

    async reconcile(target: ConnectorTarget, liveGrantIds: ReadonlySet<string>, options: { dryRun: boolean }): Promise<ReconcileReport> {
      const conn = connectionOf(target);
      const users = parseAclList(await admin.command(conn, target.name, ['ACL', 'LIST']));
      const { orphans, standing } = assessUsers(users, liveGrantIds, conn.username ?? 'default');
      const removed: string[] = [];
      if (!options.dryRun) {
        for (const orphan of orphans) {
          await removeUser(conn, target.name, orphan.name);
          removed.push(orphan.name);
        }
      }
      return { orphans, removed, standing };
    },

    async check(target: ConnectorTarget): Promise<TargetCheck> {
      const conn = connectionOf(target);
      // The login the URL names is the broker's identity; Redis authenticated exactly that user.
      const self = conn.username ?? 'default';
      let reply: unknown;
      try {
        reply = await admin.command(conn, target.name, ['ACL', 'GETUSER', self]);
      } catch (e) {
        if (!(e instanceof StintError)) throw e;
        const refused = e.extra?.action === 'ACL GETUSER';
        return {
          reachable: refused,
          minimalPrivileges: false,
          // internalReason is already scrubbed of secrets; operators need the driver's reason.
          details: [refused ? `${e.detail}: the broker user needs +acl|getuser; its privileges cannot be read` : (e.internalReason ?? e.detail)],
        };
      }
      const detail = parseGetUser(reply);
      if (detail === undefined) return { reachable: true, minimalPrivileges: false, details: [`ACL GETUSER finds no user "${self}"`] };
      const verdict = assessBrokerUser(self, detail);
      return { reachable: true, minimalPrivileges: verdict.minimal, details: verdict.details };
    },

    close: () => admin.close(),
  };
}
