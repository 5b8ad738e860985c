/**
 * Starts a real broker for a test: the example configuration (examples/stint.yaml), with its
 * state in a fresh temporary folder, on a random port, on PGlite or on a fresh PostgreSQL
 * database, optionally with a manual clock. Nothing is mocked.
 */
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker, type Broker } from '../../src/app.js';
import { loadOrCreateDevIssuerKey, mintDevToken } from '../../src/adapters/identity-jwt/index.js';
import { ManualClock, type Clock } from '../../src/ports/clock.js';
import { createTestDatabase, freshPgliteDataDir } from './stores.js';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const EXAMPLE_CONFIG = join(REPO_ROOT, 'examples', 'stint.yaml');

export interface TestBrokerOptions {
  readonly store?: 'pglite' | 'postgres';
  /** A manual clock; the worker then runs only when the test calls `broker.worker.runOnce()`. */
  readonly clock?: ManualClock;
  /** Edits the YAML text of the example configuration before it is loaded. */
  readonly configPatch?: (yaml: string) => string;
  /** Reuse state from an earlier broker (restart tests). */
  readonly dir?: string;
  readonly databaseUrl?: string;
  /** Extra environment for the broker (secret references like `env:ORDERS_PG_ADMIN_URL`). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface TestBroker {
  readonly broker: Broker;
  readonly url: string;
  readonly dir: string;
  readonly configPath: string;
  readonly databaseUrl?: string;
  /** A dev identity token for a principal of the example config. */
  tokenFor(principalId: string): Promise<string>;
  /** JSON request with the principal's identity token; returns status and parsed body. */
  call(principalId: string | null, method: string, path: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }>;
  /** Stops the broker (state stays, for restart tests). */
  stop(): Promise<void>;
  /** Stops the broker and deletes its state (and database). */
  cleanup(): Promise<void>;
}

/** The example config with state in `dir` and policies from examples/policies. */
export async function writeTestConfig(dir: string, patch?: (yaml: string) => string): Promise<string> {
  let yaml = await readFile(EXAMPLE_CONFIG, 'utf8');
  yaml = yaml.replaceAll('../.stint/', `${dir}/`).replace('dir: ./policies', `dir: ${join(REPO_ROOT, 'examples', 'policies')}`);
  // A fixed dev issuer, so a CLI started without the broker's STINT_PORT mints tokens it accepts.
  yaml = yaml.replace('dev:\n  enabled: true\n', 'dev:\n  enabled: true\n  issuer: https://dev-issuer.stint.test\n');
  // Tests sign checkpoints on demand only.
  yaml = yaml.replace('checkpointInterval: 60s', 'checkpointInterval: 3600s');
  if (patch) yaml = patch(yaml);
  const configPath = join(dir, 'stint.yaml');
  await writeFile(configPath, yaml);
  return configPath;
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function startTestBroker(opts: TestBrokerOptions = {}): Promise<TestBroker> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'stint-test-')));
  const configPath = await writeTestConfig(dir, opts.configPatch);
  if (opts.store !== 'postgres' && !opts.databaseUrl && !existsSync(join(dir, 'data'))) {
    // A copy of a migrated template instead of a fresh initdb (seconds per broker otherwise).
    const fresh = await freshPgliteDataDir();
    await rename(fresh.dataDir, join(dir, 'data'));
    fresh.cleanup();
  }
  let db: { url: string; drop(): Promise<void> } | undefined;
  let databaseUrl = opts.databaseUrl;
  if (opts.store === 'postgres' && !databaseUrl) {
    db = await createTestDatabase();
    databaseUrl = db.url;
  }
  // A real port up front, so the derived publicUrl (token `iss`, OAuth metadata) is the URL clients use.
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', STINT_PORT: String(port), ...opts.env };
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  const clock: Clock | undefined = opts.clock;
  const broker = await startBroker({
    configPath,
    env,
    ...(clock ? { clock } : {}),
    startWorker: clock === undefined,
    logLevel: process.env.STINT_TEST_LOG ?? 'silent',
    host: '127.0.0.1',
    port,
  });
  const devKey = await loadOrCreateDevIssuerKey(broker.config.dev.keyFile);
  const tokens = new Map<string, string>();
  const tokenFor = async (principalId: string): Promise<string> => {
    let t = tokens.get(principalId);
    if (!t) {
      t = await mintDevToken({
        key: devKey,
        issuer: broker.config.dev.issuer,
        audience: broker.config.dev.audience,
        principalId,
        ...(broker.config.dev.principals[principalId] ? { principal: broker.config.dev.principals[principalId] } : {}),
        // Long enough for any manual-clock test that moves time by hours.
        ttlSeconds: 7 * 86400,
        now: (clock ?? { now: Date.now }).now(),
      });
      tokens.set(principalId, t);
    }
    return t;
  };
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await broker.close();
  };
  return {
    broker,
    url: broker.url,
    dir,
    configPath,
    ...(databaseUrl ? { databaseUrl } : {}),
    tokenFor,
    async call(principalId, method, path, body) {
      const headers: Record<string, string> = {};
      if (principalId) headers.authorization = `Bearer ${await tokenFor(principalId)}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${broker.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* keep text */
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    stop,
    async cleanup() {
      await stop();
      if (db) await db.drop();
      if (!opts.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
