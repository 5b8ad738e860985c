/**
 * Child process for the HTTP issuance benchmark's reference: the least an HTTP service that
 * durably records a request can do. `node:http`, keep-alive; `POST /rows` with a JSON body is
 * parsed (`JSON.parse`, a string `task` required, as a service checks its input), one row is
 * written with INSERT+COMMIT through the store's own driver (raw-insert.ts, the same write as
 * the in-process reference), and the answer is `201 {"id": ...}`. Anything else is 404/400.
 * It runs on V8's default flags (the broker runs WebAssembly on the baseline tier for memory),
 * so it is the faster of the two setups: a strict reference.
 *
 * Prints `{"port": N}` as one line once it listens on 127.0.0.1; exits on SIGTERM after closing
 * the driver.
 *
 * Usage: node dist/bench/raw-insert-server.js pglite <dataDir>
 *        STINT_BENCH_STORE_URL=<url> node dist/bench/raw-insert-server.js postgres
 */
import http from 'node:http';
import { insertRawRow, issuedGrantDoc, openRawInsertDriver, type RawInsertStore } from './raw-insert.js';

const [kind, dataDir] = process.argv.slice(2);
const url = process.env.STINT_BENCH_STORE_URL;
const store: RawInsertStore | undefined =
  kind === 'postgres' && url !== undefined ? { kind, url } : kind === 'pglite' && dataDir !== undefined ? { kind, dataDir } : undefined;
if (store === undefined) {
  process.stderr.write('usage: raw-insert-server.js pglite <dataDir> | STINT_BENCH_STORE_URL=<url> raw-insert-server.js postgres\n');
  process.exit(2);
}

const driver = await openRawInsertDriver(store);
const doc = issuedGrantDoc();

function answer(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  if (req.method !== 'POST' || req.url !== '/rows') {
    req.resume();
    answer(res, 404, '{"error":"not found"}');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let task: unknown;
    try {
      task = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { task?: unknown }).task;
    } catch {
      task = undefined;
    }
    if (typeof task !== 'string') {
      answer(res, 400, '{"error":"a JSON body with a string task is required"}');
      return;
    }
    insertRawRow(driver, doc).then(
      (id) => answer(res, 201, JSON.stringify({ id })),
      (err: unknown) => answer(res, 500, JSON.stringify({ error: err instanceof Error ? err.message : String(err) })),
    );
  });
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});

process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void driver.close().then(() => process.exit(0));
});
