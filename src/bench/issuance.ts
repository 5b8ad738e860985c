/**
 * Goal 1 (REFERENCE.md section 6): auto-approved grants issued per second, durably, at least
 * half the raw single-row INSERT+COMMIT rate of the same store.
 *
 * Stint: `GrantService.request` for workload:deploy-bot on orders-db/read, 15 minutes, each with
 * its own task text (policy decision, one transaction with the grant row and its audit events,
 * token signing), called in-process, and `POST /v1/grants` over keep-alive HTTP against a broker in its own process.
 * The example policies read the task only to refuse a blank one, so the policy decision memo
 * (policy-cedar/decision-memo.ts) answers these requests; a third run with the memo off, Cedar
 * evaluating every request, is reported next to them for context.
 * Reference: one `INSERT (id, doc jsonb)` per transaction through the same driver on the same
 * database, with the same concurrency; the doc is a real grant's doc (same size). The raw rate
 * is measured before and after the Stint runs and averaged, so drifting machine load hits both.
 */
import { spawnBroker, spawnRawInsertServer } from './child-broker.js';
import { KeepAliveClient } from './http-client.js';
import { combineRates, measureWarm, type Rate } from './measure.js';
import { insertRawRow, issuedGrantDoc, openRawInsertDriver } from './raw-insert.js';
import {
  BENCH_GRANT_BODY,
  BENCH_GRANT_INPUT,
  BENCH_WORKLOAD,
  createBenchState,
  devIdentity,
  loadBenchConfig,
  startInProcessBroker,
  type BenchState,
  type BenchStoreKind,
  type BenchWorkspace,
} from './setup.js';

/** Options of {@link benchIssuance}. */
export interface IssuanceOptions {
  readonly store: BenchStoreKind;
  /** Grants per measured run (each run also has a warm-up). */
  readonly grants: number;
  /** Concurrent callers, for Stint and the reference alike. */
  readonly concurrency: number;
  /** Warm-up before each measured run, Stint and reference alike (measure.ts `WarmUp`). */
  readonly warmUpMs: number;
}

/** Result of {@link benchIssuance}. */
export interface IssuanceResult {
  readonly store: BenchStoreKind;
  readonly concurrency: number;
  /** `GrantService.request` in-process. */
  readonly inProcess: Rate;
  /** The same with the policy decision memo off: Cedar evaluates every request (context). */
  readonly inProcessEveryDecision: Rate;
  /** `POST /v1/grants` over keep-alive HTTP to a child broker. */
  readonly http: Rate;
  /** Raw INSERT+COMMIT: the mean of the runs before and after. */
  readonly rawInsert: Rate;
  readonly rawInsertRuns: readonly Rate[];
  /** The same INSERT+COMMIT behind a bare HTTP server, same client: the mean of before and after. */
  readonly rawInsertHttp: Rate;
  readonly rawInsertHttpRuns: readonly Rate[];
  /** Size of the jsonb doc each raw row carries (a real grant's doc). */
  readonly docBytes: number;
}

/**
 * A new task text per request ("... #1", "... #2"): every new task is a new grant, and the task
 * is part of the policy context, so no request repeats another's Cedar input (the benchmark
 * must not measure a workload that sends one request over and over).
 */
function taskCounter(): () => string {
  let n = 0;
  return () => `${BENCH_GRANT_INPUT.task} #${++n}`;
}

/** One INSERT per transaction, `concurrency` at a time, through the store's driver. */
async function measureRawInsert(ws: BenchWorkspace, state: BenchState, doc: string, opts: IssuanceOptions): Promise<Rate> {
  const driver = await openRawInsertDriver(state.store === 'pglite' ? { kind: 'pglite', dataDir: state.dataDir } : { kind: 'postgres', url: state.databaseUrl! });
  const close = ws.cleanup.add('close raw-insert driver', () => driver.close());
  try {
    return await measureWarm(opts.grants, opts.concurrency, () => insertRawRow(driver, doc), { warmUpMs: opts.warmUpMs });
  } finally {
    await close();
  }
}

/**
 * The same INSERT+COMMIT behind a bare `node:http` server in its own process
 * (raw-insert-server.ts), through the same client with the same sockets and a body like the
 * grant request's: what HTTP, a JSON body, a second process and the shared two cores cost any
 * service that records a row, without Stint.
 */
