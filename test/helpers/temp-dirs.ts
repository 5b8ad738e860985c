/**
 * Temporary folders for tests, removed when the test file's tests are done: the fixtures that
 * make key files, JWK Sets and configs used to leave one folder per call in the OS temp
 * directory (~90 per `npm test`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];

// Registered when a test file first imports this module: runs after all of that file's tests.
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A new folder under the OS temp directory named `<prefix>XXXXXX`, removed after the file's tests. */
export function tempDirForFile(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
