/**
 * A private PostgreSQL cluster for the connector tests, started from the server binaries on
 * this machine (initdb + pg_ctl) in a temporary directory, on a free loopback port.
 *
 * Why not the shared server at 127.0.0.1:5432: its pg_hba.conf authenticates 127.0.0.1 by
 * `trust`, so PostgreSQL checks neither passwords nor VALID UNTIL there, and the tests about
 * the issued password (an old password stops working, login after expiry fails) could not
 * fail. This cluster uses scram-sha-256 for every login. It also keeps the cluster-wide roles
 * the tests create away from other test files, and can be stopped and started to simulate an
 * outage.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A running private cluster. */
export interface PrivateCluster {
  readonly port: number;
  /** Superuser `postgres` with its password, database `postgres`. */
  readonly superuserUrl: string;
  /** The server's log file (stderr of the postmaster). */
  readonly logFile: string;
  /** A URL for `user`/`password` on `database` of this cluster. */
  urlFor(user: string, password: string, database: string): string;
  /** Stops the server (fast shutdown: sessions are ended). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it and deletes its directory. Idempotent. */
  destroy(): Promise<void>;
}

/** The directory holding initdb and pg_ctl: PATH first, then Debian's versioned layout. */
function binDir(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const dir = join(root, version, 'bin');
    if (existsSync(join(dir, 'initdb'))) return dir;
  }
  throw new Error('PostgreSQL server binaries (initdb, pg_ctl) were not found; install the postgresql package');
}

/** A TCP port nobody listens on right now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** PostgreSQL refuses to run as root: as root, run its tools as the `postgres` OS user. */
async function runner(): Promise<{ exec: (bin: string, args: string[]) => Promise<void>; uid?: number; gid?: number }> {
  const bin = binDir();
  if (process.getuid?.() !== 0) return { exec: async (name, args) => void (await run(join(bin, name), args)) };
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  return { exec: async (name, args) => void (await run('runuser', ['-u', 'postgres', '--', join(bin, name), ...args])), uid, gid };
}

/** Creates, configures and starts a new cluster. */
export async function startPrivateCluster(): Promise<PrivateCluster> {
  const { exec, uid, gid } = await runner();
  const root = mkdtempSync(join(tmpdir(), 'stint-pgcluster-'));
  const data = join(root, 'data');
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(root, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (uid !== undefined && gid !== undefined) {
    chownSync(root, uid, gid);
    chownSync(pwfile, uid, gid);
  }
  const port = await freePort();
  const options = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`;
  const start = (): Promise<void> => exec('pg_ctl', ['-D', data, '-o', options, '-l', join(root, 'log'), '-w', '-t', '60', 'start']);
  let destroyed = false;
  try {
    await exec('initdb', ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-sync', '--no-instructions']);
    await start();
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  const urlFor = (user: string, pw: string, database: string): string =>
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(pw)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  return {
    port,
    superuserUrl: urlFor('postgres', password, 'postgres'),
    logFile: join(root, 'log'),
    urlFor,
    stop: () => exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
    start,
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
