/**
 * Issue #3, item 10: the connectors on real servers, through the broker's real path.
 *
 * 1. Provision latency, per connector (PostgreSQL, Redis): `GrantService.request` of an
 *    auto-approved `read` grant (policy auto-read), one at a time, in a broker in this process;
 *    p50/p99 of the request. Reference: the connector's statements run directly as the same
 *    minimal admin user (connector-references.ts).
 * 2. Revocation lag on PostgreSQL: `lagGrants` grants activated at the same instant T (a manual
 *    clock) with a 60 s TTL, `liveSessions` of them with an open session; the clock moves to
 *    T + 60 s and `worker.runOnce()` runs. A grant's lag is the wall-clock time from the start of
 *    that pass until its `credential.verified_revoked` event is published (after the outcome
 *    commits). Reference: the same batched revocation statements and login attempts for as many
 *    roles (with as many open sessions), run directly (connector-references.ts); the reference
 *    figure of each percentile is the time at which that share of the direct login attempts had
 *    been refused. Goal (REFERENCE.md section 6): p99 <= 1 s.
 *    In a running broker the worker's poll interval (200 ms) comes on top.
 *
 * Correctness is part of the measurement: every grant must end `revoked` with verified
 * evidence, no grant role may remain in pg_roles and every open session must be dead, else the
 * benchmark throws (ERROR), since a fast wrong revocation is no result.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { startBroker, type Broker } from '../app.js';
import type { AuditRecord } from '../core/events.js';
import type { Principal } from '../core/principal.js';
import { ManualClock } from '../ports/clock.js';
import type { IssuedCredential } from '../ports/connector.js';
import { DirectPostgresRoles, measureDirectRedisProvision, type DirectRevocation } from './connector-references.js';
import { profileRevocation, type RevocationProfile } from './connector-profile.js';
import { createConnectorTargets, type ConnectorTargets } from './connector-targets.js';
import { measureSequential, summarizeLatency, type Latency } from './latency.js';
import { measureRate } from './measure.js';
import { BENCH_WORKLOAD, createBenchState, devIdentity, type BenchState, type BenchWorkspace } from './setup.js';

/** Options of {@link benchConnectors}. */
export interface ConnectorsOptions {
  /** Timed grants per connector (after a warm-up of a tenth, at least 3). */
  readonly provisionGrants: number;
  /** Grants expiring together in the revocation-lag run. */
  readonly lagGrants: number;
  /** Of those, how many have an open session when they expire. */
  readonly liveSessions: number;
  /** The broker's own store (default PGlite, in process; `postgres` puts the store work in another process). */
  readonly store?: 'pglite' | 'postgres';
  /** Non-zero: run the profile (connector-profile.ts, as many roles as `lagGrants`) when the lag goal fails; 0 = never. */
  readonly profileRoles: number;
}

/** Stint and its reference for one connector. */
export interface ProvisionResult {
  readonly stint: Latency;
  readonly reference: Latency;
}

/** The revocation-lag run. */
export interface RevocationLagResult {
  readonly grants: number;
  readonly liveSessions: number;
  /** Per grant: start of the worker pass -> `credential.verified_revoked` published. */
  readonly lag: Latency;
  /** The whole `runOnce()`. */
  readonly passMs: number;
  /** Start of the pass -> the last `grant.expired` event (the claim-and-expire step done). */
  readonly expiredAfterMs: number;
  /** Per grant: start of the pass -> its `grant.expired` committed (intent, before the target is touched). */
  readonly expired: Latency;
  /**
   * Per grant: start of the pass -> its role no longer in pg_roles, as a superuser polling
   * pg_roles every few ms sees it (the connector ends sessions before the drop, so this is
   * "sessions dead and role gone"; the login proof and the commit of the outcome come after).
   */
  readonly dropped: Latency;
  /** Grants that ended `revoked` with verified evidence (always `grants`, else the bench throws). */
  readonly verified: number;
  /** Issuing the grants beforehand (8 concurrent requests), grants/s. */
  readonly issuedPerSecond: number;
  readonly reference: DirectRevocation;
}

