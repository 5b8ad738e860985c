/** Terminal output: tables, times, grant views, and the one-line failure report with its exit code. */
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { StintApiError, StintNetworkError } from '../../src/client/errors.js';
import { CliError, ExitCode, describeFailure } from '../../src/cli/exit.js';
import { grantDetails, grantFlags, grantSummary, grantsTable } from '../../src/cli/format/grant.js';
import { renderFields, renderTable } from '../../src/cli/format/table.js';
import { relativeTime, when } from '../../src/cli/format/time.js';
import { StintError } from '../../src/core/errors.js';
import { grantFixture, iso, T0 } from './grant-fixture.js';

describe('tables', () => {
  it('aligns every column to its widest cell, without trailing spaces', () => {
    const text = renderTable(['ID', 'STATUS', 'FLAGS'], [['g1', 'pending_approval', ''], ['g22222', 'active', 'BG REVIEW']]);
    expect(text.split('\n')).toEqual(['ID      STATUS            FLAGS', 'g1      pending_approval', 'g22222  active            BG REVIEW']);
  });

  it('aligns field values and skips absent ones', () => {
    expect(renderFields([['grant', 'g1'], ['ticket', undefined], ['target/role', 'db/read']])).toBe('grant        g1\ntarget/role  db/read');
  });
});

describe('times', () => {
  it('reads relative to now with the two largest units, then the exact instant', () => {
    expect(relativeTime(iso(T0 + 90 * 60_000 + 12_000), T0)).toBe('in 1h30m');
    expect(relativeTime(iso(T0 - 45_000), T0)).toBe('45s ago');
    expect(relativeTime(iso(T0 + 400), T0)).toBe('now');
    expect(when(iso(T0 + 15 * 60_000), T0)).toBe('in 15m (2026-01-05T10:15:00Z)');
  });
});

describe('grant views', () => {
  const breakGlass = grantFixture({
    id: 'g2',
    breakGlass: true,
    needsReview: true,
    status: 'revoked',
    endReason: 'revoked',
    endedAt: iso(T0 + 5 * 60_000),
    endedBy: 'human:root',
    approvals: [{ approver: 'human:alice', verdict: 'approve', reason: 'ok', at: iso(T0 + 60_000) }],
    credential: {
      state: 'revoked',
      connector: 'postgres',
      revokeAttempts: 2,
      revokedAt: iso(T0 + 5 * 60_000),
      evidence: {
        verified: true,
        at: iso(T0 + 5 * 60_000),
        checks: [
          { check: 'login', passed: true, detail: 'password authentication failed' },
          { check: 'sessions', passed: false, detail: '1 session still open' },
        ],
      },
    },
  });

  it('flags break-glass grants, due reviews and extensions', () => {
    expect(grantFlags(breakGlass)).toBe('BG REVIEW');
    expect(grantFlags(grantFixture({ kind: 'extension', parentId: 'g1' }))).toBe('EXT');
    expect(grantFlags(grantFixture())).toBe('');
  });

  it('lists id, status, principal, target/role, ttl, the deadline that matters and flags', () => {
    const lines = grantsTable([grantFixture(), breakGlass], T0 + 60_000).split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+PRINCIPAL\s+TARGET\/ROLE\s+TTL\s+EXPIRES\/ENDED\s+FLAGS$/);
    expect(lines[1]).toMatch(/^g0000000000001\s+pending_approval\s+workload:deploy-bot\s+orders-db\/write\s+15m\s+lapses in 59m \(2026-01-05T11:00:00Z\)$/);
    expect(lines[2]).toMatch(/^g2\s+revoked\s+.*ended in 4m \(2026-01-05T10:05:00Z\)\s+BG REVIEW$/);
  });

  it('summarises the decision with its policies and the approvals still needed', () => {
    const text = grantSummary(grantFixture({ approvals: [{ approver: 'human:alice', verdict: 'approve', at: iso(T0) }] }), T0);
    expect(text).toContain('status       pending_approval (1/2 approvals)');
    expect(text).toContain('decision     approval by human-write-prod (2 approvals required)');
  });

  it('shows approvals, credential state, every revocation check and the review in full', () => {
    const reviewed = { ...breakGlass, needsReview: false, review: { reviewer: 'human:root', outcome: 'justified' as const, notes: 'outage INC-9', at: iso(T0 + 3600_000) } };
    const text = grantDetails(reviewed, T0 + 10 * 60_000);
    expect(text).toMatch(/^credential\s+revoked \(connector postgres\), 2 failed revoke attempts$/m);
    expect(text).toMatch(/^ended\s+5m ago \(2026-01-05T10:05:00Z\) by human:root \(revoked\)$/m);
    expect(text).not.toContain('decide by');
    expect(text).toMatch(/approvals:\n\s+APPROVER\s+VERDICT\s+AT\s+REASON\n\s+human:alice\s+approve\s+9m ago \(2026-01-05T10:01:00Z\)\s+ok/);
    expect(text).toContain('revocation evidence: verified, 5m ago (2026-01-05T10:05:00Z)');
    expect(text).toContain('  [pass] login: password authentication failed');
    expect(text).toContain('  [FAIL] sessions: 1 session still open');
    expect(text).toMatch(/^review\s+justified by human:root, in 50m \(2026-01-05T11:00:00Z\): outage INC-9$/m);
    expect(grantDetails(breakGlass, T0)).toMatch(/^review\s+due \(break-glass\)$/m);
  });
});

