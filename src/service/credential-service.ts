/**
 * Target-side work: provisioning a credential when a grant activates, and revoking it when the
 * grant ends, with proof. Crash-safe order (issue #3): the intent (recipe, state
 * `provisioning`/`revoking`) commits before the target is touched; the outcome commits after.
 */
import { StintError } from '../core/errors.js';
import type { Grant, RevocationEvidence } from '../core/grant.js';
import { activate, beginProvisioning, credentialRevokeFailed, credentialRevoked, endGrant, type Transition } from '../core/lifecycle.js';
import type { BatchRevokeResult, Connector, ConnectorTarget, IssuedCredential } from '../ports/connector.js';
import type { TargetConfig } from '../config/types.js';
import { commitTransitions, inTransaction, type ServiceDeps } from './context.js';
import type { GrantResult } from './grant-service.js';
import { crashPoint } from './crash-points.js';

/** How long an inline provisioning or revocation keeps other workers off a grant. */
const DEFAULT_LEASE_MS = 5_000;

/** What happened on the target for one grant, before it is recorded. */
export interface RevocationOutcome {
  readonly grantId: string;
  readonly connector: string;
  readonly evidence?: RevocationEvidence;
  readonly error?: string;
}

function isRevoking(grant: Grant): boolean {
  return grant.credential.state === 'revoking' || grant.credential.state === 'revoke_failed';
}

/** The connector's view of a configured target for one role. */
function connectorTarget(target: TargetConfig, role: string): ConnectorTarget {
  return { name: target.name, connector: target.connector, connection: target.connection, roleGrants: target.roles[role]?.grants ?? {} };
}

/** A connector whose provisioning touches nothing outside the store can activate in one transaction. */
function hasSideEffects(connector: Connector): boolean {
  return (connector as { sideEffects?: boolean }).sideEffects !== false;
}

/** Error text safe for the audit log: the message only (connectors never put secrets in messages). */
export function describeError(e: unknown): string {
  if (e instanceof StintError) return `${e.code}: ${e.internalReason ?? e.detail}`;
  if (e instanceof Error) return e.message.slice(0, 500);
  return String(e).slice(0, 500);
}

export class CredentialService {
  readonly leaseMs: number;

  constructor(
    private readonly deps: ServiceDeps,
    opts: { leaseMs?: number } = {},
  ) {
    this.leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  }

  private connectorFor(target: TargetConfig, role: string): { connector: Connector; ctarget: ConnectorTarget } {
    const connector = this.deps.connectors.get(target.connector);
    if (!connector) throw new StintError('target_unavailable', `no connector "${target.connector}" for target ${target.name}`);
    return { connector, ctarget: connectorTarget(target, role) };
  }

  /**
   * The connector and the target as configured now, for work on an existing credential. The
   * recipe stored with the grant says what to act on; the config only says how to reach it.
   */
  private forRecipe(grant: Grant): { connector: Connector; ctarget: ConnectorTarget } | string {
    const recipe = grant.credential.recipe!;
    const connector = this.deps.connectors.get(recipe.connector);
    if (!connector) return `connector "${recipe.connector}" is not available in this broker`;
    const target = this.deps.config.targets[recipe.target];
    if (!target) return `target "${recipe.target}" is no longer configured; restore its connection so the credential can be removed`;
    return { connector, ctarget: connectorTarget(target, grant.role) };
  }

  /** Activates a just-decided, auto-approved request (insert + activation). */
  async activateNew(opened: Transition, target: TargetConfig, actor: string): Promise<GrantResult> {
    const now = this.deps.clock.now();
    const { connector, ctarget } = this.connectorFor(target, opened.grant.role);
    const begun = beginProvisioning(opened.grant, connector.plan(opened.grant, ctarget), now, this.leaseMs / 1000);
    if (!hasSideEffects(connector)) {
      // Nothing outside the store changes: request, decision and activation commit together.
      const active = activate(begun.grant, now, actor, false);
      // Queued for its group commit first, so that on PostgreSQL the statement can be on its way
      // while the token is signed; the token is handed out only once the commit succeeded, else
      // it is dropped unseen.
      const committed = this.deps.newGrants.insert(active.grant, [...opened.events, ...active.events]);
      const token = this.deps.tokens.issue(active.grant, now, active.grant.dpopJkt);
      token.catch(() => undefined);
      await committed;
      return { grant: active.grant, accessToken: await token };
    }
    await this.deps.newGrants.insert(begun.grant, [...opened.events, ...begun.events]);
    return this.provisionBegun(begun.grant, connector, ctarget, actor);
  }