/** Result of {@link benchConnectors}. */
export interface ConnectorsResult {
  readonly provision: { readonly postgres: ProvisionResult; readonly redis: ProvisionResult };
  readonly revocation: RevocationLagResult;
  /** Where the time goes, when the lag goal failed (and `profileRoles` > 0). */
  readonly profile?: RevocationProfile;
}

const TTL_SECONDS = 60;
/** REFERENCE.md section 6: p99 of expiry -> verified dead. */
const LAG_GOAL_MS = 1000;
const ISSUE_CONCURRENCY = 8;

/** Adds the two bench targets to the state's configuration and their admin URLs to its environment. */
async function addTargets(state: BenchState, targets: ConnectorTargets): Promise<void> {
  const yaml = await readFile(state.configPath, 'utf8');
  const rules = targets.redisRules.map((r) => JSON.stringify(r)).join(', ');
  const added = `targets:
  bench-pg:
    connector: postgres
    env: prod
    owners: [group:dba]
    connection:
      url: env:BENCH_PG_ADMIN_URL
    roles:
      read: { maxTtl: 1h, riskTier: low, grants: { memberOf: [${targets.readRole}] } }
  bench-redis:
    connector: redis
    env: prod
    owners: [group:dba]
    connection:
      url: env:BENCH_REDIS_ADMIN_URL
    roles:
      read: { maxTtl: 1h, riskTier: low, grants: { rules: [${rules}] } }
`;
  if (!yaml.includes('targets:\n')) throw new Error('the example configuration has no targets section');
  await writeFile(state.configPath, yaml.replace('targets:\n', added));
  state.env.BENCH_PG_ADMIN_URL = targets.postgresAdminUrl;
  state.env.BENCH_REDIS_ADMIN_URL = targets.redisAdminUrl;
}

/** An auto-approved read grant on `target`; fails unless it is active with a credential. */
async function requestGrant(broker: Broker, principal: Principal, target: string): Promise<{ id: string; credential: IssuedCredential }> {
  const result = await broker.grants.request(principal, {
    target,
    role: 'read',
    task: 'bench: read the orders table',
    reason: 'connector benchmark',
    ttlSeconds: TTL_SECONDS,
  });
  if (result.grant.status !== 'active' || result.credential === undefined) {
    throw new Error(`the bench request on ${target} was not issued at once (status ${result.grant.status})`);
  }
  return { id: result.grant.id, credential: result.credential };
}

/** Throws unless every grant in `ids` ended with its credential revoked and the proof verified. */
async function expectAllVerified(broker: Broker, ids: readonly string[]): Promise<number> {
  const bad: string[] = [];
  for (const id of ids) {
    const g = await broker.store.getGrant(id);
    if (g?.credential.state !== 'revoked' || g.credential.evidence?.verified !== true) bad.push(`${id}: ${g?.credential.state ?? 'missing'}`);
  }
  if (bad.length > 0) throw new Error(`${bad.length} of ${ids.length} grants did not end revoked with verified evidence (${bad.slice(0, 3).join(', ')})`);
  return ids.length;
}

/** Expires `ids` (moving the clock past their expiry) and checks they all end verified. */
async function expireAndCheck(broker: Broker, clock: ManualClock, ids: readonly string[]): Promise<void> {
  clock.advance((TTL_SECONDS + 1) * 1000);
  const pass = await broker.worker.runOnce();
  if (pass.expired !== ids.length) throw new Error(`the worker expired ${pass.expired} grants, expected ${ids.length}`);
  await expectAllVerified(broker, ids);
}

/** Measures provisioning through the broker on `target`; returns the latency and the grant ids. */
async function measureStintProvision(broker: Broker, principal: Principal, target: string, count: number, warmUp: number): Promise<{ latency: Latency; ids: string[] }> {
  const ids: string[] = [];
  const latency = await measureSequential(count, warmUp, async () => {
    ids.push((await requestGrant(broker, principal, target)).id);
  });
  return { latency, ids };
}

