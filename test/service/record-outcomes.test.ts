/**
 * Revocation group commits on a real store (issue #3): `recordOutcomes` locks all its grants with
 * one `lockGrants` and writes them with one `updateGrants`, and must still behave exactly as one
 * lock and one write per outcome: each outcome re-checked under the lock, unknown or no longer
 * revoking grants left alone, an id listed twice seeing its first outcome's write, and the audit
 * events appended in outcome order in the same transaction.
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/ports/store.js';
import { ManualClock } from '../../src/ports/clock.js';
import { EventBus, type Logger, type ServiceDeps } from '../../src/service/context.js';
import { CredentialService } from '../../src/service/credential-service.js';
import { createMetrics } from '../../src/service/metrics.js';
import type { AuditRecord } from '../../src/core/events.js';
import type { Grant, RevocationEvidence } from '../../src/core/grant.js';
import { openPgliteStore, useSuiteStore } from '../helpers/stores.js';
import { makeGrant } from '../store/fixtures.js';

const NOW = Date.UTC(2026, 0, 5, 12, 0, 0);
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

describe('CredentialService.recordOutcomes', () => {
  let store: Store;
  useSuiteStore(openPgliteStore, (opened) => (store = opened));

  it('re-checks each outcome under its lock, skips missing and settled grants, and keeps event order', async () => {
    const bus = new EventBus();
    const published: AuditRecord[] = [];
    bus.on('event', (r: AuditRecord) => published.push(r));
    // recordOutcomes touches only the store, clock, bus, log, metrics and the retry config; the
    // rest of the wiring (policy, connectors, tokens, sealer, batcher) is never reached here.
    const deps = {
      store,
      clock: new ManualClock(NOW),
      bus,
      log: quiet,
      metrics: createMetrics(() => store.countByStatus(), { defaultMetrics: false }),
      config: { targets: {}, approvers: {}, grants: { revokeRetry: { initialSeconds: 5, maxSeconds: 300 } } },
    } as unknown as ServiceDeps;
    const credentials = new CredentialService(deps);
    const revoking = (): Grant =>
      makeGrant({ status: 'expired', endedAt: NOW - 1_000, credential: { state: 'revoking', revokeAttempts: 0, revokeNextAt: NOW } });
    const [a, c, d] = [revoking(), revoking(), revoking()];
    const settled = makeGrant({ credential: { state: 'issued', revokeAttempts: 0 } });
    await store.transaction((tx) => tx.insertGrants([a!, c!, d!, settled]));
    const head = await store.auditHead();
    const proof: RevocationEvidence = { verified: true, checks: [{ check: 'login', passed: true, detail: 'refused' }], at: NOW };

    const finals = await credentials.recordOutcomes([
      { grantId: d!.id, connector: 'postgres', error: 'target unreachable' },
      { grantId: a!.id, connector: 'postgres', evidence: proof },
      { grantId: 'g-no-such-grant', connector: 'postgres', evidence: proof },
      { grantId: settled.id, connector: 'postgres', evidence: proof },
      { grantId: c!.id, connector: 'postgres', evidence: proof },
      // Listed twice: the second sees the first one's write (already revoked) and changes nothing.
      { grantId: a!.id, connector: 'postgres', error: 'late duplicate' },
    ]);

    expect(finals.map((g) => g?.credential.state)).toEqual(['revoke_failed', 'revoked', undefined, 'issued', 'revoked', 'revoked']);
    expect(finals[5]).toStrictEqual(finals[1]);
    expect(finals[3]).toStrictEqual(settled);
    for (const final of [finals[0], finals[1], finals[4]]) expect(await store.getGrant(final!.id)).toStrictEqual(final);
    expect(await store.getGrant(settled.id)).toStrictEqual(settled);
    expect(finals.filter((g) => g !== undefined && g.id !== settled.id).every((g) => g!.version === 2)).toBe(true);

    const log = await store.readAudit(head.size, 100);
    // Outcome order: d's failure, then a's proof, then c's proof; nothing for the others.
    const order = log.map((r) => r.grantId).filter((id, i, all) => i === 0 || all[i - 1] !== id);
    expect(order).toEqual([d!.id, a!.id, c!.id]);
    expect(log.map((r) => r.seq)).toEqual(log.map((_, i) => head.size + i));
    expect(published.map((r) => r.seq)).toEqual(log.map((r) => r.seq));
  });
});
