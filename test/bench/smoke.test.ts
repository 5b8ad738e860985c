/**
 * Keeps the benchmark harness (src/bench, `npm run bench`) working: every benchmark runs end to
 * end with tiny numbers against real stores and real child brokers (dist/, built by `pretest`),
 * and every figure it returns is a positive number. Nothing here asserts on speed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchAuditVerify } from '../../src/bench/audit-verify.js';
import { profileRevocation } from '../../src/bench/connector-profile.js';
import { createConnectorTargets } from '../../src/bench/connector-targets.js';
import { benchConnectors } from '../../src/bench/connectors.js';
import { benchIntrospection } from '../../src/bench/introspection.js';
import { benchIssuance } from '../../src/bench/issuance.js';
import { auditRows, connectorRows, formatTable, introspectionRows, issuanceRows, scaleRows, tokenExchangeRows, type ReportRow } from '../../src/bench/report.js';
import { benchScale } from '../../src/bench/scale.js';
import { benchTokenExchange } from '../../src/bench/token-exchange.js';
import { createWorkspace, phaseWorkspace, type BenchWorkspace } from '../../src/bench/setup.js';

/** Every number anywhere in `value`, with its path. */
function numbersIn(value: unknown, path = 'result'): Array<[string, number]> {
  if (typeof value === 'number') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((item, i) => numbersIn(item, `${path}[${i}]`));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([k, v]) => numbersIn(v, `${path}.${k}`));
  return [];
}

/** Fails on any number that is not > 0 (zero rates, NaN from 0/0, negative times). */
function expectAllPositive(result: unknown): void {
  const numbers = numbersIn(result);
  expect(numbers.length).toBeGreaterThan(0);
  expect(numbers.filter(([, n]) => !(n > 0))).toEqual([]);
}

/** The table renders with one line per row plus header and rule. */
function expectTable(rows: ReportRow[]): void {
  expect(formatTable(rows).split('\n')).toHaveLength(rows.length + 2);
}

describe('benchmark harness (tiny numbers)', () => {
  let root: BenchWorkspace;

  beforeAll(() => {
    root = createWorkspace();
  });
  afterAll(async () => {
    expect(await root.cleanup.runAll()).toEqual([]);
  });

  // Each benchmark's state, processes and databases are removed right after it, as in run.ts.
  const phase = async <T>(run: (w: BenchWorkspace) => Promise<T>): Promise<T> => {
    const ws = phaseWorkspace(root);
    try {
      return await run(ws);
    } finally {
      expect(await ws.cleanup.runAll()).toEqual([]);
    }
  };

  for (const store of ['pglite', 'postgres'] as const) {
    it(`issuance on ${store}`, { timeout: 240_000 }, async () => {
      const result = await phase((w) => benchIssuance(w, { store, grants: 20, rounds: 2, concurrency: 4, warmUpMs: 0 }));
      expectAllPositive(result);
      expectTable(issuanceRows(result));
    });
  }

  it('introspection', { timeout: 240_000 }, async () => {
    const result = await phase((w) => benchIntrospection(w, { requests: 20, concurrency: 4 }));
    expectAllPositive(result);
    expectTable(introspectionRows(result));
  });

  // The benchmark itself throws unless every exchange answered 200 with its own grant and an
  // access token of the expected type (DPoP for the DPoP-bound run).
  it('token exchange', { timeout: 240_000 }, async () => {
    const result = await phase((w) => benchTokenExchange(w, { exchanges: 10, concurrency: 4 }));
    expectAllPositive(result);
    expect([result.exchange.ops, result.dpopExchange.ops]).toEqual([10, 10]);
    expectTable(tokenExchangeRows(result));
  });

  // PGlite grows the table between two sizes; PostgreSQL restarts the broker a second time.
  const scaleCases = [
    { store: 'pglite', sizes: [20, 40], starts: 1, stored: [20, 45] },
    { store: 'postgres', sizes: [20], starts: 2, stored: [20] },
  ] as const;
  for (const c of scaleCases) {
    it(`scale on ${c.store}`, { timeout: 240_000 }, async () => {
      const result = await phase((w) => benchScale(w, { store: c.store, sizes: c.sizes, loadGrants: 5, listPages: 2, starts: c.starts, concurrency: 4 }));
      expectAllPositive(result);
      // The second size holds the first one's fill and its 5 load grants.
      expect(result.points.map((p) => Object.values(p.counts).reduce((a, b) => a + b, 0))).toEqual(c.stored);
      expect(result.points.map((p) => p.readyMs.length)).toEqual(c.sizes.map(() => c.starts));
      expectTable(scaleRows(result));
    });
  }

  it('audit verify', { timeout: 240_000 }, async () => {
    const result = await phase((w) => benchAuditVerify(w, { events: 50, batch: 20 }));
    expectAllPositive(result);
    expectTable(auditRows(result));
  });

  // Real PostgreSQL and Redis targets; the benchmark itself throws unless every grant ended
  // revoked with a verified proof, no grant role is left and every open session is dead.
  it('connectors', { timeout: 240_000 }, async () => {
    const result = await phase((w) => benchConnectors(w, { provisionGrants: 5, lagGrants: 10, liveSessions: 2, profileRoles: 4 }));
    expectAllPositive(result);
    expect(result.revocation).toMatchObject({ grants: 10, verified: 10, liveSessions: 2 });
    expect(result.revocation.lag.samples).toBe(10);
    expect(result.revocation.dropped.samples).toBe(10);
    expect(result.revocation.reference.refused.samples).toBe(10);
    expect(result.provision.postgres.stint.samples).toBe(5);
    expect(result.provision.redis.stint.samples).toBe(5);
    expectTable(connectorRows(result));
  });

  // Runs in the benchmark only when the lag goal fails, so it is exercised here on its own.
  it('connector revocation profile', { timeout: 120_000 }, async () => {
    const result = await phase(async (w) => profileRevocation(await createConnectorTargets(w.cleanup), w.cleanup, 4));
    expectAllPositive(result);
    expect(result.runs.map((r) => [r.loginConcurrency, r.login, r.roles, r.proof.samples])).toEqual([
      [8, true, 4, 4],
      [4, true, 4, 4],
      [16, true, 4, 4],
      [8, false, 4, 4],
    ]);
    // The test server trusts 127.0.0.1 (as .ci/run sets it up), so the bare start-up floors run too.
    expect(result.floors.map((f) => [f.client, f.lanes, f.attempts])).toEqual([
      ['pg.Client', 8, 4],
      ['bare startup packet', 8, 4],
      ['bare startup packet', 32, 4],
    ]);
  });
});
