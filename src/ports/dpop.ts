/**
 * Replay protection for DPoP proofs (RFC 9449 section 11.1): a proof's `jti` is accepted once
 * per key while the proof could still pass the `iat` window. Implementations shared by several
 * broker replicas must decide atomically, so that a proof raced to two replicas wins once.
 */
export interface DpopReplayGuard {
  /**
   * Records that the proof `jti` signed by the key with RFC 7638 thumbprint `jkt` was used,
   * and keeps the record at least until `expiresAt` (epoch ms). Resolves true the first time,
   * false while an earlier record of the same pair is still live at `now` (a replay).
   */
  remember(jti: string, jkt: string, expiresAt: number, now: number): Promise<boolean>;
}
