/**
 * The one conformance suite every connector runs against a real server (issue #3, item 8).
 * A connector's test file builds a {@link ConnectorHarness} and calls
 * `describeConnectorConformance(name, harness)`; connector-specific behaviour (PostgreSQL's
 * VALID UNTIL backstop, Redis ACL rules) is tested next to it in that file.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StintError } from '../../src/core/errors.js';
import type { Grant, RevocationRecipe } from '../../src/core/grant.js';
import type { Connector, ConnectorTarget, IssuedCredential } from '../../src/ports/connector.js';
import { grantFixture } from './grant-fixture.js';

/** A client session opened with an issued credential. */
export interface ClientSession {
  /** Runs a command the grant's role allows; resolves when it succeeded. */
  runAllowed(): Promise<void>;
  /** Runs a command the role does not allow; must reject. */
  runForbidden(): Promise<void>;
  /**
   * Runs a command that needs no privilege on the data (PostgreSQL `SELECT 1`, Redis `PING`).
   * After revoke it must reject too: a session that lives on but is refused reads is still a
   * live session (PostgreSQL keeps it after DROP ROLE; REFERENCE.md section 1).
   */
  runUnprivileged(): Promise<void>;
  close(): Promise<void>;
}

/** How the suite reaches one connector and its real server. */
export interface ConnectorHarness {
  readonly connector: Connector;
  /** The target, configured with the broker's dedicated (minimal) admin account. */
  readonly target: ConnectorTarget;
  /** The configured role the suite requests (`grant.role`); `target.roleGrants` is its grants. */
  readonly roleName: string;
  /** The same kind of target pointing where nothing listens (e.g. 127.0.0.1:1), with credentials in its settings. */
  readonly unreachableTarget: ConnectorTarget;
  /** Every secret in the settings of `target` and `unreachableTarget` (admin URLs, passwords). */
  readonly adminSecrets: readonly string[];
  /** Opens a session with the credential; rejects when the target refuses it. */
  connect(credential: IssuedCredential): Promise<ClientSession>;
  /** Makes the target unreachable (optional: enables the outage case). */
  stopTarget?(): Promise<void>;
  /** Brings it back. */
  startTarget?(): Promise<void>;
  setup(): Promise<void>;
  teardown(): Promise<void>;
}

/** Secrets found anywhere in `value` (JSON, String(), and an error's message and stack). */
function leaked(value: unknown, secrets: readonly string[]): string[] {
  const texts = [JSON.stringify(value) ?? '', String(value)];
  if (value instanceof Error) texts.push(value.message, value.stack ?? '');
  return secrets.filter((s) => s !== '' && texts.some((t) => t.includes(s)));
}

