import type { DpopReplayGuard } from '../../ports/dpop.js';
import type { Store } from '../../ports/store.js';

/**
 * Extra time a proof id is kept beyond its own window, in ms. Each replica judges `iat` by its
 * own clock; keeping the record this much longer means a replica whose clock runs up to this
 * far behind the one that swept cannot accept a replay of a swept proof.
 */
export const DEFAULT_REPLICA_CLOCK_SKEW_MS = 60_000;

/** Options of `storeReplayGuard`. */
export interface StoreReplayGuardOptions {
  /** Tolerated clock difference between broker replicas, in ms (default 60,000). */
  readonly replicaClockSkewMs?: number;
}

/**
 * The DPoP replay guard backed by the broker's store (`dpop_jti` table), so every replica that
 * shares the database refuses a proof any of them has already accepted.
 */
export function storeReplayGuard(store: Pick<Store, 'rememberDpopJti'>, options: StoreReplayGuardOptions = {}): DpopReplayGuard {
  const skew = options.replicaClockSkewMs ?? DEFAULT_REPLICA_CLOCK_SKEW_MS;
  if (!Number.isSafeInteger(skew) || skew < 0) throw new RangeError('replicaClockSkewMs must be a non-negative integer');
  return {
    remember: (jti, jkt, expiresAt, now) => store.rememberDpopJti(jkt, jti, expiresAt + skew, now),
  };
}