/** Opens a session with each credential and runs a query the role allows. */
async function openSessions(credentials: readonly IssuedCredential[]): Promise<pg.Client[]> {
  const sessions: pg.Client[] = [];
  for (const credential of credentials) {
    const client = new pg.Client({ connectionString: credential.url! });
    client.on('error', () => undefined);
    sessions.push(client);
    await client.connect();
    await client.query('SELECT item FROM orders WHERE id = 1');
  }
  return sessions;
}

/** Throws unless every session is dead (a query fails). */
async function expectSessionsDead(sessions: readonly pg.Client[]): Promise<void> {
  let alive = 0;
  for (const s of sessions) {
    try {
      await s.query('SELECT 1');
      alive++;
    } catch {
      // Terminated by the revocation, as it must be.
    }
  }
  if (alive > 0) throw new Error(`${alive} of ${sessions.length} sessions opened during their grant still work after revocation`);
}

/**
 * Polls pg_roles (as the superuser, on its own connection, every ~2 ms) for when each of
 * `names` disappears. An observer from outside the broker: it sees what the target sees.
 */
async function watchRolesGone(targets: ConnectorTargets, names: readonly string[]): Promise<{ start(t0: number): void; stop(): Promise<void>; goneAfterMs(): number[] }> {
  const client = new pg.Client({ connectionString: targets.superuserUrl });
  client.on('error', () => undefined);
  await client.connect();
  const goneAt = new Map<string, number>();
  let stopped = false;
  let loop: Promise<void> = Promise.resolve();
  return {
    start(t0) {
      loop = (async () => {
        let left = [...names];
        while (!stopped && left.length > 0) {
          const { rows } = await client.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])', [left]);
          const now = performance.now() - t0;
          const present = new Set(rows.map((r) => r.rolname));
          for (const n of left) if (!present.has(n)) goneAt.set(n, now);
          left = left.filter((n) => present.has(n));
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      })();
    },
    async stop() {
      // Let the watcher see the last drops (they happened before the pass ended).
      await Promise.race([loop, new Promise((resolve) => setTimeout(resolve, 1_000))]);
      stopped = true;
      await loop.catch(() => undefined);
      await client.end().catch(() => undefined);
    },
    goneAfterMs: () => [...goneAt.values()],
  };
}

