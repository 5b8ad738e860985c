/**
 * Prometheus metrics (issue #2, item 9): grants by state, decision latency, revocation lag,
 * revoke failures. One registry per broker instance so tests can run several in one process.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { GrantStatus } from '../core/grant.js';

export interface StintMetrics {
  readonly registry: Registry;
  readonly decisionSeconds: Histogram<'outcome'>;
  readonly revocationLagSeconds: Histogram<'connector'>;
  readonly revokeFailures: Counter<'connector'>;
  readonly grantsByState: Gauge<'status'>;
  readonly authFailures: Counter;
}

/** Policy lookups answered by the decision memo, and those Cedar evaluated. */
export interface PolicyMemoCounts {
  readonly hits: number;
  readonly misses: number;
}

/**
 * Creates the registry. `countByStatus` is read on every scrape (indexed count in the store);
 * so is `policyMemoCounts`, when the policy evaluator keeps a decision memo.
 */
export function createMetrics(
  countByStatus: () => Promise<Partial<Record<GrantStatus, number>>>,
  opts: { defaultMetrics?: boolean; policyMemoCounts?: () => PolicyMemoCounts } = {},
): StintMetrics {
  const registry = new Registry();
  const memoCounts = opts.policyMemoCounts;
  if (memoCounts !== undefined) {
    new Counter({
      name: 'stint_policy_decision_memo_lookups_total',
      help: 'Policy evaluations since start, by who answered: the decision memo (hit) or Cedar (miss)',
      labelNames: ['result'] as const,
      registers: [registry],
      // The memo keeps the counts; each scrape reports them as they are.
      collect() {
        const { hits, misses } = memoCounts();
        this.reset();
        this.inc({ result: 'hit' }, hits);
        this.inc({ result: 'miss' }, misses);
      },
    });
  }
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'stint_' });
  const grantsByState = new Gauge({
    name: 'stint_grants',
    help: 'Stored grants by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const counts = await countByStatus();
      this.reset();
      for (const [status, n] of Object.entries(counts)) this.set({ status }, n ?? 0);
    },
  });
  return {
    registry,
    grantsByState,
    decisionSeconds: new Histogram({
      name: 'stint_decision_seconds',
      help: 'Time to decide a grant request (policy evaluation and persistence)',
      labelNames: ['outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    revocationLagSeconds: new Histogram({
      name: 'stint_revocation_lag_seconds',
      help: 'From the moment a grant ended to the credential verified dead',
      labelNames: ['connector'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 60, 300],
      registers: [registry],
    }),
    revokeFailures: new Counter({
      name: 'stint_revoke_failures_total',
      help: 'Failed target-side revocation attempts (retried forever)',
      labelNames: ['connector'] as const,
      registers: [registry],
    }),
    authFailures: new Counter({ name: 'stint_auth_failures_total', help: 'Refused caller credentials', registers: [registry] }),
  };
}