async function measureRawInsertHttp(ws: BenchWorkspace, state: BenchState, opts: IssuanceOptions): Promise<Rate> {
  const server = await spawnRawInsertServer(ws, state);
  const client = new KeepAliveClient(server.url, opts.concurrency);
  try {
    const headers = { 'content-type': 'application/json' };
    const template = JSON.parse(BENCH_GRANT_BODY) as Record<string, unknown>;
    const task = taskCounter();
    return await measureWarm(opts.grants, opts.concurrency, async () => {
      const body = (await client.json('POST', '/rows', 201, { headers, body: JSON.stringify({ ...template, task: task() }) })) as { id?: unknown };
      if (typeof body.id !== 'string') throw new Error('the raw insert server answered without an id');
    }, { warmUpMs: opts.warmUpMs });
  } finally {
    client.close();
    await server.stop();
  }
}

/** `GrantService.request` in this process (`policyDecisionMemo: false`: Cedar decides every request). */
async function measureInProcess(ws: BenchWorkspace, state: BenchState, opts: IssuanceOptions, policyDecisionMemo = true): Promise<Rate> {
  const broker = await startInProcessBroker(ws, state, { policyDecisionMemo });
  try {
    const { principal } = await devIdentity(broker.config, BENCH_WORKLOAD);
    const task = taskCounter();
    return await measureWarm(opts.grants, opts.concurrency, async () => {
      const result = await broker.grants.request(principal, { ...BENCH_GRANT_INPUT, task: task() });
      if (result.grant.status !== 'active' || result.accessToken === undefined) {
        throw new Error(`the bench request was not issued at once (status ${result.grant.status})`);
      }
    }, { warmUpMs: opts.warmUpMs });
  } finally {
    await broker.stop();
  }
}

/** `POST /v1/grants` over keep-alive HTTP, `concurrency` sockets, to a broker in its own process. */
async function measureHttp(ws: BenchWorkspace, state: BenchState, opts: IssuanceOptions): Promise<Rate> {
  const child = await spawnBroker(ws, state);
  const client = new KeepAliveClient(child.url, opts.concurrency);
  try {
    const { token } = await devIdentity(await loadBenchConfig(state), BENCH_WORKLOAD);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const template = JSON.parse(BENCH_GRANT_BODY) as Record<string, unknown>;
    const task = taskCounter();
    return await measureWarm(opts.grants, opts.concurrency, async () => {
      const request = JSON.stringify({ ...template, task: task() });
      const body = (await client.json('POST', '/v1/grants', 201, { headers, body: request })) as { grant: { status: string }; accessToken?: string };
      if (body.grant.status !== 'active' || typeof body.accessToken !== 'string') {
        throw new Error(`the bench request was not issued at once (status ${body.grant.status})`);
      }
    }, { warmUpMs: opts.warmUpMs });
  } finally {
    client.close();
    await child.stop();
  }
}

/** Measures issuance and the raw insert rate on one store (a fresh PGlite directory or database). */
export async function benchIssuance(ws: BenchWorkspace, opts: IssuanceOptions): Promise<IssuanceResult> {
  const state = await createBenchState(ws, `issuance-${opts.store}`, opts.store);
  const doc = issuedGrantDoc();
  const before = await measureRawInsert(ws, state, doc, opts);
  const httpBefore = await measureRawInsertHttp(ws, state, opts);
  const inProcess = await measureInProcess(ws, state, opts);
  const inProcessEveryDecision = await measureInProcess(ws, state, opts, false);
  const http = await measureHttp(ws, state, opts);
  const httpAfter = await measureRawInsertHttp(ws, state, opts);
  const after = await measureRawInsert(ws, state, doc, opts);
  return {
    store: opts.store,
    concurrency: opts.concurrency,
    inProcess,
    inProcessEveryDecision,
    http,
    rawInsert: combineRates([before, after]),
    rawInsertRuns: [before, after],
    rawInsertHttp: combineRates([httpBefore, httpAfter]),
    rawInsertHttpRuns: [httpBefore, httpAfter],
    docBytes: Buffer.byteLength(doc),
  };
}
