/**
 * The built `stint` entry runs as an executable, the way `npx stint` and an installed bin run it
 * (shebang and mode): a fresh `npm run build` writes a new file, so the build sets the mode.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/broker.js';
import { CLI } from './run-cli.js';

describe('the stint executable', () => {
  it('is executable and runs by its shebang', () => {
    expect(statSync(CLI).mode & 0o111).toBe(0o111);
    expect(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(execFileSync(CLI, ['--version'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } }).trim()).toBe(version);
  });
});
