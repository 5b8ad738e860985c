/**
 * Bench state: one temporary root per run holding every broker's files, a migrated PGlite
 * template that each fresh data directory copies (initdb costs 4-10 s here, a copy well under
 * one), fresh PostgreSQL databases, the example configuration pointed at that state, and
 * identities from the development issuer. Everything registered with a `Cleanup` is removed
 * when the run ends, also on failure. The same approach as the test helpers
 * (test/helpers/broker.ts), rewritten here because shipped code must not import from test/.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startBroker, type Broker } from '../app.js';
import { loadConfig } from '../config/index.js';
import type { StintConfig } from '../config/types.js';
import { createIdentityVerifier, devPublicJwks, loadOrCreateDevIssuerKey, mintDevToken } from '../adapters/identity-jwt/index.js';
import { openStore } from '../adapters/store-sql/index.js';
import type { Principal } from '../core/principal.js';
import { systemClock } from '../ports/clock.js';
import { Cleanup } from './cleanup.js';

/** The repository root (this file is src/bench/setup.ts or dist/bench/setup.js). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The built CLI the child brokers run (`npm run bench` builds it first). */
export const CLI_ENTRY = join(REPO_ROOT, 'dist', 'cli', 'main.js');

/** The built store probe (store-probe.ts), the scale benchmark's reference. */
export const STORE_PROBE_ENTRY = join(REPO_ROOT, 'dist', 'bench', 'store-probe.js');

/** The HTTP issuance reference (raw-insert-server.ts). */
export const RAW_INSERT_SERVER_ENTRY = join(REPO_ROOT, 'dist', 'bench', 'raw-insert-server.js');

/** Admin connection that creates and drops the bench databases. */
export const ADMIN_POSTGRES_URL = process.env.STINT_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The workload every benchmark requests as: auto-approved for orders-db/read by examples/policies. */
export const BENCH_WORKLOAD = 'workload:deploy-bot';

/** Which store a benchmark runs on. */
export type BenchStoreKind = 'pglite' | 'postgres';

/** One bench run's temporary root, its cleanup, and the shared PGlite template. */
export interface BenchWorkspace {
  readonly root: string;
  /** Where state, databases and processes made in this workspace register their removal. */
  readonly cleanup: Cleanup;
  /** A migrated PGlite data directory nobody holds open; made once per workspace. */
  pgliteTemplate(): Promise<string>;
}

/**
 * The same root and template with its own cleanup, so one benchmark's state (a million rows
 * take gigabytes) is removed when that benchmark ends rather than at the end of the run.
 */
export function phaseWorkspace(ws: BenchWorkspace): BenchWorkspace {
  return { root: ws.root, cleanup: new Cleanup(), pgliteTemplate: () => ws.pgliteTemplate() };
}

/**
 * Creates the temporary root (removed by `cleanup.runAll()`). `existingTemplate`: a migrated
 * PGlite data directory made by another process (the bench's parent, run.ts) to copy from.
 */
export function createWorkspace(cleanup: Cleanup = new Cleanup(), existingTemplate?: string): BenchWorkspace {
  const root = mkdtempSync(join(tmpdir(), 'stint-bench-'));
  cleanup.add(`remove ${root}`, () => rmSync(root, { recursive: true, force: true }));
  let template: Promise<string> | undefined = existingTemplate === undefined ? undefined : Promise.resolve(existingTemplate);
  return {
    root,
    cleanup,
    pgliteTemplate() {
      template ??= (async () => {
        const dataDir = join(root, 'pglite-template');
        const store = await openStore({ kind: 'pglite', dataDir });
        await store.close();
        return dataDir;
      })();
      return template;
    },
  };
}

