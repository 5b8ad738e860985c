/**
 * Targets as the broker sees them: configuration, connectivity, the broker's own privileges
 * (`stint targets`), and reconciliation (`stint reconcile`): credentials Stint made on a target
 * that no live grant backs are orphans and are removed; standing privilege Stint can see is
 * reported (issue #3, item 7).
 */
import { StintError } from '../core/errors.js';
import { isAdmin, mayRevoke } from '../core/access.js';
import type { Principal } from '../core/principal.js';
import type { ConnectorTarget, ReconcileReport, TargetCheck } from '../ports/connector.js';
import type { TargetConfig } from '../config/types.js';
import { inTransaction, timeOfId, type ServiceDeps } from './context.js';
import { describeError } from './credential-service.js';

export interface TargetView {
  readonly name: string;
  readonly connector: string;
  readonly env: string;
  readonly tenant: string;
  readonly owners: readonly string[];
  readonly roles: readonly { name: string; maxTtlSeconds: number; approvals: number; riskTier: string }[];
  readonly breakGlassMaxTtlSeconds: number;
  readonly check?: TargetCheck;
}

/** Grants younger than this are never treated as orphans: their provisioning may be in flight on another replica. */
const IN_FLIGHT_MS = 60_000;


export class TargetService {
  constructor(private readonly deps: ServiceDeps) {}

  /** Targets of the caller's tenant; with `check`, each connector's connectivity and privilege report. */
  async list(p: Principal, opts: { check: boolean }): Promise<TargetView[]> {
    if (p.type !== 'human') throw new StintError('forbidden', 'targets are listed for humans (owners, admins)');
    const targets = Object.values(this.deps.config.targets).filter((t) => t.tenant === p.tenant);
    return Promise.all(targets.map(async (t) => ({ ...this.view(t), ...(opts.check ? { check: await this.check(t) } : {}) })));
  }

  private view(t: TargetConfig): TargetView {
    return {
      name: t.name,
      connector: t.connector,
      env: t.env,
      tenant: t.tenant,
      owners: t.owners,
      roles: Object.values(t.roles).map((r) => ({ name: r.name, maxTtlSeconds: r.maxTtlSeconds, approvals: r.approvals, riskTier: r.riskTier })),
      breakGlassMaxTtlSeconds: t.breakGlassMaxTtlSeconds,
    };
  }

  /** The target with every role's grants merged, for target-wide connector work. */
  private targetWide(t: TargetConfig): ConnectorTarget {
    const connector = this.deps.connectors.get(t.connector);
    const all = Object.values(t.roles).map((r) => r.grants);
    return { name: t.name, connector: t.connector, connection: t.connection, roleGrants: connector?.unionGrants?.(all) ?? {} };
  }

  private async check(t: TargetConfig): Promise<TargetCheck> {
    const connector = this.deps.connectors.get(t.connector);
    if (!connector?.check) return { reachable: true, minimalPrivileges: true, details: [`${t.connector}: nothing to reach (the access token is the credential)`] };
    try {
      return await connector.check(this.targetWide(t));
    } catch (e) {
      return { reachable: false, minimalPrivileges: false, details: [describeError(e)] };
    }
  }

  /** Reconciles one target on an owner's or admin's request. */
  async reconcile(p: Principal, name: string, opts: { dryRun: boolean }): Promise<ReconcileReport & { target: string; dryRun: boolean }> {
    const t = this.deps.config.targets[name];
    if (!t || t.tenant !== p.tenant) throw new StintError('unknown_target', `no target named "${name}"`);
    if (!mayRevoke(p, t, this.deps.config.approvers) && !isAdmin(p, this.deps.config.approvers)) {
      throw new StintError('forbidden', `${p.id} may not reconcile target ${name}`);
    }
    return this.reconcileTarget(t, p.id, opts);
  }

  /** Reconciles every target whose connector can; used at start-up. Failures are logged, not thrown. */
  async reconcileAll(): Promise<void> {
    for (const t of Object.values(this.deps.config.targets)) {
      if (!this.deps.connectors.get(t.connector)?.reconcile) continue;
      try {
        const report = await this.reconcileTarget(t, 'system', { dryRun: false });
        if (report.orphans.length || report.standing.length) {
          this.deps.log.warn({ target: t.name, removed: report.removed, standing: report.standing.map((s) => s.name) }, 'reconciliation found orphans or standing privilege');
        }
      } catch (e) {
        this.deps.log.warn({ target: t.name, err: describeError(e) }, 'start-up reconciliation failed; run `stint reconcile` once the target is reachable');
      }
    }
  }

  private async reconcileTarget(t: TargetConfig, actor: string, opts: { dryRun: boolean }): Promise<ReconcileReport & { target: string; dryRun: boolean }> {
    const connector = this.deps.connectors.get(t.connector);
    if (!connector?.reconcile) return { target: t.name, dryRun: opts.dryRun, orphans: [], removed: [], standing: [] };
    const holders = new Set(await this.deps.store.credentialHolders(t.name));
    const now = this.deps.clock.now();
    // Live = may hold a credential, or so young that its provisioning may be in flight elsewhere.
    const live: ReadonlySet<string> = new (class extends Set<string> {
      override has(id: string): boolean {
        const born = timeOfId(id);
        return holders.has(id) || (born !== undefined && born > now - IN_FLIGHT_MS);
      }
    })(holders);
    const report = await connector.reconcile(this.targetWide(t), live, opts);
    const data = {
      target: t.name,
      dryRun: opts.dryRun,
      orphans: report.orphans.map((o) => ({ name: o.name, ...(o.grantId ? { grantId: o.grantId } : {}), detail: o.detail })),
      removed: [...report.removed],
      standing: report.standing.map((s) => ({ name: s.name, holds: s.holds, detail: s.detail })),
    };
    await inTransaction(this.deps, async (tx) => ({
      value: null,
      records: await tx.appendAudit([{ type: 'target.reconciled', actor, tenant: t.tenant, data }], this.deps.clock.now()),
    }));
    return { target: t.name, dryRun: opts.dryRun, ...report };
  }
}
