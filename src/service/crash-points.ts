/**
 * Crash points for the crash-safety tests (issue #3, item 8): when the environment variable
 * STINT_CRASH_AT names a point, the process kills itself with SIGKILL right there, exactly like
 * `kill -9` at the worst moment. Unset (always, in production) it does nothing.
 */
export type CrashPoint =
  /** Intent (`provisioning` + recipe) committed, target not touched yet. */
  | 'after-provision-intent'
  /** Credential created on the target, activation not committed. */
  | 'after-provision'
  /** Grant ended and `revoking` committed, target not touched yet. */
  | 'after-end-commit'
  /** Target revoked, outcome not committed. */
  | 'after-revoke';

export function crashPoint(point: CrashPoint): void {
  if (process.env.STINT_CRASH_AT === point) process.kill(process.pid, 'SIGKILL');
}
