/**
 * `stint demo-setup`: prepares the example's PostgreSQL target when a PostgreSQL server is
 * reachable (issue #3, item 9), so `npm start` shows a real database role appear, work and
 * vanish. It creates a demo database with an `orders` table, two privileged roles, and the
 * broker's admin role with exactly the documented minimal privileges (CREATEROLE plus ADMIN on
 * the privileged roles: docs/connectors.md), and writes the admin URL to a private file that the
 * example configuration references (`file:`). Without a server it says so and succeeds: the
 * example then runs with its token targets only (the PostgreSQL target is `optional`).
 */
import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { print } from '../globals.js';

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DEFAULT_URL_FILE = join(PACKAGE_ROOT, '.stint', 'demo-pg-admin-url');
const DEMO_DB = 'stint_demo';
const ADMIN = 'demo_broker_admin';

async function connect(url: string): Promise<pg.Client | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch {
    await client.end().catch(() => undefined);
    return undefined;
  }
}

/** Registers `demo-setup`. */
export function registerDemoSetup(program: Command): void {
  program
    .command('demo-setup')
    .description('prepare the example PostgreSQL target if a PostgreSQL server is reachable (used by npm start)')
    .option('--superuser-url <url>', 'a PostgreSQL superuser connection for the one-time setup (env STINT_DEMO_PG_URL)', process.env.STINT_DEMO_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres')
    .option('--url-file <path>', 'where the broker admin URL is written (the example config reads it)', DEFAULT_URL_FILE)
    .action(async (opts: { superuserUrl: string; urlFile: string }) => {
      if (existsSync(opts.urlFile)) {
        const existing = await connect((await readFile(opts.urlFile, 'utf8')).trim());
        if (existing) {
          await existing.end();
          print(`demo-setup: the example PostgreSQL target (database ${DEMO_DB}) is ready`);
          return;
        }
      }
      const su = await connect(opts.superuserUrl);
      if (!su) {
        print('demo-setup: no PostgreSQL server reachable for the demo; the example runs with its token targets only');
        return;
      }
      try {
        const password = randomBytes(24).toString('base64url');
        if ((await su.query('SELECT 1 FROM pg_database WHERE datname = $1', [DEMO_DB])).rowCount === 0) await su.query(`CREATE DATABASE ${DEMO_DB}`);
        for (const role of ['demo_orders_read', 'demo_orders_write']) {
          if ((await su.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount === 0) await su.query(`CREATE ROLE ${role} NOLOGIN`);
        }
        // The documented minimal admin: CREATEROLE, not SUPERUSER, plus ADMIN on what it hands out.
        if ((await su.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [ADMIN])).rowCount === 0) {
          await su.query(`CREATE ROLE ${ADMIN} LOGIN CREATEROLE PASSWORD ${pg.escapeLiteral(password)}`);
        } else {
          await su.query(`ALTER ROLE ${ADMIN} LOGIN CREATEROLE NOSUPERUSER PASSWORD ${pg.escapeLiteral(password)}`);
        }
        await su.query(`GRANT demo_orders_read, demo_orders_write TO ${ADMIN} WITH ADMIN OPTION`);
        const url = new URL(opts.superuserUrl);
        url.username = ADMIN;
        url.password = password;
        url.pathname = `/${DEMO_DB}`;
        const superuserOnDemo = new URL(opts.superuserUrl);
        superuserOnDemo.pathname = `/${DEMO_DB}`;
        const demo = await connect(superuserOnDemo.toString());
        if (!demo) throw new Error(`cannot open database ${DEMO_DB}`);
        try {
          await demo.query(`CREATE TABLE IF NOT EXISTS orders (id int PRIMARY KEY, item text NOT NULL)`);
          await demo.query(`INSERT INTO orders VALUES (1, 'first order'), (2, 'second order') ON CONFLICT DO NOTHING`);
          await demo.query(`GRANT SELECT ON orders TO demo_orders_read`);
          await demo.query(`GRANT SELECT, INSERT, UPDATE ON orders TO demo_orders_write`);
        } finally {
          await demo.end();
        }
        await mkdir(dirname(opts.urlFile), { recursive: true, mode: 0o700 });
        await writeFile(opts.urlFile, `${url.toString()}\n`, { mode: 0o600 });
        print(`demo-setup: PostgreSQL target ready: database ${DEMO_DB}, broker admin ${ADMIN} (CREATEROLE, no SUPERUSER)`);
      } finally {
        await su.end();
      }
    });
}
