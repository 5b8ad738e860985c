/**
 * `stint ... | head`: when the reader of stdout goes away, the CLI stops quietly with the
 * command's exit code, not with Node's unhandled EPIPE stack trace.
 */
import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI } from './run-cli.js';

beforeAll(assertBuilt);

describe('stdout closed by its reader', () => {
  it('ends with exit code 0 and no stack trace', async () => {
    const child = spawn(process.execPath, [CLI, '--help'], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    // Gone before the CLI has started, so its first write finds no reader.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE|Unhandled|at /);
    expect(code).toBe(0);
  });
});