describe('failure report', () => {
  const problem = (code: 'grant_not_found' | 'unauthenticated' | 'self_approval' | 'policy_denied', status: number, detail: string): StintApiError =>
    new StintApiError({ type: `urn:stint:problem:${code}`, title: code, status, detail, code });

  it('prints broker errors as `stint: <code>: <detail>` with the exit code of their kind', () => {
    expect(describeFailure(problem('grant_not_found', 404, 'no grant "x"'))).toEqual({ line: 'stint: grant_not_found: no grant "x"', exitCode: ExitCode.failure });
    expect(describeFailure(problem('unauthenticated', 401, 'invalid or missing credentials')).exitCode).toBe(ExitCode.auth);
    expect(describeFailure(problem('self_approval', 403, 'no')).exitCode).toBe(ExitCode.auth);
    expect(describeFailure(problem('policy_denied', 403, 'no')).exitCode).toBe(ExitCode.denied);
  });

  it('keeps multi-line details on one line', () => {
    const e = new StintError('config_invalid', 'stint.yaml:3: server.port: must be integer\nstint.yaml:9: dev: unknown key');
    expect(describeFailure(e)).toEqual({ line: 'stint: config_invalid: stint.yaml:3: server.port: must be integer; stint.yaml:9: dev: unknown key', exitCode: 1 });
  });

  it('turns commander usage errors into one line, and help or version into success', () => {
    const unknown = new CommanderError(1, 'commander.unknownOption', "error: unknown option '--ttll'\n(Did you mean --ttl?)");
    expect(describeFailure(unknown)).toEqual({ line: "stint: unknown option '--ttll'; (Did you mean --ttl?)", exitCode: 1 });
    expect(describeFailure(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toEqual({ exitCode: 0 });
    expect(describeFailure(new CommanderError(0, 'commander.version', '0.1.0'))).toEqual({ exitCode: 0 });
  });

  it('keeps the exit code of CLI failures and never shows a stack', () => {
    expect(describeFailure(new CliError('timed out', ExitCode.timeout))).toEqual({ line: 'stint: timed out', exitCode: 3 });
    const network = new StintNetworkError('cannot reach GET http://127.0.0.1:1/v1/grants: connect ECONNREFUSED', 'http://127.0.0.1:1/v1/grants', { timedOut: false });
    expect(describeFailure(network).line).toMatch(/^stint: cannot reach GET http:\/\/127\.0\.0\.1:1\/v1\/grants: connect ECONNREFUSED \(is the broker running\?/);
    const unexpected = new TypeError('boom\n    at x (file.js:1:1)');
    expect(describeFailure(unexpected)).toEqual({ line: 'stint: boom; at x (file.js:1:1)', exitCode: 1 });
  });
});
