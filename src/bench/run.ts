/**
 * `npm run bench`: runs every benchmark in turn, each bounded in time, and prints one table
 * (report.ts) plus the machine it ran on. A benchmark that breaks is reported as ERROR and the
 * others still run; its temporary state, child processes and databases are removed when it
 * ends, whatever happens (also on Ctrl-C). Exit code 1 when a benchmark broke; goal FAILs are
 * results, not errors.
 *
 * Each benchmark runs in a process of its own (this file, with STINT_BENCH_PHASE set), as each
 * broker in production runs on one store: run one after the other in one process, the second
 * store's in-process issuance measured ~20% slower than alone (its code paths had been warmed up
 * on the other store's driver). The processes share one migrated PGlite template.
 *
 * BENCH_QUICK=1 runs everything with small numbers (minutes -> seconds) for iterating on the
 * harness; its figures say nothing about the goals. BENCH_ONLY=<text> runs only the benchmarks
 * whose name contains it (e.g. `audit`, `PGlite`). BENCH_JSON=<file> also writes the raw results.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { benchAuditVerify } from './audit-verify.js';
import { benchConnectors } from './connectors.js';
import { benchIntrospection } from './introspection.js';
import { benchIssuance } from './issuance.js';
import { withTimeout } from './measure.js';
import { auditRows, connectorRows, errorRow, formatTable, introspectionRows, issuanceRows, scaleRows, tokenExchangeRows, type ReportRow } from './report.js';
import { benchScale } from './scale.js';
import { benchTokenExchange } from './token-exchange.js';
import { Cleanup } from './cleanup.js';
import { createWorkspace, postgresServerVersion, type BenchWorkspace } from './setup.js';

/** One benchmark of the run. */
interface Phase {
  readonly name: string;
  readonly timeoutMs: number;
  run(ws: BenchWorkspace): Promise<{ result: unknown; rows: ReportRow[] }>;
}

const quick = process.env.BENCH_QUICK === '1';
const CONCURRENCY = 8;
const MINUTE = 60_000;

/** Sizes: full mode is what docs/benchmarks.md reports; quick mode only exercises the harness. */
const plan = quick
  ? { grants: 100, issuanceRounds: 2, issuanceWarmUpMs: 0, introspections: 500, exchanges: 100, scaleSizes: [1000, 5000], postgresScaleSizes: [5000], loadGrants: 50, listPages: 3, starts: 2, auditEvents: 5000, provisionGrants: 20, lagGrants: 50, liveSessions: 5, profileRoles: 20 }
  : {
      // Per party over all rounds: 5 rounds of 1,000 (measure.ts `measureInterleaved`).
      grants: 5000,
      issuanceRounds: 5,
      // Measured in session 5: in-process issuance kept speeding up for ~3 s (the first 3,000
      // grants 15-20% slower than the next 9,000); the raw reference gets the same warm-up.
      issuanceWarmUpMs: 3000,
      introspections: 20_000,
      exchanges: 2000,
      scaleSizes: [100_000, 1_000_000],
      postgresScaleSizes: [1_000_000],
      loadGrants: 1000,
      listPages: 20,
      starts: 3,
      auditEvents: 200_000,
      provisionGrants: 200,
      lagGrants: 1000,
      liveSessions: 20,
      profileRoles: 200,
    };

