/**
 * The PGlite data directory lock (electric-sql/pglite#1106: two processes on one directory
 * corrupt it). Uses real processes and real files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { openStore } from '../../src/adapters/store-sql/index.js';
import { acquireDataDirLock, formatLockOwner, lockPathFor, parseLockOwner } from '../../src/adapters/store-sql/lock.js';
import { freshPgliteDataDir } from '../helpers/stores.js';
import { makeGrant, rejectsWith } from './fixtures.js';

/**
 * A separate live process that holds the lock: it writes the lock file in the module's format
 * (its own pid) with O_EXCL, reports "ready", and stays alive until killed.
 */
const HOLD_LOCK = `
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
writeFileSync(process.env.LOCK_PATH, JSON.stringify({ pid: process.pid, hostname: hostname(), token: 'child' }), { flag: 'wx' });
process.stdout.write('ready\\n');
setInterval(() => undefined, 60_000);
`;

async function startLockHolder(lockPath: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', HOLD_LOCK], {
    env: { ...process.env, LOCK_PATH: lockPath },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  expect(chunk.toString()).toBe('ready\n');
  return child;
}

/** A migrated PGlite data directory, removed after the test. */
async function dataDir(): Promise<string> {
  const dir = await freshPgliteDataDir();
  onTestFinished(() => dir.cleanup());
  return dir.dataDir;
}

/** A data directory path for tests that only exercise the lock file and never open PGlite. */
function lockOnlyDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'stint-lock-'));
  onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  return join(root, 'data');
}

describe('PGlite data directory lock', () => {
  it('refuses a directory held by another live process, and takes it over once that process is dead', async () => {
    const dir = await dataDir();
    const lockPath = lockPathFor(dir);
    const child = await startLockHolder(lockPath);
    expect(parseLockOwner(readFileSync(lockPath, 'utf8'))?.pid).toBe(child.pid);

    const err = await rejectsWith(openStore({ kind: 'pglite', dataDir: dir }), 'store_locked');
    expect(err.detail).toBe(
      `data directory ${dir} is in use by process ${child.pid}; stop it or use another data directory`,
    );
    expect(parseLockOwner(readFileSync(lockPath, 'utf8'))?.pid).toBe(child.pid);

    child.kill('SIGKILL');
    await once(child, 'exit');
    const store = await openStore({ kind: 'pglite', dataDir: dir });
    try {
      expect(parseLockOwner(readFileSync(lockPath, 'utf8'))?.pid).toBe(process.pid);
      const grant = makeGrant();
      await store.transaction((tx) => tx.insertGrant(grant));
      expect(await store.getGrant(grant.id)).toStrictEqual(grant);
    } finally {
      await store.close();
    }
    expect(existsSync(lockPath)).toBe(false);
  });

  it('refuses a second open in the same process until the first one closes', async () => {
    const dir = await dataDir();
    const first = await openStore({ kind: 'pglite', dataDir: dir });
    const err = await rejectsWith(openStore({ kind: 'pglite', dataDir: dir }), 'store_locked');
    expect(err.detail).toContain(`in use by process ${process.pid}`);
    await first.close();
    const second = await openStore({ kind: 'pglite', dataDir: dir });
    await second.close();
  });

  it('respects a lock from another host, which it cannot check', async () => {
    const dir = lockOnlyDir();
    writeFileSync(lockPathFor(dir), formatLockOwner({ pid: 4242, hostname: `not-${hostname()}`, token: 't' }));
    const err = await rejectsWith(openStore({ kind: 'pglite', dataDir: dir }), 'store_locked');
    expect(err.detail).toContain(`process 4242 on host not-${hostname()}`);
    expect(err.detail).toContain(`delete ${lockPathFor(dir)}`);
    expect(existsSync(dir)).toBe(false);
  });

  it('takes over a lock left by an earlier process that had the same pid (pid 1 in a container)', () => {
    const dir = lockOnlyDir();
    writeFileSync(lockPathFor(dir), formatLockOwner({ pid: process.pid, hostname: hostname(), token: 'previous-run' }));
    const lock = acquireDataDirLock(dir);
    expect(parseLockOwner(readFileSync(lock.path, 'utf8'))?.token).not.toBe('previous-run');
    lock.release();
  });

  it('reports a data directory it cannot create as store_unavailable', async () => {
    const root = lockOnlyDir();
    mkdirSync(dirname(root), { recursive: true });
    writeFileSync(root, 'a file, not a directory');
    const err = await rejectsWith(openStore({ kind: 'pglite', dataDir: join(root, 'data') }), 'store_unavailable');
    expect(err.internalReason).toMatch(/ENOTDIR|EEXIST/);
  });

  it('takes over a stale lock from a dead process on this host', () => {
    const dir = lockOnlyDir();
    writeFileSync(lockPathFor(dir), formatLockOwner({ pid: 2 ** 22 + 17, hostname: hostname(), token: 'dead' }));
    const lock = acquireDataDirLock(dir);
    expect(parseLockOwner(readFileSync(lock.path, 'utf8'))?.pid).toBe(process.pid);
    lock.release();
  });

  it('takes over an unreadable lock file', () => {
    const dir = lockOnlyDir();
    writeFileSync(lockPathFor(dir), 'garbage');
    const lock = acquireDataDirLock(dir);
    expect(parseLockOwner(readFileSync(lock.path, 'utf8'))?.pid).toBe(process.pid);
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
  });

  it('never releases a lock that is no longer its own', () => {
    const dir = lockOnlyDir();
    const lock = acquireDataDirLock(dir);
    const replacement = formatLockOwner({ pid: process.pid, hostname: hostname(), token: 'someone-else' });
    writeFileSync(lock.path, replacement);
    lock.release();
    expect(readFileSync(lock.path, 'utf8')).toBe(replacement);
  });
});
