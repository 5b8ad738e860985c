/**
 * What the application services need, wired once by the composition root (src/app.ts).
 * Services depend on ports only; adapters are chosen by the caller.
 */
import { EventEmitter } from 'node:events';
import { randomFillSync } from 'node:crypto';
import type { AuditRecord } from '../core/events.js';
import type { Clock } from '../ports/clock.js';
import type { ConnectorRegistry } from '../ports/connector.js';
import type { PolicyEvaluator } from '../ports/policy.js';
import type { Store, StoreTx } from '../ports/store.js';
import type { AccessTokens } from '../ports/tokens.js';
import type { CredentialSealer } from '../ports/sealer.js';
import type { GrantsConfig, TargetConfig, ApproverConfig } from '../config/types.js';
import type { Transition } from '../core/lifecycle.js';
import type { Grant } from '../core/grant.js';
import type { StintMetrics } from './metrics.js';
import type { GrantInsertBatcher } from './grant-batcher.js';

/** Minimal structured logger (pino-compatible). Never pass secrets. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** Published after the transaction that wrote them commits (for webhooks, SSE, tests). */
export class EventBus extends EventEmitter {
  publish(records: readonly AuditRecord[]): void {
    for (const r of records) this.emit('event', r);
  }
}

export interface ServiceDeps {
  readonly store: Store;
  readonly policy: PolicyEvaluator;
  readonly connectors: ConnectorRegistry;
  readonly tokens: AccessTokens;
  readonly sealer: CredentialSealer;
  readonly clock: Clock;
  readonly config: {
    readonly targets: Readonly<Record<string, TargetConfig>>;
    readonly approvers: ApproverConfig;
    readonly grants: GrantsConfig;
  };
  readonly bus: EventBus;
  readonly log: Logger;
  readonly metrics: StintMetrics;
  /** Inserts new grants with their events in group commits. */
  readonly newGrants: GrantInsertBatcher;
  /** New grant ids; time-sortable so keyset paging follows creation order. */
  readonly newId: () => string;
}

const ID_RANDOM_BYTES = 10;
/**
 * CSPRNG bytes for ids, filled 256 ids at a time: one `randomBytes(10)` per id was a measurable
 * slice of issuance (a Buffer and a CSPRNG call per grant and per audit event). Each byte is
 * handed out once and the pool is refilled before reuse, the way Node caches bytes for
 * `crypto.randomUUID()`; the ids are no more predictable than before.
 */
const idRandomPool = Buffer.allocUnsafe(ID_RANDOM_BYTES * 256);
let idRandomOffset = idRandomPool.length;

function idRandomHex(): string {
  if (idRandomOffset + ID_RANDOM_BYTES > idRandomPool.length) {
    randomFillSync(idRandomPool);
    idRandomOffset = 0;
  }
  const hex = idRandomPool.toString('hex', idRandomOffset, idRandomOffset + ID_RANDOM_BYTES);
  idRandomOffset += ID_RANDOM_BYTES;
  return hex;
}

/** Time-sortable 128-bit id: 48-bit millisecond time + 80 random bits, as 32 hex chars after `g`. */
export function timeSortableId(now: number): string {
  return `g${Math.max(0, Math.floor(now)).toString(16).padStart(12, '0')}${idRandomHex()}`;
}

/** Epoch ms encoded in an id made by {@link timeSortableId}; undefined for any other string. */
export function timeOfId(id: string): number | undefined {
  const m = /^g([0-9a-f]{12})[0-9a-f]{20}$/.exec(id);
  return m ? parseInt(m[1]!, 16) : undefined;
}

/**
 * Applies transitions inside a transaction: writes grants, appends their events in order.
 * Consecutive updates go to the store as one `updateGrants` (a worker claim writes up to a
 * batch of grants; one statement each was most of the Node thread on PGlite, issue #3), in the
 * same order relative to the inserts as `writes` lists them.
 */
export async function commitTransitions(
  tx: StoreTx,
  now: number,
  writes: readonly { transition: Transition; insert?: boolean }[],
): Promise<AuditRecord[]> {
  let updates: Grant[] = [];
  for (const w of writes) {
    if (!w.insert) {
      updates.push(w.transition.grant);
      continue;
    }
    if (updates.length > 0) await tx.updateGrants(updates);
    updates = [];
    await tx.insertGrant(w.transition.grant);
  }
  if (updates.length > 0) await tx.updateGrants(updates);
  const events = writes.flatMap((w) => w.transition.events);
  return events.length > 0 ? tx.appendAudit(events, now) : [];
}

/** Grants written by a unit of work plus the audit records to publish after commit. */
export interface Committed<T> {
  readonly value: T;
  readonly records: AuditRecord[];
}

/** Runs `fn` in a transaction and publishes its audit records once the commit succeeded. */
export async function inTransaction<T>(deps: ServiceDeps, fn: (tx: StoreTx) => Promise<Committed<T>>): Promise<T> {
  const out = await deps.store.transaction(fn);
  deps.bus.publish(out.records);
  return out.value;
}

/** The single place that turns a stored grant into the target config it refers to. */
export function targetOf(deps: ServiceDeps, grant: Pick<Grant, 'target'>): TargetConfig | undefined {
  return deps.config.targets[grant.target];
}