/** A fresh PostgreSQL database on the local server; `drop()` removes it even with open sessions. */
export async function createBenchDatabase(cleanup: Cleanup): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `stint_bench_${randomBytes(6).toString('hex')}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_POSTGRES_URL);
  url.pathname = `/${name}`;
  const drop = cleanup.add(`drop database ${name}`, () => withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined));
  return { url: url.toString(), drop };
}

/** The server version of the bench PostgreSQL (for the report). */
export async function postgresServerVersion(): Promise<string> {
  return withAdmin(async (admin) => String((await admin.query('SHOW server_version')).rows[0]?.server_version ?? 'unknown'));
}

async function withAdmin<T>(fn: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: ADMIN_POSTGRES_URL, connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

/** State of one broker: its folder, configuration and store. */
export interface BenchState {
  readonly dir: string;
  readonly configPath: string;
  readonly store: BenchStoreKind;
  /** PGlite data directory (not used on PostgreSQL). */
  readonly dataDir: string;
  /** The database URL (postgres only). */
  readonly databaseUrl?: string;
  /** Environment for `startBroker` and child brokers (DATABASE_URL switches to PostgreSQL). */
  readonly env: NodeJS.ProcessEnv;
}

/**
 * A broker folder under the workspace with the example configuration (examples/stint.yaml,
 * policies from examples/policies), on a copy of the PGlite template or on a fresh database.
 */
export async function createBenchState(ws: BenchWorkspace, name: string, store: BenchStoreKind): Promise<BenchState> {
  const dir = join(ws.root, name);
  if (existsSync(dir)) throw new Error(`bench state ${name} already exists`);
  mkdirSync(dir, { recursive: true });
  ws.cleanup.add(`remove ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const configPath = await writeBenchConfig(dir);
  const dataDir = join(dir, 'data');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '' };
  if (store === 'postgres') {
    const db = await createBenchDatabase(ws.cleanup);
    env.DATABASE_URL = db.url;
    return { dir, configPath, store, dataDir, databaseUrl: db.url, env };
  }
  cpSync(await ws.pgliteTemplate(), dataDir, { recursive: true });
  return { dir, configPath, store, dataDir, env };
}

/**
 * The example configuration with its state in `dir`. Logs at `warn` (the broker logs no
 * request lines either way) and checkpoints hourly, so no timer work lands inside a
 * measurement window.
 */
export async function writeBenchConfig(dir: string): Promise<string> {
  let yaml = await readFile(join(REPO_ROOT, 'examples', 'stint.yaml'), 'utf8');
  yaml = yaml.replaceAll('../.stint/', `${dir}/`).replace('dir: ./policies', `dir: ${join(REPO_ROOT, 'examples', 'policies')}`);
  yaml = yaml.replace('checkpointInterval: 60s', 'checkpointInterval: 3600s').replace(/level: info/, 'level: warn');
  const configPath = join(dir, 'stint.yaml');
  await writeFile(configPath, yaml);
  return configPath;
}

/** Starts a broker in this process on any free port; `close()` is also registered for cleanup. */
export async function startInProcessBroker(
  ws: BenchWorkspace,
  state: BenchState,
  opts: { readonly policyDecisionMemo?: boolean } = {},
): Promise<Broker & { stop(): Promise<void> }> {
  // Errors only: the dev-mode warning would land in the middle of the bench output.
  const broker = await startBroker({ configPath: state.configPath, env: state.env, logLevel: 'error', host: '127.0.0.1', port: 0, ...opts });
  const stop = ws.cleanup.add(`close broker ${state.dir}`, () => broker.close());
  return Object.assign(broker, { stop });
}

/** The configuration a bench state's broker loads. */
export function loadBenchConfig(state: BenchState): Promise<StintConfig> {
  return loadConfig(state.configPath, state.env);
}

/** A dev-issuer identity token for `principalId` and the principal the broker derives from it. */
export async function devIdentity(config: StintConfig, principalId: string): Promise<{ token: string; principal: Principal }> {
  const key = await loadOrCreateDevIssuerKey(config.dev.keyFile);
  const token = await mintDevToken({
    key,
    issuer: config.dev.issuer,
    audience: config.dev.audience,
    principalId,
    ...(config.dev.principals[principalId] ? { principal: config.dev.principals[principalId] } : {}),
    ttlSeconds: 6 * 3600,
    now: Date.now(),
  });
  // The broker's own verifier maps the token, so in-process calls see exactly the HTTP caller.
  const verifier = createIdentityVerifier({ issuers: [], dev: { config: config.dev, publicJwks: devPublicJwks(key) }, clock: systemClock });
  return { token, principal: await verifier.verify(token) };
}

/** The request every issuance benchmark files: auto-approved, 15 minutes. */
export const BENCH_GRANT_INPUT = {
  target: 'orders-db',
  role: 'read',
  task: 'nightly reconciliation of order totals',
  reason: 'scheduled job: compare the ledger with the orders database',
  ttlSeconds: 900,
} as const;

/** The same request as an HTTP body (POST /v1/grants). */
export const BENCH_GRANT_BODY = JSON.stringify({
  target: BENCH_GRANT_INPUT.target,
  role: BENCH_GRANT_INPUT.role,
  task: BENCH_GRANT_INPUT.task,
  reason: BENCH_GRANT_INPUT.reason,
  ttl: '15m',
});