/** Registers the suite. */
export function describeConnectorConformance(name: string, harness: ConnectorHarness): void {
  describe(`connector conformance: ${name}`, () => {
    const made: RevocationRecipe[] = [];
    const sessions: ClientSession[] = [];

    beforeAll(() => harness.setup());
    afterEach(async () => {
      await Promise.all(sessions.splice(0).map((s) => s.close().catch(() => undefined)));
      for (const recipe of made.splice(0)) await harness.connector.revoke(recipe, harness.target).catch(() => undefined);
    });
    afterAll(() => harness.teardown());

    function grant(overrides: Partial<Grant> = {}): Grant {
      return grantFixture(harness.target.name, harness.roleName, overrides);
    }

    function plan(g: Grant): RevocationRecipe {
      const recipe = harness.connector.plan(g, harness.target);
      made.push(recipe);
      return recipe;
    }

    async function provision(g: Grant, recipe: RevocationRecipe): Promise<IssuedCredential> {
      const credential = await harness.connector.provision(g, harness.target, recipe);
      expect(credential, 'a connector with a target-side credential returns it').toBeDefined();
      return credential!;
    }

    async function provisionNew(): Promise<{ grant: Grant; recipe: RevocationRecipe; credential: IssuedCredential }> {
      const g = grant();
      const recipe = plan(g);
      return { grant: g, recipe, credential: await provision(g, recipe) };
    }

    async function connect(credential: IssuedCredential): Promise<ClientSession> {
      const session = await harness.connect(credential);
      sessions.push(session);
      return session;
    }

    it('issues a credential that works while the grant is active, and only for what the role allows', async () => {
      const { credential } = await provisionNew();
      const session = await connect(credential);
      await session.runAllowed();
      await expect(session.runForbidden()).rejects.toThrow();
      // The refusal did not end the session: the credential still works for what is allowed.
      await session.runAllowed();
    });

    it('ends a session opened before revoke: it cannot run a command afterwards', async () => {
      const { recipe, credential } = await provisionNew();
      const session = await connect(credential);
      await session.runAllowed();
      await session.runUnprivileged();
      await harness.connector.revoke(recipe, harness.target);
      await expect(session.runUnprivileged()).rejects.toThrow();
      await expect(session.runAllowed()).rejects.toThrow();
      await expect(harness.connect(credential)).rejects.toThrow();
    });

    it('revoking twice is harmless', async () => {
      const { recipe, credential } = await provisionNew();
      await harness.connector.revoke(recipe, harness.target);
      await harness.connector.revoke(recipe, harness.target);
      const evidence = await harness.connector.verifyRevoked(recipe, harness.target, credential);
      expect(evidence.verified, JSON.stringify(evidence)).toBe(true);
    });

    it('revoking a credential that was never provisioned is harmless, and its proof passes', async () => {
      const recipe = plan(grant());
      await harness.connector.revoke(recipe, harness.target);
      const evidence = await harness.connector.verifyRevoked(recipe, harness.target);
      expect(evidence.verified, JSON.stringify(evidence)).toBe(true);
    });

    it('verifyRevoked fails while the credential works and passes after revoke', async () => {
      const { recipe, credential } = await provisionNew();
      const before = await harness.connector.verifyRevoked(recipe, harness.target, credential);
      expect(before.verified).toBe(false);
      expect(before.checks.some((c) => !c.passed)).toBe(true);
      await harness.connector.revoke(recipe, harness.target);
      const after = await harness.connector.verifyRevoked(recipe, harness.target, credential);
      expect(after.verified, JSON.stringify(after)).toBe(true);
      // A real proof tries the credential and looks for sessions: at least two observations.
      expect(after.checks.length).toBeGreaterThanOrEqual(2);
      expect(after.checks.every((c) => c.passed && c.detail.length > 0)).toBe(true);
      expect(typeof after.at).toBe('number');
    });

    it('provision is idempotent: the second credential works and the first no longer does', async () => {
      const g = grant();
      const recipe = plan(g);
      const first = await provision(g, recipe);
      const second = await provision(g, recipe);
      expect(second.password).not.toBe(first.password);
      const session = await connect(second);
      await session.runAllowed();
      await expect(harness.connect(first)).rejects.toThrow();
    });

    it('reconcile finds an orphan; a dry run removes nothing and a real run removes only the orphan', async () => {
      const reconcile = harness.connector.reconcile;
      expect(reconcile, 'connectors with target-side credentials implement reconcile').toBeDefined();
      const orphan = await provisionNew();
      const live = await provisionNew();
      const liveIds = new Set([live.grant.id]);

      const dry = await reconcile!.call(harness.connector, harness.target, liveIds, { dryRun: true });
      expect(dry.orphans.map((o) => o.grantId)).toContain(orphan.grant.id);
      expect(dry.orphans.map((o) => o.grantId)).not.toContain(live.grant.id);
      expect(dry.removed).toEqual([]);
      await (await connect(orphan.credential)).runAllowed();

      const real = await reconcile!.call(harness.connector, harness.target, liveIds, { dryRun: false });
      expect(real.removed).toContain(orphan.recipe.data.name);
      expect(real.removed).not.toContain(live.recipe.data.name);
      await expect(harness.connect(orphan.credential)).rejects.toThrow();
      await (await connect(live.credential)).runAllowed();
      const evidence = await harness.connector.verifyRevoked(orphan.recipe, harness.target, orphan.credential);
      expect(evidence.verified, JSON.stringify(evidence)).toBe(true);
    });

    it('keeps secrets out of recipes, evidence and errors', async () => {
      const g = grant();
      const recipe = plan(g);
      const credential = await provision(g, recipe);
      const secrets = [...harness.adminSecrets, credential.password ?? ''];
      expect(harness.adminSecrets.length).toBeGreaterThan(0);
      expect(leaked(recipe, secrets)).toEqual([]);
      const before = await harness.connector.verifyRevoked(recipe, harness.target, credential);
      await harness.connector.revoke(recipe, harness.target);
      const after = await harness.connector.verifyRevoked(recipe, harness.target, credential);
      expect(leaked(before, secrets)).toEqual([]);
      expect(leaked(after, secrets)).toEqual([]);
      const failure = await harness.connector.revoke(recipe, harness.unreachableTarget).then(() => undefined, (e: unknown) => e);
      expect(failure).toBeInstanceOf(StintError);
      expect(leaked(failure, secrets)).toEqual([]);
    });

    it('reports an unreachable target as target_unavailable, without secrets, for every operation', async () => {
      const target = harness.unreachableTarget;
      const g = grantFixture(target.name, harness.roleName);
      const recipe = harness.connector.plan(g, target);
      const attempts: [string, () => Promise<unknown>][] = [
        ['provision', () => harness.connector.provision(g, target, recipe)],
        ['revoke', () => harness.connector.revoke(recipe, target)],
        ['verifyRevoked', () => harness.connector.verifyRevoked(recipe, target, { username: 'nobody', password: 'not-a-real-password' })],
        ['extend', () => harness.connector.extend(recipe, target, Date.now() + 60_000)],
      ];
      for (const [what, attempt] of attempts) {
        const error = await attempt().then(() => undefined, (e: unknown) => e);
        expect(error, `${what} must fail`).toBeInstanceOf(StintError);
        expect((error as StintError).code, what).toBe('target_unavailable');
        expect(leaked(error, harness.adminSecrets), what).toEqual([]);
      }
      const check = await harness.connector.check?.(target);
      if (check !== undefined) {
        expect(check.reachable).toBe(false);
        expect(leaked(check, harness.adminSecrets)).toEqual([]);
      }
    });

    it.skipIf(harness.stopTarget === undefined || harness.startTarget === undefined)(
      'a revoke during a target outage fails with target_unavailable and succeeds after recovery',
      async () => {
        const { recipe, credential } = await provisionNew();
        await harness.stopTarget!();
        let error: unknown;
        try {
          error = await harness.connector.revoke(recipe, harness.target).then(() => undefined, (e: unknown) => e);
        } finally {
          await harness.startTarget!();
        }
        expect(error).toBeInstanceOf(StintError);
        expect((error as StintError).code).toBe('target_unavailable');
        expect(leaked(error, [...harness.adminSecrets, credential.password ?? ''])).toEqual([]);
        // What the worker does next: retry. The first attempt after recovery succeeds.
        await harness.connector.revoke(recipe, harness.target);
        const evidence = await harness.connector.verifyRevoked(recipe, harness.target, credential);
        expect(evidence.verified, JSON.stringify(evidence)).toBe(true);
      },
    );
  });
}