  /** Activates an approved grant on its requester's call. */
  async activateExisting(id: string, target: TargetConfig, actor: string): Promise<GrantResult> {
    const now = this.deps.clock.now();
    let connector: Connector | undefined;
    let ctarget: ConnectorTarget | undefined;
    const grant = await inTransaction(this.deps, async (tx) => {
      const current = await tx.lockGrant(id);
      if (!current) throw new StintError('grant_not_found', `no grant "${id}"`);
      ({ connector, ctarget } = this.connectorFor(target, current.role));
      const begun = beginProvisioning(current, connector.plan(current, ctarget), now, this.leaseMs / 1000);
      if (!hasSideEffects(connector)) {
        const active = activate(begun.grant, now, actor, false);
        const merged = { grant: { ...active.grant, version: current.version + 1 }, events: [...begun.events, ...active.events] };
        return { value: merged.grant, records: await commitTransitions(tx, now, [{ transition: merged }]) };
      }
      return { value: begun.grant, records: await commitTransitions(tx, now, [{ transition: begun }]) };
    });
    if (grant.status === 'active') return { grant, accessToken: await this.deps.tokens.issue(grant, now, grant.dpopJkt) };
    return this.provisionBegun(grant, connector!, ctarget!, actor);
  }

  /** Step 3-4 of the connector contract: make the credential, then commit `active`. */
  private async provisionBegun(grant: Grant, connector: Connector, ctarget: ConnectorTarget, actor: string): Promise<GrantResult> {
    const recipe = grant.credential.recipe!;
    let credential: IssuedCredential | undefined;
    crashPoint('after-provision-intent');
    try {
      credential = await connector.provision(grant, ctarget, recipe);
      crashPoint('after-provision');
    } catch (e) {
      this.deps.log.warn({ grant: grant.id, target: grant.target, err: describeError(e) }, 'provisioning failed; undoing');
      await this.abortActivation(grant.id, `provisioning failed: ${describeError(e)}`);
      throw new StintError('target_unavailable', `target ${grant.target} could not create the credential; nothing was granted`, { internalReason: describeError(e) });
    }
    const now = this.deps.clock.now();
    try {
      const active = await inTransaction(this.deps, async (tx) => {
        const current = await tx.lockGrant(grant.id);
        if (!current) throw new StintError('grant_not_found', `no grant "${grant.id}"`);
        const t = activate(current, now, actor, true);
        const sealed: Transition = credential
          ? { ...t, grant: { ...t.grant, credential: { ...t.grant.credential, sealed: this.deps.sealer.seal(grant.id, credential) } } }
          : t;
        return { value: sealed.grant, records: await commitTransitions(tx, now, [{ transition: sealed }]) };
      });
      return { grant: active, accessToken: await this.deps.tokens.issue(active, now, active.dpopJkt), ...(credential ? { credential } : {}) };
    } catch (e) {
      // The grant changed while we provisioned (revoked, lapsed): the credential must not survive.
      await this.abortActivation(grant.id, `activation failed: ${describeError(e)}`);
      throw e;
    }
  }

  /** Ends a grant whose activation did not finish and revokes whatever the target holds. */
  private async abortActivation(id: string, note: string): Promise<void> {
    const now = this.deps.clock.now();
    const ended = await inTransaction(this.deps, async (tx) => {
      const current = await tx.lockGrant(id);
      if (!current || current.credential.state !== 'provisioning') return { value: current, records: [] };
      const t = endGrant(current, 'revoked', 'system', now, note, this.leaseMs);
      return { value: t.grant, records: await commitTransitions(tx, now, [{ transition: t }]) };
    });
    if (ended?.credential.state === 'revoking') await this.finishRevocation(id);
  }

