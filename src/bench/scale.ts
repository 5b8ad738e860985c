/**
 * Goal 3: with 1,000,000 grants stored, the broker restarts to ready in < 3 s and stays under
 * 300 MB RSS (Vault keeps every lease in memory and must load them all on restart,
 * REFERENCE.md section 2).
 *
 * For each size, ascending: grow the grants table to that size (fill.ts), run the store probe
 * (reference: the store alone, store-probe.ts), start the broker as a child process
 * (`stint serve`) and time spawn -> GET /readyz 200, read its RSS, put it under a short load
 * (grant requests over HTTP and listing pages), read its RSS again, stop it, and restart it
 * `restarts - 1` more times to time warm restarts too.
 */
import type { SqlDriver } from '../adapters/store-sql/driver.js';
import { migrate } from '../adapters/store-sql/migrations.js';
import { openPgliteDriver } from '../adapters/store-sql/pglite.js';
import { DEFAULT_POOL_SIZE, openPostgresDriver } from '../adapters/store-sql/postgres.js';
import { probeStore, spawnBroker, type ChildBroker, type StoreProbe } from './child-broker.js';
import { countGrants, fillGrants } from './fill.js';
import { KeepAliveClient } from './http-client.js';
import { measureRate, timed, type Rate } from './measure.js';
import type { ProcessMemory } from './process-memory.js';
import {
  BENCH_GRANT_BODY,
  BENCH_WORKLOAD,
  createBenchState,
  devIdentity,
  loadBenchConfig,
  type BenchState,
  type BenchStoreKind,
  type BenchWorkspace,
} from './setup.js';

/** Options of {@link benchScale}. */
export interface ScaleOptions {
  readonly store: BenchStoreKind;
  /** Stored grant counts to measure at, ascending (the table grows from one to the next). */
  readonly sizes: readonly number[];
  /** Grant requests of the load phase. */
  readonly loadGrants: number;
  /** Listing pages per listing kind in the load phase. */
  readonly listPages: number;
  /** Broker starts per size (the first right after the fill, the others restarts). */
  readonly starts: number;
  readonly concurrency: number;
}

/** Measurements at one stored size. */
export interface ScalePoint {
  /** Grants the fill put in the table (before this size's load adds its own). */
  readonly filled: number;
  /** Stored grants per status when the broker started. */
  readonly counts: Readonly<Record<string, number>>;
  readonly fillSeconds: number;
  /** Spawn -> ready, per start. */
  readonly readyMs: readonly number[];
  /** Right after the first start was ready. */
  readonly memoryReady: ProcessMemory;
  /** After the load phase (VmHWM: the peak over the whole life of that process). */
  readonly memoryAfterLoad: ProcessMemory;
  /** Grant requests of the load phase. */
  readonly loadGrants: Rate;
  /** Listing pages fetched, and their mean latency. */
  readonly listPages: number;
  readonly listPageMs: number;
  /** The store alone (reference). */
  readonly probe: StoreProbe;
}

/** Result of {@link benchScale}. */
export interface ScaleResult {
  readonly store: BenchStoreKind;
  readonly points: readonly ScalePoint[];
}

async function openDriver(state: BenchState): Promise<SqlDriver> {
  if (state.store === 'pglite') return openPgliteDriver(state.dataDir);
  return openPostgresDriver(state.databaseUrl!, DEFAULT_POOL_SIZE);
}

/** Grows the table to `to` rows through the store's own driver; returns the counts per status. */
async function grow(ws: BenchWorkspace, state: BenchState, from: number, to: number): Promise<Record<string, number>> {
  const driver = await openDriver(state);
  const close = ws.cleanup.add('close fill driver', () => driver.close());
  try {
    await migrate(driver);
    await fillGrants(driver, from, to, Date.now());
    return await countGrants(driver);
  } finally {
    await close();
  }
}

/** Follows `nextCursor` for up to `pages` pages of `query`; returns the pages fetched. */
async function walkPages(client: KeepAliveClient, token: string, query: string, pages: number): Promise<number> {
  let cursor: string | undefined;
  let fetched = 0;
  while (fetched < pages) {
    const path = `/v1/grants?${query}&limit=50${cursor !== undefined ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = (await client.json('GET', path, 200, { headers: { authorization: `Bearer ${token}` } })) as { items: unknown[]; nextCursor?: string };
    fetched++;
    if (page.nextCursor === undefined) break;
    cursor = page.nextCursor;
  }
  return fetched;
}

/** Grant requests and listing pages against a running child broker. */
async function load(child: ChildBroker, state: BenchState, opts: ScaleOptions): Promise<{ grants: Rate; pages: number; pageMs: number }> {
  const config = await loadBenchConfig(state);
  const workload = (await devIdentity(config, BENCH_WORKLOAD)).token;
  const admin = (await devIdentity(config, 'human:root')).token;
  const client = new KeepAliveClient(child.url, opts.concurrency);
  try {
    const headers = { authorization: `Bearer ${workload}`, 'content-type': 'application/json' };
    const grants = await measureRate(opts.loadGrants, opts.concurrency, () => client.json('POST', '/v1/grants', 201, { headers, body: BENCH_GRANT_BODY }));
    const listing = await timed(async () => {
      let pages = 0;
      pages += await walkPages(client, admin, 'principal=workload:ci-runner', opts.listPages);
      pages += await walkPages(client, workload, 'status=expired', opts.listPages);
      pages += await walkPages(client, admin, 'status=active', opts.listPages);
      pages += await walkPages(client, admin, 'target=orders-db', opts.listPages);
      return pages;
    });
    return { grants, pages: listing.value, pageMs: listing.ms / listing.value };
  } finally {
    client.close();
  }
}

/** Measures start-up time and memory at each stored size on a fresh store. */
export async function benchScale(ws: BenchWorkspace, opts: ScaleOptions): Promise<ScaleResult> {
  const state = await createBenchState(ws, `scale-${opts.store}`, opts.store);
  const points: ScalePoint[] = [];
  let filled = 0;
  for (const size of opts.sizes) {
    const fill = await timed(() => grow(ws, state, filled, size));
    filled = size;
    const probe = await probeStore(ws, state);
    const first = await spawnBroker(ws, state);
    const readyMs = [first.readyMs];
    let memoryReady: ProcessMemory;
    let memoryAfterLoad: ProcessMemory;
    let loaded: { grants: Rate; pages: number; pageMs: number };
    try {
      memoryReady = first.memory();
      loaded = await load(first, state, opts);
      memoryAfterLoad = first.memory();
    } finally {
      await first.stop();
    }
    for (let i = 1; i < opts.starts; i++) {
      const again = await spawnBroker(ws, state);
      readyMs.push(again.readyMs);
      await again.stop();
    }
    points.push({
      filled: size,
      counts: fill.value,
      fillSeconds: fill.ms / 1000,
      readyMs,
      memoryReady,
      memoryAfterLoad,
      loadGrants: loaded.grants,
      listPages: loaded.pages,
      listPageMs: loaded.pageMs,
      probe,
    });
  }
  return { store: opts.store, points };
}
