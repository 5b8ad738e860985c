/**
 * Where a worker thread's compiled entry is. Node starts workers from JavaScript files only; run
 * from the TypeScript sources (vitest), a module finds no `.js` beside it and uses the build's
 * copy (`npm test` builds first, as `npm start` does), so the tests run the same threads as the
 * broker.
 */
import { existsSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The path of `entry` (a `.js` file name beside the module at `moduleUrl`, e.g. `./x-worker.js`),
 * from the build when `moduleUrl` is a source file; `undefined` when neither exists.
 */
export function workerFile(entry: string, moduleUrl: string): string | undefined {
  const beside = fileURLToPath(new URL(entry, moduleUrl));
  if (existsSync(beside)) return beside;
  const source = `${sep}src${sep}`;
  const at = beside.lastIndexOf(source);
  if (!moduleUrl.endsWith('.ts') || at < 0) return undefined;
  const built = `${beside.slice(0, at)}${sep}dist${sep}${beside.slice(at + source.length)}`;
  return existsSync(built) ? built : undefined;
}

/** The process's Node options, less those a worker thread refuses (`node --input-type=module -e ...`). */
export function workerExecArgv(): string[] {
  return process.execArgv.filter((arg) => !arg.startsWith('--input-type'));
}
