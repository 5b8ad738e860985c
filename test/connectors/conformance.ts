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
  /**
   * Makes the credential of `recipe` impossible to remove on the target, for the batch fallback
   * case (optional: PostgreSQL can, e.g. an object the role owns in another database; Redis
   * cannot: `ACL DELUSER` never fails for one user of Stint's). `unblockRemoval` undoes it.
   */
  blockRemoval?(recipe: RevocationRecipe): Promise<void>;
  unblockRemoval?(recipe: RevocationRecipe): Promise<void>;
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

    describe('batch revocation (revokeMany / verifyRevokedMany)', () => {
      const batch = (): { revokeMany: NonNullable<Connector['revokeMany']>; verifyRevokedMany: NonNullable<Connector['verifyRevokedMany']> } => {
        const { revokeMany, verifyRevokedMany } = harness.connector;
        expect(revokeMany, 'connectors with target-side credentials implement revokeMany').toBeDefined();
        expect(verifyRevokedMany, 'and verifyRevokedMany').toBeDefined();
        return { revokeMany: revokeMany!.bind(harness.connector), verifyRevokedMany: verifyRevokedMany!.bind(harness.connector) };
      };
      /** The target as the service hands it to the batch methods: a batch spans roles. */
      const batchTarget = (): ConnectorTarget => ({ ...harness.target, roleGrants: {} });

      it('revokes a batch: a session opened before dies, every credential is proven dead by its own login attempt', async () => {
        const { revokeMany, verifyRevokedMany } = batch();
        const issued = [await provisionNew(), await provisionNew(), await provisionNew()];
        const session = await connect(issued[1]!.credential);
        await session.runAllowed();
        const results = await revokeMany(issued.map((i) => i.recipe), batchTarget());
        expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
        await expect(session.runUnprivileged()).rejects.toThrow();
        await expect(harness.connect(issued[0]!.credential)).rejects.toThrow();
        const evidence = await Promise.all(verifyRevokedMany(issued.map((i) => ({ recipe: i.recipe, credential: i.credential })), batchTarget()));
        expect(evidence).toHaveLength(3);
        for (const e of evidence) {
          expect(e.verified, JSON.stringify(e)).toBe(true);
          expect(e.checks.length).toBeGreaterThanOrEqual(3);
          expect(e.checks[0]?.check).toBe('login');
          expect(e.checks.every((c) => c.passed && c.detail.length > 0)).toBe(true);
        }
        // Each proof is about its own credential.
        evidence.forEach((e, i) => expect(JSON.stringify(e)).toContain(String(issued[i]!.recipe.data.name)));
      });

      it("revoking a batch leaves other credentials' sessions alone", async () => {
        const { revokeMany } = batch();
        const bystander = await provisionNew();
        const revoked = [await provisionNew(), await provisionNew()];
        const other = await connect(bystander.credential);
        const ended = await connect(revoked[0]!.credential);
        await other.runAllowed();
        await ended.runAllowed();
        expect(await revokeMany(revoked.map((i) => i.recipe), batchTarget())).toEqual([{ ok: true }, { ok: true }]);
        await expect(ended.runUnprivileged()).rejects.toThrow();
        await other.runAllowed();
        await harness.connector.revoke(revoked[1]!.recipe, harness.target);
        await other.runAllowed();
      });

      it('a batch proof fails for credentials that still work, and passes only for the revoked one', async () => {
        const { revokeMany, verifyRevokedMany } = batch();
        const alive = await provisionNew();
        const dead = await provisionNew();
        expect(await revokeMany([dead.recipe], batchTarget())).toEqual([{ ok: true }]);
        const [aliveProof, deadProof] = await Promise.all(verifyRevokedMany([alive, dead].map((i) => ({ recipe: i.recipe, credential: i.credential })), batchTarget()));
        expect(aliveProof?.verified).toBe(false);
        expect(aliveProof?.checks.find((c) => c.check === 'login')?.passed).toBe(false);
        expect(deadProof?.verified, JSON.stringify(deadProof)).toBe(true);
        await (await connect(alive.credential)).runAllowed();
      });

      it('a batch with credentials already gone or never made is harmless, and their proofs pass', async () => {
        const { revokeMany, verifyRevokedMany } = batch();
        const gone = await provisionNew();
        await harness.connector.revoke(gone.recipe, harness.target);
        const never = plan(grant());
        const live = await provisionNew();
        const recipes = [gone.recipe, never, live.recipe];
        expect(await revokeMany(recipes, batchTarget())).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
        expect(await revokeMany(recipes, batchTarget()), 'and revoking the batch twice').toEqual([{ ok: true }, { ok: true }, { ok: true }]);
        const evidence = await Promise.all(
          verifyRevokedMany([{ recipe: gone.recipe, credential: gone.credential }, { recipe: never }, { recipe: live.recipe, credential: live.credential }], batchTarget()),
        );
        for (const e of evidence) expect(e.verified, JSON.stringify(e)).toBe(true);
      });

      it('a malformed recipe in a batch fails alone; the others are revoked', async () => {
        const { revokeMany, verifyRevokedMany } = batch();
        const good = await provisionNew();
        const bad: RevocationRecipe = { ...good.recipe, data: { ...good.recipe.data, name: 'not-made-by-stint' } };
        const results = await revokeMany([bad, good.recipe], batchTarget());
        expect(results[0]?.ok).toBe(false);
        expect(results[0]?.ok === false && results[0].error).toBeInstanceOf(StintError);
        expect(results[1]).toEqual({ ok: true });
        const [badProof, goodProof] = verifyRevokedMany([{ recipe: bad }, { recipe: good.recipe, credential: good.credential }], batchTarget());
        await expect(badProof).rejects.toBeInstanceOf(StintError);
        expect((await goodProof!).verified).toBe(true);
      });

      it.skipIf(harness.blockRemoval === undefined)('a batch with one credential that cannot be removed falls back: only that one fails, with its own error', async () => {
        const { revokeMany, verifyRevokedMany } = batch();
        const issued = [await provisionNew(), await provisionNew(), await provisionNew()];
        const stuck = issued[1]!;
        await harness.blockRemoval!(stuck.recipe);
        try {
          const results = await revokeMany(issued.map((i) => i.recipe), batchTarget());
          expect(results[0]).toEqual({ ok: true });
          expect(results[2]).toEqual({ ok: true });
          const failed = results[1]!;
          expect(failed.ok).toBe(false);
          if (failed.ok) return;
          expect(failed.error.code).toBe('target_unavailable');
          expect(`${failed.error.detail} ${failed.error.internalReason ?? ''}`).toContain(String(stuck.recipe.data.name));
          expect(leaked(failed.error, [...harness.adminSecrets, ...issued.map((i) => i.credential.password ?? '')])).toEqual([]);
          const evidence = await Promise.all(verifyRevokedMany(issued.map((i) => ({ recipe: i.recipe, credential: i.credential })), batchTarget()));
          expect(evidence[0]?.verified).toBe(true);
          expect(evidence[2]?.verified).toBe(true);
          // The stuck one is not reported dead: it still exists (even if it can no longer log in).
          expect(evidence[1]?.verified).toBe(false);
        } finally {
          await harness.unblockRemoval!(stuck.recipe);
        }
        expect(await revokeMany([stuck.recipe], batchTarget()), 'once unblocked, a retry removes it').toEqual([{ ok: true }]);
        expect((await harness.connector.verifyRevoked(stuck.recipe, harness.target, stuck.credential)).verified).toBe(true);
      });

      it('an unreachable target fails every credential of the batch with target_unavailable, without secrets', async () => {
        const { revokeMany, verifyRevokedMany } = batch();
        const target = { ...harness.unreachableTarget, roleGrants: {} };
        const recipes = [grant(), grant()].map((g) => harness.connector.plan(g, harness.unreachableTarget));
        const results = await revokeMany(recipes, target);
        expect(results).toHaveLength(2);
        for (const r of results) {
          expect(r.ok).toBe(false);
          if (r.ok) continue;
          expect(r.error.code).toBe('target_unavailable');
          expect(leaked(r.error, harness.adminSecrets)).toEqual([]);
        }
        const proofs = verifyRevokedMany(recipes.map((recipe) => ({ recipe, credential: { username: 'nobody', password: 'not-a-real-password' } })), target);
        for (const proof of proofs) {
          const error = await proof.then(() => undefined, (e: unknown) => e);
          expect(error).toBeInstanceOf(StintError);
          expect((error as StintError).code).toBe('target_unavailable');
          expect(leaked(error, harness.adminSecrets)).toEqual([]);
        }
      });
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
