#!/usr/bin/env node
/**
 * The `stint` executable. Every failure ends here: one line on stderr and a documented exit
 * code (docs/cli.md), never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './config-path.js';
import { describeFailure } from './exit.js';
import { buildProgram } from './program.js';

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

// `stint grants | head`: once the reader has gone, the rest of the output has nowhere to go.
// That is not a failure of the command (whatever it did is done): stop quietly with its exit
// code, instead of Node's unhandled-error stack trace. Any other output error is one line.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  process.stderr.write(`stint: cannot write the output: ${e.message}\n`);
  process.exit(1);
});

try {
  await buildProgram(packageVersion()).parseAsync(process.argv);
} catch (e) {
  const failure = describeFailure(e);
  if (failure.line !== undefined) process.stderr.write(`${failure.line}\n`);
  process.exitCode = failure.exitCode;
}
