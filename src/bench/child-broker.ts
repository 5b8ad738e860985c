/**
 * A broker in its own process, started exactly as an operator would (`stint serve --config`),
 * so its start-up time and memory are the real ones and the load generator does not share its
 * event loop. Restart-to-ready is the time from spawn to the first `GET /readyz` 200
 * (readiness includes the start-up catch-up of due work, see src/http/routes/health.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { processMemory, type ProcessMemory } from './process-memory.js';
import { CLI_ENTRY, RAW_INSERT_SERVER_ENTRY, STORE_PROBE_ENTRY, type BenchState, type BenchWorkspace } from './setup.js';

/** A running child broker. */
export interface ChildBroker {
  readonly pid: number;
  readonly url: string;
  /** Milliseconds from spawn to the first `GET /readyz` 200. */
  readonly readyMs: number;
  memory(): ProcessMemory;
  /** SIGTERM (clean shutdown: final checkpoint, store closed) and wait for the exit. */
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago (the child binds it right after). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One `GET path` without keep-alive; the status, or 0 when nothing answers yet. */
function probe(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** SIGTERM (a clean shutdown), SIGKILL if it has not exited within 30 s, then its cleanup. */
async function terminate(child: ChildProcess, kill: () => Promise<void>): Promise<void> {
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited(child);
  clearTimeout(timer);
  await kill();
}

/**
 * The first line `child` prints on stdout. Rejects when it exits first or prints none within
 * `timeoutMs`, quoting the tail of its stderr; `what` names it in the message.
 */
function firstLine(child: ChildProcess, what: string, timeoutMs: number): Promise<string> {
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const end = stdout.indexOf('\n');
      if (end >= 0) {
        clearTimeout(timer);
        resolve(stdout.slice(0, end));
      }
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) without an answer:\n${stderr}`));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/**
 * Spawns `node dist/cli/main.js --config <state> serve` and waits until it is ready. Throws
 * (after killing the child) when it exits early or is not ready within `timeoutMs`; the
 * child's output is quoted in the error.
 */
export async function spawnBroker(ws: BenchWorkspace, state: BenchState, timeoutMs = 60_000): Promise<ChildBroker> {
  if (!existsSync(CLI_ENTRY)) throw new Error(`${CLI_ENTRY} is missing: run "npm run build" first`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  // STINT_BENCH_CHILD_NODE_ARGS (space-separated, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
  // profiles the child broker; the child's env is minimal, so NODE_OPTIONS would not reach it.
  const nodeArgs = (process.env.STINT_BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...nodeArgs, CLI_ENTRY, '--config', state.configPath, 'serve', '--host', '127.0.0.1', '--port', String(port)], {
    env: state.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    // Keep the tail only: the broker logs at warn, but a failure may print a lot.
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn the broker');
  let ending = false;
  const kill = ws.cleanup.add(`kill broker ${pid}`, async () => {
    ending = true;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited(child);
  });

  let stopping: Promise<void> | undefined;
  // A broker that dies mid-benchmark shows up in the client as "socket hang up" or a refused
  // connection: say here why it ended, with the tail of its output.
  child.once('exit', (code, signal) => {
    if (stopping === undefined && !ending && readyMs !== undefined) {
      process.stderr.write(`[bench] the broker (pid ${pid}) exited unexpectedly (${code ?? signal}):\n${output}\n`);
    }
  });

  let readyMs: number | undefined;
  while (readyMs === undefined) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await kill();
      throw new Error(`the broker exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output}`);
    }
    if (performance.now() - started > timeoutMs) {
      await kill();
      throw new Error(`the broker was not ready within ${timeoutMs} ms:\n${output}`);
    }
    if ((await probe(`${url}/readyz`)) === 200) readyMs = performance.now() - started;
    else await new Promise((resolve) => setTimeout(resolve, 10));
  }

  const stop = (): Promise<void> =>
    (stopping ??= terminate(child, kill));
  return { pid, url, readyMs, memory: () => processMemory(pid), stop };
}

/**
 * Starts `entry` (store-probe.js, raw-insert-server.js) on the state's store: `pglite <dataDir>`,
 * or `postgres` with the URL in STINT_BENCH_STORE_URL; `kill()` (also registered for cleanup)
 * SIGKILLs it and waits for the exit.
 */
function spawnOnStore(ws: BenchWorkspace, state: BenchState, entry: string, label: string): { child: ChildProcess; kill: () => Promise<void> } {
  const args = state.store === 'postgres' ? [entry, 'postgres'] : [entry, 'pglite', state.dataDir];
  const env = { PATH: process.env.PATH ?? '', ...(state.databaseUrl !== undefined ? { STINT_BENCH_STORE_URL: state.databaseUrl } : {}) };
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const kill = ws.cleanup.add(`kill ${label} ${child.pid}`, async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited(child);
  });
  return { child, kill };
}

/** What the store alone costs at start-up (the reference of the restart measurement). */
export interface StoreProbe {
  /** Milliseconds from spawn to the store opened and answering. */
  readonly readyMs: number;
  readonly memory: ProcessMemory;
}

/**
 * Runs store-probe.js on the state's store in a child process: spawn, open the store as the
 * broker does, one readiness query, report memory, exit.
 */
export async function probeStore(ws: BenchWorkspace, state: BenchState, timeoutMs = 60_000): Promise<StoreProbe> {
  if (!existsSync(STORE_PROBE_ENTRY)) throw new Error(`${STORE_PROBE_ENTRY} is missing: run "npm run build" first`);
  const started = performance.now();
  const { child, kill } = spawnOnStore(ws, state, STORE_PROBE_ENTRY, 'store probe');
  try {
    const text = await firstLine(child, 'the store probe', timeoutMs);
    return { readyMs: performance.now() - started, memory: JSON.parse(text) as ProcessMemory };
  } finally {
    await exited(child);
    await kill();
  }
}

/** The HTTP issuance reference (raw-insert-server.ts) running in its own process. */
export interface RawInsertServer {
  readonly url: string;
  /** SIGTERM (driver closed, PGlite's lock released) and wait for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts raw-insert-server.js on the state's store and waits for the port it prints. Throws
 * (after killing it) when it exits first or does not answer within `timeoutMs`.
 */
export async function spawnRawInsertServer(ws: BenchWorkspace, state: BenchState, timeoutMs = 60_000): Promise<RawInsertServer> {
  if (!existsSync(RAW_INSERT_SERVER_ENTRY)) throw new Error(`${RAW_INSERT_SERVER_ENTRY} is missing: run "npm run build" first`);
  const { child, kill } = spawnOnStore(ws, state, RAW_INSERT_SERVER_ENTRY, 'raw insert server');
  let port: number;
  try {
    port = (JSON.parse(await firstLine(child, 'the raw insert server', timeoutMs)) as { port: number }).port;
  } catch (err) {
    await kill();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= terminate(child, kill));
  return { url: `http://127.0.0.1:${port}`, stop };
}