/** The revocation-lag run (see the file comment). */
async function measureRevocationLag(
  broker: Broker,
  clock: ManualClock,
  principal: Principal,
  targets: ConnectorTargets,
  reference: DirectPostgresRoles,
  opts: ConnectorsOptions,
): Promise<RevocationLagResult> {
  const issued: { id: string; credential: IssuedCredential }[] = [];
  const issue = await measureRate(opts.lagGrants, ISSUE_CONCURRENCY, async () => {
    issued.push(await requestGrant(broker, principal, 'bench-pg'));
  });
  const ids = issued.map((g) => g.id);
  const expiries = new Set(await Promise.all(ids.map(async (id) => (await broker.store.getGrant(id))?.expiresAt)));
  if (expiries.size !== 1) throw new Error(`the ${ids.length} grants do not expire at one instant (${expiries.size} distinct expiries)`);
  const sessions = await openSessions(issued.slice(0, opts.liveSessions).map((g) => g.credential));

  // Reference first: as many roles (made directly beforehand) with as many open sessions.
  await reference.fill(opts.lagGrants);
  await reference.openSessions(opts.liveSessions);
  const direct = await reference.revokeAll();

  const wanted = new Set(ids);
  const verifiedAt = new Map<string, number>();
  const expiredAt = new Map<string, number>();
  let lastExpired = 0;
  let started = 0;
  const onEvent = (r: AuditRecord): void => {
    if (r.grantId === undefined || !wanted.has(r.grantId)) return;
    if (r.type === 'credential.verified_revoked') verifiedAt.set(r.grantId, performance.now() - started);
    else if (r.type === 'grant.expired') expiredAt.set(r.grantId, (lastExpired = performance.now() - started));
  };
  broker.bus.on('event', onEvent);
  let passMs: number;
  const watcher = await watchRolesGone(targets, issued.map((g) => g.credential.username!));
  try {
    clock.set([...expiries][0]!);
    started = performance.now();
    watcher.start(started);
    const pass = await broker.worker.runOnce();
    passMs = performance.now() - started;
    if (pass.expired !== ids.length) throw new Error(`the worker expired ${pass.expired} grants, expected ${ids.length}`);
  } finally {
    broker.bus.off('event', onEvent);
    await watcher.stop();
  }
  const dropped = watcher.goneAfterMs();
  if (dropped.length !== ids.length) throw new Error(`the pg_roles watcher saw ${dropped.length} of ${ids.length} roles go`);

  const verified = await expectAllVerified(broker, ids);
  if (verifiedAt.size !== ids.length) throw new Error(`${ids.length - verifiedAt.size} grants ended without a credential.verified_revoked event`);
  const left = await targets.countStintRoles();
  if (left !== 0) throw new Error(`${left} grant role(s) remain in pg_roles after the revocation`);
  await expectSessionsDead(sessions);
  await Promise.all(sessions.map((s) => s.end().catch(() => undefined)));
  return {
    grants: ids.length,
    liveSessions: sessions.length,
    lag: summarizeLatency([...verifiedAt.values()]),
    passMs,
    expiredAfterMs: lastExpired,
    expired: summarizeLatency([...expiredAt.values()]),
    dropped: summarizeLatency(dropped),
    verified,
    issuedPerSecond: issue.perSecond,
    reference: direct,
  };
}

/** Runs the connectors benchmark on the local PostgreSQL and Redis. */
export async function benchConnectors(ws: BenchWorkspace, opts: ConnectorsOptions): Promise<ConnectorsResult> {
  const targets = await createConnectorTargets(ws.cleanup);
  const state = await createBenchState(ws, 'connectors', opts.store ?? 'pglite');
  await addTargets(state, targets);
  const clock = new ManualClock(Date.now());
  // The worker does not run on its own: the bench drives it, so that the clock decides when
  // grants expire. Errors only: the dev-mode warning would land in the middle of the output.
  const broker = await startBroker({ configPath: state.configPath, env: state.env, clock, startWorker: false, logLevel: 'error', host: '127.0.0.1', port: 0 });
  ws.cleanup.add('close the connectors bench broker', () => broker.close());
  const { principal } = await devIdentity(broker.config, BENCH_WORKLOAD);
  const warmUp = Math.max(3, Math.floor(opts.provisionGrants / 10));

  const reference = new DirectPostgresRoles(targets, ws.cleanup);
  const postgresReference = await reference.measureCreate(opts.provisionGrants, warmUp);
  const postgres = await measureStintProvision(broker, principal, 'bench-pg', opts.provisionGrants, warmUp);
  const redisReference = await measureDirectRedisProvision(targets, opts.provisionGrants, warmUp);
  const redis = await measureStintProvision(broker, principal, 'bench-redis', opts.provisionGrants, warmUp);
  // The provisioning grants end before the lag run, and must end verified on both targets.
  await expireAndCheck(broker, clock, [...postgres.ids, ...redis.ids]);

  const revocation = await measureRevocationLag(broker, clock, principal, targets, reference, opts);
  // The profile revokes as many roles as the lag run, so its figures line up with the goal's.
  const profile = revocation.lag.p99Ms > LAG_GOAL_MS && opts.profileRoles > 0 ? await profileRevocation(targets, ws.cleanup, opts.lagGrants) : undefined;
  return {
    provision: {
      postgres: { stint: postgres.latency, reference: postgresReference },
      redis: { stint: redis.latency, reference: redisReference },
    },
    revocation,
    ...(profile ? { profile } : {}),
  };
}
