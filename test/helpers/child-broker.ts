/**
 * `stint serve` from the build, as a process of its own (what an operator runs), for tests that
 * kill a broker with SIGKILL: crash points (test/e2e/crash-safety.test.ts) and kills at random
 * moments under load (test/e2e/random-kill.test.ts).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './broker.js';

/** A running child broker. */
export interface ChildBroker {
  readonly url: string;
  /** Resolves with the signal or exit code when the process ends. */
  readonly exited: Promise<NodeJS.Signals | number | null>;
  /** SIGKILL: no shutdown work at all, as a crash or an OOM kill. */
  kill(): Promise<void>;
}

/** Spawns `stint --config <configPath> serve --port 0` with `env` and waits until it listens. */
export async function serveChild(configPath: string, env: NodeJS.ProcessEnv): Promise<ChildBroker> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist/cli/main.js'), '--config', configPath, 'serve', '--port', '0'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = /stint: listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    void exited.then((how) => reject(new Error(`broker exited (${String(how)}) before listening: ${out.slice(-2000)}`)));
  });
  return {
    url,
    exited,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