const phases: Phase[] = [
  {
    name: 'issuance, PGlite',
    timeoutMs: 3 * MINUTE,
    run: async (ws) => {
      const r = await benchIssuance(ws, { store: 'pglite', grants: plan.grants, rounds: plan.issuanceRounds, concurrency: CONCURRENCY, warmUpMs: plan.issuanceWarmUpMs });
      return { result: r, rows: issuanceRows(r) };
    },
  },
  {
    name: 'issuance, PostgreSQL',
    timeoutMs: 3 * MINUTE,
    run: async (ws) => {
      const r = await benchIssuance(ws, { store: 'postgres', grants: plan.grants, rounds: plan.issuanceRounds, concurrency: CONCURRENCY, warmUpMs: plan.issuanceWarmUpMs });
      return { result: r, rows: issuanceRows(r) };
    },
  },
  {
    name: 'introspection',
    timeoutMs: 3 * MINUTE,
    run: async (ws) => {
      const r = await benchIntrospection(ws, { requests: plan.introspections, concurrency: CONCURRENCY });
      return { result: r, rows: introspectionRows(r) };
    },
  },
  {
    name: 'token exchange, PGlite',
    timeoutMs: 3 * MINUTE,
    run: async (ws) => {
      const r = await benchTokenExchange(ws, { exchanges: plan.exchanges, concurrency: CONCURRENCY });
      return { result: r, rows: tokenExchangeRows(r) };
    },
  },
  {
    name: 'scale, PGlite',
    timeoutMs: 6 * MINUTE,
    run: async (ws) => {
      const r = await benchScale(ws, { store: 'pglite', sizes: plan.scaleSizes, loadGrants: plan.loadGrants, listPages: plan.listPages, starts: plan.starts, concurrency: CONCURRENCY });
      return { result: r, rows: scaleRows(r) };
    },
  },
  {
    name: 'scale, PostgreSQL',
    timeoutMs: 4 * MINUTE,
    run: async (ws) => {
      const r = await benchScale(ws, {
        store: 'postgres',
        sizes: plan.postgresScaleSizes,
        loadGrants: plan.loadGrants,
        listPages: plan.listPages,
        starts: plan.starts,
        concurrency: CONCURRENCY,
      });
      return { result: r, rows: scaleRows(r) };
    },
  },
  {
    name: 'audit verify',
    timeoutMs: 3 * MINUTE,
    run: async (ws) => {
      const r = await benchAuditVerify(ws, { events: plan.auditEvents, batch: 1000 });
      return { result: r, rows: auditRows(r) };
    },
  },
  {
    name: 'connectors',
    timeoutMs: 3 * MINUTE,
    run: async (ws) => {
      const r = await benchConnectors(ws, { provisionGrants: plan.provisionGrants, lagGrants: plan.lagGrants, liveSessions: plan.liveSessions, profileRoles: plan.profileRoles });
      return { result: r, rows: connectorRows(r) };
    },
  },
];

function pgliteVersion(): string {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  return (JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }).version;
}

async function machine(): Promise<Record<string, string>> {
  return {
    date: new Date().toISOString(),
    cpus: `${os.availableParallelism()} x ${os.cpus()[0]?.model ?? 'unknown'}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    postgresql: await postgresServerVersion().catch((e: unknown) => `unavailable (${e instanceof Error ? e.message : String(e)})`),
    pglite: pgliteVersion(),
    os: `${os.type()} ${os.release()}`,
    loadAverageAtStart: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}

const log = (text: string): void => {
  process.stderr.write(`[bench] ${text}\n`);
};

/** Set in a benchmark's own process: the phase to run, where to write its outcome, the template. */
const PHASE_ENV = 'STINT_BENCH_PHASE';
const PHASE_OUT_ENV = 'STINT_BENCH_PHASE_OUT';
const TEMPLATE_ENV = 'STINT_BENCH_PGLITE_TEMPLATE';

/** What a phase's process hands back. */
interface PhaseOutcome {
  readonly result: unknown;
  readonly rows: ReportRow[];
}

/** In a phase's process: runs that one phase, writes its outcome, exit code 1 when it broke. */
async function runPhaseHere(name: string, outFile: string): Promise<number> {
  const phase = phases.find((p) => p.name === name);
  if (phase === undefined) throw new Error(`no benchmark named "${name}"`);
  const ws = createWorkspace(new Cleanup(), process.env[TEMPLATE_ENV]);
  const abort = (signal: NodeJS.Signals): void => {
    log(`${phase.name}: ${signal}, cleaning up`);
    void ws.cleanup.runAll().then(() => process.exit(130));
  };
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  let outcome: PhaseOutcome;
  let code = 0;
  try {
    outcome = await withTimeout(phase.run(ws), phase.timeoutMs, phase.name);
  } catch (err) {
    code = 1;
    outcome = { result: { error: err instanceof Error ? err.message : String(err) }, rows: [errorRow(phase.name, err)] };
    log(`${phase.name} FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    const failed = await ws.cleanup.runAll();
    for (const f of failed) log(`cleanup failed: ${f}`);
  }
  writeFileSync(outFile, JSON.stringify(outcome));
  return code;
}

