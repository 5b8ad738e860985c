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
import type { Connector, ConnectorTarget, IssuedCredential, ReconcileReport, TargetCheck } from '../../ports/connector.js';
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
}

/** The Redis connector; `close()` quits its admin connections. */
export interface RedisConnector extends Connector {
  readonly kind: 'redis';
  close(): Promise<void>;
}

function connectionOf(target: ConnectorTarget): RedisConnection {
  return parseRedisConnection(target.connection, `targets.${target.name}.connection`);
}

/** Creates the Redis ACL connector. Admin connections open lazily, one per admin URL. */
export function createRedisConnector(opts: RedisConnectorOptions = {}): RedisConnector {
  const connectTimeoutMs = opts.connectTimeoutMs ?? 3000;
  const clock = opts.clock ?? systemClock;
  const admin = new AdminClients({ connectTimeoutMs, commandTimeoutMs: opts.commandTimeoutMs ?? 5000 });

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
      const checks: { check: string; passed: boolean; detail: string }[] = [];
      const password = credential?.password;
      if (password !== undefined) {
        const login = credential?.username ?? user;
        let outcome: 'refused' | 'accepted';
        try {
          outcome = await tryLogin(conn, login, password, connectTimeoutMs);
        } catch (e) {
          throw targetError(target.name, `login as ${login}`, e, [password, passwordHash(password), conn.password, conn.key]);
        }
        checks.push({
          check: 'login',
          passed: outcome === 'refused',
          detail: outcome === 'refused' ? `login as ${login} with the issued password was refused (WRONGPASS)` : `login as ${login} with the issued password SUCCEEDED`,
        });
      }
      const live = await connectionsOf(conn, target.name, user);
      checks.push({
        check: 'connections',
        passed: live.length === 0,
        detail: live.length === 0 ? `CLIENT LIST shows no connection of ${user}` : `CLIENT LIST shows ${live.length} connection(s) of ${user} (ids ${live.join(', ')})`,
      });
      const exists = parseGetUser(await admin.command(conn, target.name, ['ACL', 'GETUSER', user])) !== undefined;
      checks.push({
        check: 'user',
        passed: !exists,
        detail: exists ? `ACL user ${user} still exists` : `ACL GETUSER finds no user ${user}`,
      });
      return { verified: checks.every((c) => c.passed), checks, at: clock.now() };
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
