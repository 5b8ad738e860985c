/**
 * An exclusive lock on a PGlite data directory. Two processes opening the same directory
 * corrupt it (electric-sql/pglite#1106), so the store refuses to open a directory another
 * live process holds.
 *
 * The lock is the file `<dataDir>.lock` holding JSON `{ pid, hostname, token }`. It is created
 * atomically with its content (written to a private temp file, then `link`ed into place, which
 * fails with EEXIST like O_EXCL), so nobody ever reads a half-written lock. A lock whose process
 * is gone on this host is stale and taken over; a lock from another host (or container) cannot
 * be checked and is always respected. Known limit: if the dead holder's pid now belongs to an
 * unrelated process, the lock reads as live and the error names that pid for the operator.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { StintError } from '../../core/errors.js';

/** Who holds a lock, as written in the lock file. */
export interface LockOwner {
  readonly pid: number;
  readonly hostname: string;
  /** Random per acquisition, so a process only ever removes its own lock. */
  readonly token: string;
}

/** A held lock. */
export interface DataDirLock {
  /** Absolute path of the lock file. */
  readonly path: string;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

/** Rounds of create / inspect / take over before giving up under heavy contention. */
const MAX_ATTEMPTS = 5;

/**
 * Tokens of the locks this process holds now. A lock with our pid but another token was left
 * by an earlier process that had the same pid: in a container the broker is often pid 1 on
 * every start, so "pid alive" alone would refuse forever after a crash.
 */
const heldTokens = new Set<string>();

/** The lock file that guards `dataDir`. */
export function lockPathFor(dataDir: string): string {
  return `${resolve(dataDir)}.lock`;
}

/** The lock file content for `owner`; the one format every writer uses. */
export function formatLockOwner(owner: LockOwner): string {
  return JSON.stringify({ pid: owner.pid, hostname: owner.hostname, token: owner.token });
}

/**
 * Takes the lock on `dataDir` (creating its parent directory if needed) or throws
 * `StintError('store_locked')` naming the live process that holds it.
 */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  const path = lockPathFor(dataDir);
  mkdirSync(dirname(path), { recursive: true });
  const me: LockOwner = { pid: process.pid, hostname: hostname(), token: randomBytes(16).toString('hex') };
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (tryCreate(path, formatLockOwner(me), me.token)) {
      heldTokens.add(me.token);
      return {
        path,
        release: () => {
          releaseIfOurs(path, me.token);
          heldTokens.delete(me.token);
        },
      };
    }
    const raw = readOrUndefined(path);
    if (raw === undefined) continue; // released between our attempt and the read: try again
    const holder = parseLockOwner(raw);
    if (holder !== undefined && isAlive(holder)) throw lockedError(dataDir, holder);
    takeOverStale(path, raw, me.token);
  }
  throw new StintError('store_locked', `data directory ${dataDir} is in use by another process; stop it or use another data directory`);
}

/** Parses lock file content; undefined when it is not a lock this module wrote. */
export function parseLockOwner(raw: string): LockOwner | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null) return undefined;
    const { pid, hostname: host, token } = value as Record<string, unknown>;
    if (!Number.isSafeInteger(pid) || (pid as number) <= 0 || typeof host !== 'string' || typeof token !== 'string') return undefined;
    return { pid: pid as number, hostname: host, token };
  } catch {
    return undefined;
  }
}

function lockedError(dataDir: string, holder: LockOwner): StintError {
  if (holder.hostname === hostname()) {
    return new StintError(
      'store_locked',
      `data directory ${dataDir} is in use by process ${holder.pid}; stop it or use another data directory`,
    );
  }
  return new StintError(
    'store_locked',
    `data directory ${dataDir} is in use by process ${holder.pid} on host ${holder.hostname}; stop it or use ` +
      `another data directory (if that host or container no longer exists, delete ${lockPathFor(dataDir)})`,
  );
}

/** Creates `path` with `content` atomically; false when it already exists. */
function tryCreate(path: string, content: string, token: string): boolean {
  const temp = `${path}.${token}.tmp`;
  writeFileSync(temp, content, { flag: 'wx', mode: 0o600 });
  try {
    linkSync(temp, path);
    return true;
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false;
    throw err;
  } finally {
    unlinkSync(temp);
  }
}

/**
 * Removes a stale lock whose content was `staleRaw`. The lock is first renamed aside so that,
 * if another process replaced it with a fresh lock in the meantime, that fresh lock is put back
 * instead of being deleted. (Only a third process creating a lock in the instant between the
 * rename and the put-back could still slip in; starting three brokers on one directory at the
 * same moment after a crash is not a case worth a heavier lock.)
 */
function takeOverStale(path: string, staleRaw: string, token: string): void {
  const aside = `${path}.${token}.stale`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return;
    throw err;
  }
  try {
    if (readOrUndefined(aside) !== staleRaw) linkBack(aside, path);
  } finally {
    unlinkSync(aside);
  }
}

function linkBack(aside: string, path: string): void {
  try {
    linkSync(aside, path);
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
  }
}

function releaseIfOurs(path: string, token: string): void {
  const raw = readOrUndefined(path);
  if (raw === undefined || parseLockOwner(raw)?.token !== token) return;
  try {
    unlinkSync(path);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
}

/**
 * True unless the holder is on this host and its process no longer exists (or it is this
 * process's pid but not one of this process's locks). Another host's pid cannot be checked, and
 * two containers sharing one volume are exactly the corruption this lock prevents.
 */
function isAlive(holder: LockOwner): boolean {
  if (holder.hostname !== hostname()) return true;
  if (holder.pid === process.pid) return heldTokens.has(holder.token);
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return !isErrno(err, 'ESRCH');
  }
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