  /**
   * Revokes on the target, proves the credential dead, and records the outcome. Never throws
   * for target failures: they become `revoke_failed` with a retry time (retried forever).
   */
  async finishRevocation(id: string): Promise<Grant | undefined> {
    const grant = await this.deps.store.getGrant(id);
    if (!grant || !isRevoking(grant)) return grant;
    const [final] = await this.recordOutcomes([await this.revokeOnTarget(grant)]);
    return final;
  }

  /**
   * The target-side half of a revocation, with no store write: revoke, then prove the credential
   * dead. Safe to run for many grants concurrently; `recordOutcomes` commits the results.
   */
  async revokeOnTarget(grant: Grant): Promise<RevocationOutcome> {
    const recipe = grant.credential.recipe;
    if (!recipe) {
      return { grantId: grant.id, connector: 'none', evidence: { verified: true, checks: [{ check: 'recipe', passed: true, detail: 'no credential was ever made for this grant' }], at: this.deps.clock.now() } };
    }
    const found = this.forRecipe(grant);
    if (typeof found === 'string') return { grantId: grant.id, connector: recipe.connector, error: found };
    try {
      crashPoint('after-end-commit');
      await found.connector.revoke(recipe, found.ctarget);
      crashPoint('after-revoke');
      const evidence = await found.connector.verifyRevoked(recipe, found.ctarget, this.unseal(grant));
      return { grantId: grant.id, connector: recipe.connector, evidence };
    } catch (e) {
      return { grantId: grant.id, connector: recipe.connector, error: describeError(e) };
    }
  }

  /**
   * The batch a grant's revocation can join: grants with the same key are revoked together by
   * {@link revokeManyOnTarget}. Undefined when the grant has no recipe, its target or connector
   * is gone, or the connector has no batch methods (then {@link revokeOnTarget} does it alone).
   */
  batchKey(grant: Grant): string | undefined {
    const recipe = grant.credential.recipe;
    if (!recipe) return undefined;
    const connector = this.deps.connectors.get(recipe.connector);
    if (!connector?.revokeMany || !connector.verifyRevokedMany || !this.deps.config.targets[recipe.target]) return undefined;
    return JSON.stringify([recipe.connector, recipe.target]);
  }

  /**
   * The target-side half of a revocation for many grants sharing one {@link batchKey}, with no
   * store write: `revokeMany`, then `verifyRevokedMany`. `emit` receives each grant's outcome as
   * soon as it is known (a failed revoke at once, a proof when its login attempt is done), so
   * the caller can commit early outcomes while later proofs are still running. Never throws for
   * target failures; resolves when every grant's outcome was emitted.
   */
  async revokeManyOnTarget(grants: readonly Grant[], emit: (outcome: RevocationOutcome) => void): Promise<void> {
    if (grants.length === 0) return;
    const recipes = grants.map((g) => g.credential.recipe!);
    const { connector: kind, target: targetName } = recipes[0]!;
    const connector = this.deps.connectors.get(kind);
    const target = this.deps.config.targets[targetName];
    const fail = (gs: readonly Grant[], error: string): void => {
      for (const g of gs) emit({ grantId: g.id, connector: kind, error });
    };
    if (!connector?.revokeMany || !connector.verifyRevokedMany || !target) {
      fail(grants, `connector "${kind}" or target "${targetName}" is not available for a batch revocation`);
      return;
    }
    if (recipes.some((r) => r.connector !== kind || r.target !== targetName)) throw new StintError('internal', 'a revocation batch spans several targets');
    // A batch spans roles; revocation works from the recipes alone (docs/connectors.md).
    const ctarget: ConnectorTarget = { name: target.name, connector: target.connector, connection: target.connection, roleGrants: {} };
    let results: readonly BatchRevokeResult[];
    try {
      crashPoint('after-end-commit');
      results = await connector.revokeMany(recipes, ctarget);
      crashPoint('after-revoke');
      if (results.length !== grants.length) throw new StintError('internal', `revokeMany returned ${results.length} results for ${grants.length} recipes`);
    } catch (e) {
      fail(grants, describeError(e));
      return;
    }
    const revoked: Grant[] = [];
    grants.forEach((g, i) => {
      const r = results[i]!;
      if (r.ok) revoked.push(g);
      else emit({ grantId: g.id, connector: kind, error: describeError(r.error) });
    });
    if (revoked.length === 0) return;
    let proofs: readonly Promise<RevocationEvidence>[];
    try {
      proofs = connector.verifyRevokedMany(
        revoked.map((g) => {
          const credential = this.unseal(g);
          return { recipe: g.credential.recipe!, ...(credential ? { credential } : {}) };
        }),
        ctarget,
      );
      if (proofs.length !== revoked.length) {
        for (const p of proofs) p.catch(() => undefined);
        throw new StintError('internal', `verifyRevokedMany returned ${proofs.length} proofs for ${revoked.length} requests`);
      }
    } catch (e) {
      fail(revoked, describeError(e));
      return;
    }
    await Promise.all(
      proofs.map((proof, i) =>
        proof.then(
          (evidence) => emit({ grantId: revoked[i]!.id, connector: kind, evidence }),
          (e: unknown) => emit({ grantId: revoked[i]!.id, connector: kind, error: describeError(e) }),
        ),
      ),
    );
  }

