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

try {
  await buildProgram(packageVersion()).parseAsync(process.argv);
} catch (e) {
  const failure = describeFailure(e);
  if (failure.line !== undefined) process.stderr.write(`${failure.line}\n`);
  process.exitCode = failure.exitCode;
}
