/**
 * Runs the built `stint` executable (dist/cli/main.js, built by `npm run build` / `pretest`)
 * as a child process, the way a user or a pipeline does, with a clean environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/broker.js';

export const CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js');

/** How one run ended. */
export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** STINT_TOKEN of the child. */
  readonly token?: string;
  /** STINT_URL of the child. */
  readonly url?: string;
  readonly cwd?: string;
  /** More environment of the child (which otherwise gets only PATH and the two above). */
  readonly env?: Readonly<Record<string, string>>;
}

/** A running CLI process and the promise of its end. */
export interface CliProcess {
  readonly child: ChildProcess;
  readonly done: Promise<CliRun>;
  /** Resolves with everything printed on stdout so far once it contains `text`. */
  stdoutContains(text: string): Promise<string>;
}

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does it in pretest)`);
}

export function startCli(args: readonly string[], opts: CliOptions = {}): CliProcess {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', ...opts.env };
  if (opts.url !== undefined) env.STINT_URL = opts.url;
  if (opts.token !== undefined) env.STINT_TOKEN = opts.token;
  const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { text: string; resolve: (s: string) => void }[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const w of waiters.filter((x) => stdout.includes(x.text))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(stdout);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    child,
    done,
    stdoutContains: (text) =>
      stdout.includes(text)
        ? Promise.resolve(stdout)
        : Promise.race([
            new Promise<string>((resolve) => waiters.push({ text, resolve })),
            done.then((run) => Promise.reject(new Error(`stint exited (${run.code}) before printing "${text}": ${run.stdout}${run.stderr}`))),
          ]),
  };
}

export function runCli(args: readonly string[], opts: CliOptions = {}): Promise<CliRun> {
  return startCli(args, opts).done;
}
