/**
 * Child process for the scale benchmark's reference: opens only the store, exactly as the
 * broker does (`openStore`: lock, open, migrations), answers the readiness query (`auditHead`,
 * as GET /readyz does), then prints its resident memory as one JSON line and exits. The time
 * from spawn to that line is what the store alone costs at start-up; the memory is what it
 * alone holds.
 *
 * Usage: node dist/bench/store-probe.js pglite <dataDir>
 *        STINT_BENCH_STORE_URL=<url> node dist/bench/store-probe.js postgres
 */
import { openStore } from '../adapters/store-sql/index.js';
import { processMemory } from './process-memory.js';

const [kind, dataDir] = process.argv.slice(2);
const url = process.env.STINT_BENCH_STORE_URL;
const store =
  kind === 'postgres' && url !== undefined
    ? await openStore({ kind: 'postgres', url })
    : kind === 'pglite' && dataDir !== undefined
      ? await openStore({ kind: 'pglite', dataDir })
      : undefined;
if (store === undefined) {
  process.stderr.write('usage: store-probe.js pglite <dataDir> | STINT_BENCH_STORE_URL=<url> store-probe.js postgres\n');
  process.exit(2);
}
await store.auditHead();
process.stdout.write(`${JSON.stringify(processMemory(process.pid))}\n`);
await store.close();