/** Runs one phase in a fresh process; its outcome, or an ERROR row when the process broke. */
function runPhaseProcess(phase: Phase, root: BenchWorkspace, template: string, onChild: (kill: () => void) => void): Promise<PhaseOutcome> {
  const outFile = join(root.root, `${phase.name.replace(/[^a-z0-9]+/gi, '-')}.json`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
      env: { ...process.env, [PHASE_ENV]: phase.name, [PHASE_OUT_ENV]: outFile, [TEMPLATE_ENV]: template },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    // The phase bounds itself; this only catches a process that hangs while cleaning up.
    const timer = setTimeout(() => child.kill('SIGTERM'), phase.timeoutMs + 2 * MINUTE);
    onChild(() => child.kill('SIGTERM'));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (existsSync(outFile)) {
        resolve(JSON.parse(readFileSync(outFile, 'utf8')) as PhaseOutcome);
        return;
      }
      const err = new Error(`the benchmark's process ended (${code ?? signal}) without a result`);
      resolve({ result: { error: err.message }, rows: [errorRow(phase.name, err)] });
    });
  });
}

async function main(): Promise<number> {
  const root = createWorkspace(new Cleanup());
  let killCurrent: (() => void) | undefined;
  const abort = (signal: NodeJS.Signals): void => {
    log(`${signal}: cleaning up`);
    killCurrent?.();
    void (async () => {
      await root.cleanup.runAll();
      process.exit(130);
    })();
  };
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);

  const info = await machine();
  const rows: ReportRow[] = [];
  const results: Record<string, unknown> = {};
  let broken = 0;
  const started = performance.now();
  log(`${quick ? 'QUICK mode (figures not meaningful)' : 'full run'}; state under ${root.root}`);
  try {
    const template = await root.pgliteTemplate();
    const only = process.env.BENCH_ONLY;
    for (const phase of phases.filter((p) => only === undefined || p.name.includes(only))) {
      const phaseStarted = performance.now();
      log(`${phase.name} ...`);
      const outcome = await runPhaseProcess(phase, root, template, (kill) => (killCurrent = kill));
      killCurrent = undefined;
      results[phase.name] = outcome.result;
      rows.push(...outcome.rows);
      if (outcome.rows.some((r) => r.verdict === 'ERROR')) broken++;
      else log(`${phase.name} done in ${((performance.now() - phaseStarted) / 1000).toFixed(1)} s`);
    }
  } finally {
    const failed = await root.cleanup.runAll();
    for (const f of failed) log(`cleanup failed: ${f}`);
  }
  info.loadAverageAtEnd = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  info.totalSeconds = ((performance.now() - started) / 1000).toFixed(0);

  process.stdout.write(`\n${formatTable(rows)}\n\n`);
  for (const [key, value] of Object.entries(info)) process.stdout.write(`${key}: ${value}\n`);
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, `${JSON.stringify({ quick, machine: info, results }, null, 2)}\n`);
  return broken > 0 ? 1 : 0;
}

const phaseName = process.env[PHASE_ENV];
const code = phaseName !== undefined ? await runPhaseHere(phaseName, process.env[PHASE_OUT_ENV] ?? '') : await main();
// A benchmark that timed out may still hold handles; everything it made is already removed.
process.stdout.write('', () => process.exit(code));
