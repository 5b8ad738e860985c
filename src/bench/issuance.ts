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
 * store, with the same concurrency; the doc is a real grant's doc (same size).
 *
 * Every party (the reference, the same insert behind a bare HTTP server, Stint in-process with
 * and without the memo, Stint over HTTP) runs for the whole benchmark, each on a store of its own
 * (a PGlite data directory or a PostgreSQL database on the same server: a PGlite directory has
 * one opener, and brokers sharing a database would move each other's audit head), and they are
 * measured in alternating slices (`measureInterleaved`), so the machine's drifting speed hits
 * Stint and its reference alike. Each ratio is of the rates over all slices; the spread of the
 * per-round ratios is reported beside it.
 */
import { spawnBroker, spawnRawInsertServer } from './child-broker.js';
import { KeepAliveClient } from './http-client.js';
import { combineRates, measureInterleaved, type Rate } from './measure.js';
import { insertRawRow, issuedGrantDoc, openRawInsertDriver } from './raw-insert.js';
import {
  BENCH_GRANT_BODY,
  BENCH_GRANT_INPUT,
  BENCH_WORKLOAD,
  createBenchState,
  devIdentity,
  loadBenchConfig,
  startInProcessBroker,
  type BenchStoreKind,
  type BenchWorkspace,
} from './setup.js';

/** Options of {@link benchIssuance}. */
export interface IssuanceOptions {
  readonly store: BenchStoreKind;
  /** Grants (or reference rows) per party, over all rounds. */
  readonly grants: number;
  /** Rounds of slices (`measureInterleaved`); each measures `grants / rounds` per party. */
  readonly rounds: number;
  /** Concurrent callers, for Stint and the reference alike. */
  readonly concurrency: number;
  /** Warm-up of each party before the first round (measure.ts `WarmUp`). */
  readonly warmUpMs: number;
}

/** The parties of the issuance benchmark, in the order of the first round. */
export const ISSUANCE_PARTIES = ['rawInsert', 'inProcess', 'inProcessEveryDecision', 'http', 'rawInsertHttp'] as const;
export type IssuanceParty = (typeof ISSUANCE_PARTIES)[number];

/** Result of {@link benchIssuance}. */
export interface IssuanceResult {
  readonly store: BenchStoreKind;
  readonly concurrency: number;
  readonly rounds: number;
  /** `GrantService.request` in-process. */
  readonly inProcess: Rate;
  /** The same with the policy decision memo off: Cedar evaluates every request (context). */
  readonly inProcessEveryDecision: Rate;
  /** `POST /v1/grants` over keep-alive HTTP to a child broker. */
  readonly http: Rate;
  /** Raw INSERT+COMMIT. */
  readonly rawInsert: Rate;
  /** The same INSERT+COMMIT behind a bare HTTP server, same client. */
  readonly rawInsertHttp: Rate;
  /** Every party's slices, in round order (the rates above are over all of them). */
  readonly slices: Readonly<Record<IssuanceParty, readonly Rate[]>>;
  /** Size of the jsonb doc each raw row carries (a real grant's doc). */
  readonly docBytes: number;
}

/** Lowest and highest per-round ratio of `party`'s slices to `reference`'s. */
export function roundRatios(r: IssuanceResult, party: IssuanceParty, reference: IssuanceParty): { min: number; max: number } {
  const ratios = r.slices[party].map((slice, i) => slice.perSecond / r.slices[reference][i]!.perSecond);
  return { min: Math.min(...ratios), max: Math.max(...ratios) };
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

type Operation = () => Promise<void>;

/** One INSERT per transaction through the store's driver. */
async function openRawInsert(ws: BenchWorkspace, store: BenchStoreKind, doc: string): Promise<Operation> {
  const state = await createBenchState(ws, `issuance-${store}-raw`, store);
  const driver = await openRawInsertDriver(state.store === 'pglite' ? { kind: 'pglite', dataDir: state.dataDir } : { kind: 'postgres', url: state.databaseUrl! });
  ws.cleanup.add('close raw-insert driver', () => driver.close());
  return async () => {
    await insertRawRow(driver, doc);
  };
}

/**
 * The same INSERT+COMMIT behind a bare `node:http` server in its own process
 * (raw-insert-server.ts), through the same client with the same sockets and a body like the
 * grant request's: what HTTP, a JSON body, a second process and the shared two cores cost any
 * service that records a row, without Stint.
 */
async function openRawInsertHttp(ws: BenchWorkspace, store: BenchStoreKind, concurrency: number): Promise<Operation> {
  const state = await createBenchState(ws, `issuance-${store}-raw-http`, store);
  const server = await spawnRawInsertServer(ws, state);
  const client = new KeepAliveClient(server.url, concurrency);
  ws.cleanup.add('close raw insert client', () => client.close());
  const headers = { 'content-type': 'application/json' };
  const template = JSON.parse(BENCH_GRANT_BODY) as Record<string, unknown>;
  const task = taskCounter();
  return async () => {
    const body = (await client.json('POST', '/rows', 201, { headers, body: JSON.stringify({ ...template, task: task() }) })) as { id?: unknown };
    if (typeof body.id !== 'string') throw new Error('the raw insert server answered without an id');
  };
}

/** `GrantService.request` in this process (`policyDecisionMemo: false`: Cedar decides every request). */
async function openInProcess(ws: BenchWorkspace, store: BenchStoreKind, policyDecisionMemo: boolean): Promise<Operation> {
  const state = await createBenchState(ws, `issuance-${store}-in-process${policyDecisionMemo ? '' : '-every-decision'}`, store);
  const broker = await startInProcessBroker(ws, state, { policyDecisionMemo });
  const { principal } = await devIdentity(broker.config, BENCH_WORKLOAD);
  const task = taskCounter();
  return async () => {
    const result = await broker.grants.request(principal, { ...BENCH_GRANT_INPUT, task: task() });
    if (result.grant.status !== 'active' || result.accessToken === undefined) {
      throw new Error(`the bench request was not issued at once (status ${result.grant.status})`);
    }
  };
}

/** `POST /v1/grants` over keep-alive HTTP, `concurrency` sockets, to a broker in its own process. */
async function openHttp(ws: BenchWorkspace, store: BenchStoreKind, concurrency: number): Promise<Operation> {
  const state = await createBenchState(ws, `issuance-${store}-http`, store);
  const child = await spawnBroker(ws, state);
  const client = new KeepAliveClient(child.url, concurrency);
  ws.cleanup.add('close broker client', () => client.close());
  const { token } = await devIdentity(await loadBenchConfig(state), BENCH_WORKLOAD);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const template = JSON.parse(BENCH_GRANT_BODY) as Record<string, unknown>;
  const task = taskCounter();
  return async () => {
    const request = JSON.stringify({ ...template, task: task() });
    const body = (await client.json('POST', '/v1/grants', 201, { headers, body: request })) as { grant: { status: string }; accessToken?: string };
    if (body.grant.status !== 'active' || typeof body.accessToken !== 'string') {
      throw new Error(`the bench request was not issued at once (status ${body.grant.status})`);
    }
  };
}

/**
 * Measures issuance and its references on one store kind. Everything opened here (stores, the
 * in-process brokers, the child processes, the clients) is closed by the workspace's cleanup
 * when the benchmark's phase ends.
 */
export async function benchIssuance(ws: BenchWorkspace, opts: IssuanceOptions): Promise<IssuanceResult> {
  const doc = issuedGrantDoc();
  const parties: Record<IssuanceParty, Operation> = {
    rawInsert: await openRawInsert(ws, opts.store, doc),
    inProcess: await openInProcess(ws, opts.store, true),
    inProcessEveryDecision: await openInProcess(ws, opts.store, false),
    http: await openHttp(ws, opts.store, opts.concurrency),
    rawInsertHttp: await openRawInsertHttp(ws, opts.store, opts.concurrency),
  };
  const slices = await measureInterleaved(parties, { total: opts.grants, rounds: opts.rounds, concurrency: opts.concurrency, warmUpMs: opts.warmUpMs });
  return {
    store: opts.store,
    concurrency: opts.concurrency,
    rounds: opts.rounds,
    inProcess: combineRates(slices.inProcess),
    inProcessEveryDecision: combineRates(slices.inProcessEveryDecision),
    http: combineRates(slices.http),
    rawInsert: combineRates(slices.rawInsert),
    rawInsertHttp: combineRates(slices.rawInsertHttp),
    slices,
    docBytes: Buffer.byteLength(doc),
  };
}
