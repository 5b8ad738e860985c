/**
 * The grant use cases: request, approve, deny, activate, complete, revoke, extend, review,
 * read. Each runs its state change and audit events in one transaction (fail closed: if the
 * audit append fails, nothing changes) and leaves target-side work to `CredentialService`.
 */
import { StintError } from '../core/errors.js';
import type { Grant } from '../core/grant.js';
import { effectiveStatus, isLive } from '../core/grant.js';
import type { Principal } from '../core/principal.js';
import {
  activate,
  applyExtension,
  beginProvisioning,
  endGrant,
  extensionExpiry,
  lapseExtension,
  openGrant,
  recordVote,
  reviewBreakGlass,
  type GrantRequest,
  type Transition,
} from '../core/lifecycle.js';
import { decideTier } from '../core/tiering.js';
import { groupsOf, mayApprove, mayComplete, mayPickUp, mayReview, mayRevoke, mayView } from '../core/access.js';
import { isBusinessHours } from '../core/business-hours.js';
import type { GrantFilter, Page, PageRequest, StoreTx } from '../ports/store.js';
import type { IssuedCredential } from '../ports/connector.js';
import type { GrantsConfig, TargetConfig } from '../config/types.js';
import type { CredentialService } from './credential-service.js';
import { commitTransitions, inTransaction, targetOf, type ServiceDeps } from './context.js';

/** What a requester sends (already shape-checked by the interface layer). */
export interface GrantInput {
  readonly target: string;
  readonly role: string;
  readonly task: string;
  readonly reason: string;
  readonly ticket?: string;
  readonly ttlSeconds: number;
  readonly breakGlass?: boolean;
  /** Thumbprint of a verified DPoP key (RFC 9449): the grant's tokens are bound to it. */
  readonly dpopJkt?: string;
}

/** A grant as callers see it: status is the effective status at read time. */
export type GrantView = Grant;

/** Result of an action that may hand over credentials (only ever to the requester). */
export interface GrantResult {
  readonly grant: GrantView;
  /** RFC 9068 access token, when the grant is active and the caller is its requester. */
  readonly accessToken?: string;
  /** Target credential made for this grant alone; returned once, never stored. */
  readonly credential?: IssuedCredential;
}

/**
 * The requester picks up its grant (activation, a fresh token) by itself, or through exactly the
 * delegation chain that requested it (core/access.ts mayPickUp); any other actor its subject
 * names in `may_act` (RFC 8693), an approver among them, is refused.
 */
function requirePickUp(p: Principal, grant: Grant): void {
  if (!mayPickUp(p, grant)) {
    throw new StintError('forbidden', 'this grant was requested with another delegation chain; only its subject or the actors that requested it pick it up');
  }
}

/**
 * A DPoP-bound grant's tokens go only to the holder of its key (RFC 9449 section 10: a new
 * token must not move the binding); an unbound grant stays unbound.
 */
function requireSameKey(bound: string | undefined, presented: string | undefined): void {
  if (bound !== undefined && presented !== bound) {
    throw new StintError('forbidden', 'this grant is bound to a DPoP key; present a DPoP proof made with it');
  }
}