  /**
   * Commits many revocation outcomes in one transaction (group commit: audit appends serialise on
   * the log head, so one transaction per grant would cap revocation throughput).
   */
  async recordOutcomes(outcomes: readonly RevocationOutcome[]): Promise<(Grant | undefined)[]> {
    const { deps } = this;
    if (outcomes.length === 0) return [];
    const now = deps.clock.now();
    const finals = await inTransaction(deps, async (tx) => {
      const values: (Grant | undefined)[] = [];
      const writes: { transition: Transition }[] = [];
      // One statement locks them all (in id order, so replicas cannot deadlock); each outcome is
      // still checked against the locked row. `latest` follows the grant through this
      // transaction, so an id listed twice sees its first outcome's write, as one lock per
      // outcome did.
      const latest = await tx.lockGrants(outcomes.map((o) => o.grantId));
      for (const o of outcomes) {
        const current = latest.get(o.grantId);
        if (!current || !isRevoking(current)) {
          values.push(current);
          continue;
        }
        const t = o.evidence?.verified
          ? credentialRevoked(current, o.evidence, now)
          : credentialRevokeFailed(current, o.error ?? 'credential still usable after revocation', o.evidence !== undefined, now, deps.config.grants.revokeRetry);
        writes.push({ transition: t });
        values.push(t.grant);
        latest.set(o.grantId, t.grant);
      }
      return { value: values, records: await commitTransitions(tx, now, writes) };
    });
    outcomes.forEach((o, i) => {
      const final = finals[i];
      if (final?.credential.state === 'revoked') {
        deps.metrics.revocationLagSeconds.observe({ connector: o.connector }, Math.max(0, now - (final.endedAt ?? now)) / 1000);
      } else if (final?.credential.state === 'revoke_failed') {
        deps.metrics.revokeFailures.inc({ connector: o.connector });
        deps.log.warn({ grant: o.grantId, target: final.target, attempts: final.credential.revokeAttempts, err: final.credential.revokeLastError }, 'revocation failed; will retry');
      }
    });
    return finals;
  }

  /** The issued credential for the proof, if it was sealed and still opens. */
  private unseal(grant: Grant): IssuedCredential | undefined {
    if (!grant.credential.sealed) return undefined;
    try {
      return this.deps.sealer.open(grant.id, grant.credential.sealed);
    } catch (e) {
      // Without it the proof still checks that the credential and its sessions are gone.
      this.deps.log.warn({ grant: grant.id, err: describeError(e) }, 'sealed credential does not open; proof runs without a login attempt');
      return undefined;
    }
  }

  /** Moves the target-side expiry after an approved extension (e.g. PostgreSQL VALID UNTIL). */
  async extendOnTarget(parent: Grant): Promise<void> {
    const found = parent.credential.recipe ? this.forRecipe(parent) : undefined;
    if (!found || typeof found === 'string' || parent.expiresAt === undefined) return;
    try {
      await found.connector.extend(parent.credential.recipe!, found.ctarget, parent.expiresAt);
    } catch (e) {
      // The grant's expiry in the store is authoritative; the target-side backstop only ends
      // new logins early, it never keeps access longer. Log for operators.
      this.deps.log.warn({ grant: parent.id, target: parent.target, err: describeError(e) }, 'could not move target-side expiry');
    }
  }
}
