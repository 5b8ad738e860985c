/**
 * waitForGrant's decisions, driven by a scripted sequence of grant states and a manual clock:
 * when it stops, when it activates, what it retries and what it throws.
 */
import { describe, expect, it } from 'vitest';
import { StintApiError, StintNetworkError } from '../../src/client/errors.js';
import type { ActivateResponse, GrantJson, ProblemJson } from '../../src/client/types.js';
import { waitForGrant, type WaitDeps } from '../../src/client/wait.js';
import { ManualClock } from '../../src/ports/clock.js';
import { grantFixture } from './grant-fixture.js';

const apiError = (code: ProblemJson['code'], status: number): StintApiError =>
  new StintApiError({ type: `urn:stint:problem:${code}`, title: code, status, detail: `${code} detail`, code });

/** Each poll takes the next step; the last step repeats. Every poll moves the clock by one second. */
function scripted(steps: (GrantJson | Error)[], activate: () => Promise<ActivateResponse>): WaitDeps & { polls: number; activations: number; clock: ManualClock } {
  const clock = new ManualClock();
  const deps = {
    polls: 0,
    activations: 0,
    clock,
    now: () => clock.now(),
    async getGrant() {
      const step = steps[Math.min(deps.polls, steps.length - 1)]!;
      deps.polls++;
      clock.advance(1000);
      if (step instanceof Error) throw step;
      return step;
    },
    async activate() {
      deps.activations++;
      return activate();
    },
  };
  return deps;
}

const pending = grantFixture();
const approved = grantFixture({ status: 'approved' });
const active = grantFixture({ status: 'active', expiresAt: '2026-01-05T10:15:00.000Z' });
const activated: ActivateResponse = { grant: active, accessToken: 'at.jwt', credential: { username: 'stint_g1' } };
const noActivation = async (): Promise<ActivateResponse> => {
  throw new Error('must not activate');
};
const opts = { timeoutMs: 60_000, intervalMs: 1 };

describe('waitForGrant', () => {
  it('activates an approved grant for its requester and returns the token and credential', async () => {
    const deps = scripted([pending, pending, approved], async () => activated);
    const seen: string[] = [];
    const result = await waitForGrant(deps, 'g1', { ...opts, onUpdate: (g) => seen.push(g.status) });
    expect(result).toEqual({ outcome: 'active', grant: active, accessToken: 'at.jwt', credential: { username: 'stint_g1' } });
    expect(deps.activations).toBe(1);
    // Reported once per change, not once per poll.
    expect(seen).toEqual(['pending_approval', 'approved', 'active']);
  });

  it('keeps polling when the caller is not the requester (activation forbidden) and stops once active', async () => {
    const deps = scripted([approved, approved, approved, active], async () => Promise.reject(apiError('forbidden', 403)));
    const result = await waitForGrant(deps, 'g1', opts);
    expect(result).toEqual({ outcome: 'active', grant: active });
    expect(deps.activations).toBe(1);
    expect(deps.polls).toBe(4);
  });

  it('does not activate when asked not to', async () => {
    const deps = scripted([approved, active], noActivation);
    await expect(waitForGrant(deps, 'g1', { ...opts, activate: false })).resolves.toMatchObject({ outcome: 'active' });
  });

  it('retries activation after a concurrent change instead of failing', async () => {
    let calls = 0;
    const deps = scripted([approved], async () => (++calls === 1 ? Promise.reject(apiError('conflict', 409)) : activated));
    await expect(waitForGrant(deps, 'g1', opts)).resolves.toMatchObject({ outcome: 'active', accessToken: 'at.jwt' });
    expect(deps.activations).toBe(2);
  });

  it.each(['denied', 'expired', 'revoked', 'completed', 'revoke_failed'] as const)('stops at %s', async (status) => {
    const final = grantFixture({ status });
    const deps = scripted([pending, final], noActivation);
    await expect(waitForGrant(deps, 'g1', opts)).resolves.toEqual({ outcome: status, grant: final });
  });

  it('stops at an approved extension (approval applies it to the parent; there is nothing to activate)', async () => {
    const extension = grantFixture({ kind: 'extension', parentId: 'g0', status: 'approved' });
    const deps = scripted([extension], noActivation);
    await expect(waitForGrant(deps, 'g1', opts)).resolves.toEqual({ outcome: 'approved', grant: extension });
  });

  it('times out with the last state seen; timeoutMs 0 polls exactly once', async () => {
    const once = scripted([pending], noActivation);
    await expect(waitForGrant(once, 'g1', { timeoutMs: 0, intervalMs: 1 })).resolves.toEqual({ outcome: 'timeout', grant: pending });
    expect(once.polls).toBe(1);
    const deps = scripted([pending], noActivation);
    await expect(waitForGrant(deps, 'g1', { timeoutMs: 5_000, intervalMs: 1 })).resolves.toEqual({ outcome: 'timeout', grant: pending });
    expect(deps.polls).toBe(5);
  });

  it('rides out transient failures (no answer, 503) until the broker answers again', async () => {
    const down = new StintNetworkError('cannot reach', 'http://x', { timedOut: false });
    const deps = scripted([pending, down, apiError('not_ready', 503), active], noActivation);
    await expect(waitForGrant(deps, 'g1', opts)).resolves.toEqual({ outcome: 'active', grant: active });
  });

  it('throws the last failure when the broker stays unreachable past the deadline', async () => {
    const down = new StintNetworkError('cannot reach', 'http://x', { timedOut: false });
    const deps = scripted([pending, down], noActivation);
    await expect(waitForGrant(deps, 'g1', { timeoutMs: 3_000, intervalMs: 1 })).rejects.toBe(down);
  });

  it('throws a non-transient failure at once', async () => {
    const notFound = apiError('grant_not_found', 404);
    const deps = scripted([notFound, active], noActivation);
    await expect(waitForGrant(deps, 'g1', opts)).rejects.toBe(notFound);
    expect(deps.polls).toBe(1);
  });

  it('stops with the abort reason while pausing between polls', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled');
    const deps = scripted([pending], noActivation);
    const waiting = waitForGrant(deps, 'g1', { timeoutMs: 60_000, intervalMs: 60_000, signal: controller.signal, onUpdate: () => setTimeout(() => controller.abort(reason), 0) });
    await expect(waiting).rejects.toBe(reason);
    expect(deps.polls).toBe(1);
  });
});