export class GrantService {
  /** The last `isBusinessHours` answer, for one whole second of time and one configuration. */
  private businessHoursMemo: { second: number; hours: GrantsConfig['businessHours']; value: boolean } | undefined;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly credentials: CredentialService,
  ) {}

  /** Files a request, decides it with policy, and activates it at once when auto-approved. */
  async request(p: Principal, input: GrantInput): Promise<GrantResult> {
    return this.open(p, input, { kind: 'access' });
  }

  /**
   * Asks to move the expiry of an active grant. A new request linked to the parent, decided on
   * its own; nothing ever extends silently.
   */
  async extend(p: Principal, parentId: string, input: { ttlSeconds: number; reason: string; ticket?: string }): Promise<GrantResult> {
    const parent = await this.visibleGrant(p, parentId);
    if (parent.principal !== p.id) throw new StintError('forbidden', 'only the requester can extend its grant');
    const status = effectiveStatus(parent, this.deps.clock.now());
    if (status !== 'active') throw new StintError('invalid_state', `cannot extend a grant that is ${status}`);
    return this.open(
      p,
      {
        target: parent.target,
        role: parent.role,
        task: parent.task,
        reason: input.reason,
        ...(input.ticket !== undefined ? { ticket: input.ticket } : parent.ticket !== undefined ? { ticket: parent.ticket } : {}),
        ttlSeconds: input.ttlSeconds,
      },
      { kind: 'extension', parent },
    );
  }

  private async open(p: Principal, input: GrantInput, mode: { kind: 'access' } | { kind: 'extension'; parent: Grant }): Promise<GrantResult> {
    const { deps } = this;
    const started = process.hrtime.bigint();
    const target = deps.config.targets[input.target];
    if (!target || target.tenant !== p.tenant) throw new StintError('unknown_target', `no target named "${input.target}"`);
    const role = target.roles[input.role];
    if (!role) {
      throw new StintError('unknown_role', `target "${target.name}" has no role "${input.role}" (roles: ${Object.keys(target.roles).join(', ')})`);
    }
    const breakGlass = input.breakGlass === true;
    if (target.requireDpop && (input.dpopJkt ?? (mode.kind === 'extension' ? mode.parent.dpopJkt : undefined)) === undefined) {
      throw new StintError('invalid_request', `target "${target.name}" grants only DPoP-bound tokens: request through /oauth/token with a DPoP proof (RFC 9449)`);
    }
    if (breakGlass && mode.kind === 'extension') throw new StintError('invalid_request', 'break-glass grants cannot be extended; file a new request');
    const maxTtl = breakGlass ? Math.min(target.breakGlassMaxTtlSeconds, deps.config.grants.breakGlassMaxTtlSeconds, role.maxTtlSeconds) : role.maxTtlSeconds;
    if (!Number.isSafeInteger(input.ttlSeconds) || input.ttlSeconds <= 0) throw new StintError('invalid_request', 'ttl must be a positive duration');
    if (input.ttlSeconds > maxTtl) {
      throw new StintError('ttl_exceeds_max', `ttl ${input.ttlSeconds}s exceeds the ${breakGlass ? 'break-glass ' : ''}maximum of ${maxTtl}s for ${target.name}/${role.name}`);
    }
    const now = deps.clock.now();
    if (mode.kind === 'extension') {
      // Fails early (and changes nothing) when the extension could never be applied.
      extensionExpiry(mode.parent, input.ttlSeconds, now, role.maxTtlSeconds);
    }
    const groups = groupsOf(p.id, deps.config.approvers);
    const decision = decideTier(
      (approved) =>
        deps.policy.evaluate({
          principal: p,
          principalGroups: groups,
          target: { name: target.name, env: target.env, tenant: target.tenant, owners: target.owners, attributes: target.attributes },
          role: role.name,
          roleMaxTtlSeconds: role.maxTtlSeconds,
          riskTier: role.riskTier,
          ttlSeconds: input.ttlSeconds,
          task: input.task,
          reason: input.reason,
          ...(input.ticket !== undefined ? { ticket: input.ticket } : {}),
          breakGlass,
          isExtension: mode.kind === 'extension',
          dpopBound: (input.dpopJkt ?? (mode.kind === 'extension' ? mode.parent.dpopJkt : undefined)) !== undefined,
          businessHours: this.businessHoursAt(now),
          now,
          approved,
        }),
      { breakGlass, roleApprovals: role.approvals, now },
    );
    const req: GrantRequest = {
      id: deps.newId(),
      kind: mode.kind,
      ...(mode.kind === 'extension' ? { parentId: mode.parent.id } : {}),
      tenant: p.tenant,
      principal: p.id,
      principalType: p.type,
      actorChain: p.actorChain ?? [],
      target: target.name,
      role: role.name,
      task: input.task,
      reason: input.reason,
      ...(input.ticket !== undefined ? { ticket: input.ticket } : {}),
      ttlSeconds: input.ttlSeconds,
      breakGlass,
      ...(input.dpopJkt !== undefined ? { dpopJkt: input.dpopJkt } : mode.kind === 'extension' && mode.parent.dpopJkt !== undefined ? { dpopJkt: mode.parent.dpopJkt } : {}),
    };
    const opened = openGrant(req, decision, now, deps.config.grants.pendingTimeoutSeconds);
    let result: GrantResult;
    if (mode.kind === 'extension') {
      result = { grant: await this.openExtension(opened, now) };
      if (result.grant.status === 'approved') {
        const parent = await deps.store.getGrant(mode.parent.id);
        if (parent) {
          await this.credentials.extendOnTarget(parent);
          result = { grant: result.grant, accessToken: await deps.tokens.issue(parent, now, parent.dpopJkt) };
        }
      }
    } else if (opened.grant.status === 'approved') {
      result = await this.credentials.activateNew(opened, target, p.id);
    } else {
      await deps.newGrants.insert(opened.grant, opened.events);
      result = { grant: opened.grant };
    }
    deps.metrics.decisionSeconds.observe({ outcome: decision.outcome }, Number(process.hrtime.bigint() - started) / 1e9);
    return result;
  }

  /**
   * `isBusinessHours(now)`, computed once per second (Intl.DateTimeFormat.formatToParts costs
   * a sizeable share of a whole Cedar evaluation). Exact: a local hour
   * or weekday can only change where local time crosses a whole hour, and local time is UTC plus
   * an offset of whole seconds (every tz database offset is), so it is constant within a second.
   */
  private businessHoursAt(now: number): boolean {
    const second = Math.floor(now / 1000);
    const hours = this.deps.config.grants.businessHours;
    const memo = this.businessHoursMemo;
    if (memo !== undefined && memo.second === second && memo.hours === hours) return memo.value;
    const value = isBusinessHours(now, hours);
    this.businessHoursMemo = { second, hours, value };
    return value;
  }

  /** Stores an extension request; auto-approved ones are applied to the parent in the same transaction. */
  private async openExtension(opened: Transition, now: number): Promise<Grant> {
    const { deps } = this;
    return inTransaction(deps, async (tx) => {
      if (opened.grant.status !== 'approved') {
        return { value: opened.grant, records: await commitTransitions(tx, now, [{ transition: opened, insert: true }]) };
      }
      const applied = await this.applyApprovedExtension(tx, opened.grant, now);
      const records = await commitTransitions(tx, now, [
        { transition: { grant: applied.extension, events: [...opened.events, ...applied.events] }, insert: true },
        ...(applied.parent ? [{ transition: applied.parent }] : []),
      ]);
      return { value: applied.extension, records };
    });
  }

  /**
   * Applies an approved extension to its (locked) parent, or lapses it when the parent ended.
   * The returned extension keeps the caller's version: it is written once, with `events`.
   */
  private async applyApprovedExtension(
    tx: StoreTx,
    extension: Grant,
    now: number,
  ): Promise<{ extension: Grant; events: Transition['events']; parent?: Transition }> {
    const parent = extension.parentId ? await tx.lockGrant(extension.parentId) : undefined;
    const role = parent ? targetOf(this.deps, parent)?.roles[parent.role] : undefined;
    if (!parent || !role || effectiveStatus(parent, now) !== 'active') {
      const lapsed = lapseExtension(extension, now, 'the grant it extends is no longer active');
      return { extension: { ...lapsed.grant, version: extension.version }, events: lapsed.events };
    }
    const applied = applyExtension(parent, extension, now, role.maxTtlSeconds);
    return { extension: { ...applied.extension, version: extension.version }, events: [], parent: applied.parent };
  }

  /** A human approves or denies a pending request. */
  async vote(p: Principal, id: string, verdict: 'approve' | 'deny', reason?: string): Promise<GrantResult> {
    const { deps } = this;
    const now = deps.clock.now();
    const grant = await inTransaction(deps, async (tx) => {
      const current = await this.lockVisible(tx, p, id);
      const target = this.targetOrThrow(current);
      const t = recordVote(
        current,
        { approver: p.id, verdict, ...(reason ? { reason } : {}), at: now },
        mayApprove(p, target, deps.config.approvers),
        now,
        deps.config.grants.pendingTimeoutSeconds,
      );
      let writes: { transition: Transition; insert?: boolean }[] = [{ transition: t }];
      let value = t.grant;
      if (t.grant.kind === 'extension' && t.grant.status === 'approved') {
        const applied = await this.applyApprovedExtension(tx, t.grant, now);
        writes = [
          { transition: { grant: applied.extension, events: [...t.events, ...applied.events] } },
          ...(applied.parent ? [{ transition: applied.parent }] : []),
        ];
        value = applied.extension;
      }
      return { value, records: await commitTransitions(tx, now, writes) };
    });
    if (grant.kind === 'extension' && grant.status === 'approved' && grant.parentId) {
      const parent = await deps.store.getGrant(grant.parentId);
      if (parent) await this.credentials.extendOnTarget(parent);
    }
    return { grant: this.view(grant, now) };
  }

  /** The requester picks up an approved grant: the credential is made and the TTL starts now. */
  async activate(p: Principal, id: string, dpopJkt?: string): Promise<GrantResult> {
    const grant = await this.visibleGrant(p, id);
    requireSameKey(grant.dpopJkt, dpopJkt);
    if (grant.principal !== p.id) throw new StintError('forbidden', 'only the requester can activate its grant');
    requirePickUp(p, grant);
    if (grant.kind === 'extension') throw new StintError('invalid_state', 'an extension is applied to its grant when approved; it is not activated');
    const target = this.targetOrThrow(grant);
    return this.credentials.activateExisting(grant.id, target, p.id);
  }

  /** A fresh access token for the requester's active grant (e.g. after an extension). */
  async token(p: Principal, id: string, dpopJkt?: string): Promise<GrantResult> {
    const now = this.deps.clock.now();
    const grant = await this.visibleGrant(p, id);
    requireSameKey(grant.dpopJkt, dpopJkt);
    if (grant.principal !== p.id) throw new StintError('forbidden', 'only the requester receives the access token');
    requirePickUp(p, grant);
    if (!isLive(grant, now)) throw new StintError('invalid_state', `grant is ${effectiveStatus(grant, now)}`);
    return { grant: this.view(grant, now), accessToken: await this.deps.tokens.issue(grant, now, grant.dpopJkt) };
  }

  /** The requester (or an actor in its delegation chain) ends the grant because the task is done. */
  async complete(p: Principal, id: string, note?: string): Promise<GrantResult> {
    return this.end(p, id, 'completed', note, (g) => {
      if (!mayComplete(p, g)) throw new StintError('forbidden', 'only the requester or its delegated actor completes its grant; owners revoke');
    });
  }

  /** An owner or admin ends any grant now, with a reason. */
  async revoke(p: Principal, id: string, reason: string): Promise<GrantResult> {
    return this.end(p, id, 'revoked', reason, (g) => {
      if (!mayRevoke(p, this.targetOrThrow(g), this.deps.config.approvers)) {
        throw new StintError('forbidden', `${p.id} may not revoke grants on target ${g.target}`);
      }
    });
  }

  private async end(p: Principal, id: string, reason: 'completed' | 'revoked', note: string | undefined, authorize: (g: Grant) => void): Promise<GrantResult> {
    const { deps } = this;
    const now = deps.clock.now();
    const ended = await inTransaction(deps, async (tx) => {
      const current = await this.lockVisible(tx, p, id);
      authorize(current);
      const t = endGrant(current, reason, p.id, now, note, this.credentials.leaseMs);
      return { value: t.grant, records: await commitTransitions(tx, now, [{ transition: t }]) };
    });
    const final = ended.credential.state === 'revoking' ? await this.credentials.finishRevocation(ended.id) : ended;
    return { grant: this.view(final ?? ended, deps.clock.now()) };
  }

  /** Records the post-incident review of a break-glass grant. */
  async review(p: Principal, id: string, input: { outcome: 'justified' | 'unjustified' | 'needs_follow_up'; notes: string }): Promise<GrantResult> {
    const { deps } = this;
    const now = deps.clock.now();
    const grant = await inTransaction(deps, async (tx) => {
      const current = await this.lockVisible(tx, p, id);
      const t = reviewBreakGlass(
        current,
        { reviewer: p.id, outcome: input.outcome, notes: input.notes, at: now },
        mayReview(p, this.targetOrThrow(current), deps.config.approvers),
      );
      return { value: t.grant, records: await commitTransitions(tx, now, [{ transition: t }]) };
    });
    return { grant: this.view(grant, now) };
  }

  /** One grant, if the caller may see it (otherwise `grant_not_found`, revealing nothing). */
  async get(p: Principal, id: string): Promise<GrantView> {
    return this.view(await this.visibleGrant(p, id), this.deps.clock.now());
  }

  /** Lists grants the caller may see. Workloads only ever see their own. */
  async list(p: Principal, filter: Omit<GrantFilter, 'tenant'>, page: PageRequest): Promise<Page<GrantView>> {
    const now = this.deps.clock.now();
    const scoped: GrantFilter = { ...filter, tenant: p.tenant, ...(p.type === 'workload' ? { principal: p.id } : {}) };
    if (p.type === 'workload' && filter.principal !== undefined && filter.principal !== p.id) {
      return { items: [] };
    }
    // Status filters see stored status; "active" must not include grants already past expiry.
    const res = await this.deps.store.listGrants(scoped, page);
    const items = res.items.map((g) => this.view(g, now)).filter((g) => filter.status === undefined || g.status === filter.status);
    return { items, ...(res.nextCursor !== undefined ? { nextCursor: res.nextCursor } : {}) };
  }

  private view(grant: Grant, now: number): GrantView {
    const status = effectiveStatus(grant, now);
    return status === grant.status ? grant : { ...grant, status };
  }

  private async visibleGrant(p: Principal, id: string): Promise<Grant> {
    const grant = await this.deps.store.getGrant(id);
    if (!grant || !mayView(p, grant)) throw new StintError('grant_not_found', `no grant "${id}"`);
    return grant;
  }

  private async lockVisible(tx: StoreTx, p: Principal, id: string): Promise<Grant> {
    const grant = await tx.lockGrant(id);
    if (!grant || (!mayView(p, grant) && !this.mayActOn(p, grant))) throw new StintError('grant_not_found', `no grant "${id}"`);
    return grant;
  }

  /** Approvers of the grant's target may act on it even though workloads' grants are private to them. */
  private mayActOn(p: Principal, grant: Grant): boolean {
    const target = targetOf(this.deps, grant);
    return target !== undefined && grant.tenant === p.tenant && mayApprove(p, target, this.deps.config.approvers);
  }

  private targetOrThrow(grant: Grant): TargetConfig {
    const target = targetOf(this.deps, grant);
    // A target removed from config: its grants can still be ended (the recipe is stored with
    // the grant), but nobody can be found eligible to approve new privilege on it.
    if (!target) {
      return { name: grant.target, connector: grant.credential.recipe?.connector ?? 'token', connection: {}, env: '', tenant: grant.tenant, owners: [], attributes: {}, roles: {}, breakGlassMaxTtlSeconds: 0, requireDpop: false };
    }
    return target;
  }
}
