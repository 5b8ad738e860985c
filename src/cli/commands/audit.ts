/**
 * `stint audit verify | export | checkpoint`: checking the tamper-evident log from outside the
 * broker. Only a checkpoint kept outside the broker's database reveals a truncated or rolled
 * back log (REFERENCE.md section 5), so `checkpoint` saves one and `verify` takes them back.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile, open } from 'node:fs/promises';
import { once } from 'node:events';
import type { Command } from 'commander';
import type { AuditSource, AuditVerifyReport } from '../../audit/verify.js';
import { verifyAuditLogInWorker } from '../../audit/verify-parallel.js';
import type { StintClient } from '../../client/client.js';
import type { CheckpointJson } from '../../client/types.js';
import { AUDIT_PAGE_LIMIT, brokerAuditSource, openExportFile, openStoreAuditSource } from '../audit-sources.js';
import { CliError } from '../exit.js';
import { clientOf, globalsOf, print, printJson, type GlobalOptions } from '../globals.js';

/** Said whenever the verifier key came from the broker being verified. */
export const SERVER_KEY_WARNING =
  'verifier key: taken from the server. A key obtained from the server is only as trustworthy as the server: ' +
  'pass --key <vkey> with the key you saved earlier (`stint audit checkpoint` prints it).';

interface VerifyOptions {
  checkpoint: string[];
  key?: string;
  fromFile?: string;
  store?: string;
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** `--key` is the verifier key itself, or a file holding it. */
async function verifierKeyOption(value: string): Promise<string> {
  return existsSync(value) ? (await readText(value, 'verifier key file')).trim() : value.trim();
}

/** The checkpoints to check and a label for each, in the order the verifier numbers them. */
interface CheckpointSet {
  readonly notes: string[];
  readonly labels: string[];
}

async function savedCheckpoints(files: readonly string[]): Promise<CheckpointSet> {
  const set: CheckpointSet = { notes: [], labels: [] };
  for (const file of files) {
    set.notes.push(await readText(file, 'checkpoint'));
    set.labels.push(file);
  }
  return set;
}

async function verify(opts: VerifyOptions, globals: GlobalOptions): Promise<void> {
  if (opts.store !== undefined && opts.fromFile !== undefined) throw new CliError('--store and --from-file are two sources of the log: pass one');
  const checkpoints = await savedCheckpoints(opts.checkpoint);
  const exportCheckpoint = opts.fromFile !== undefined ? `${opts.fromFile}.checkpoint` : undefined;
  if (exportCheckpoint !== undefined && existsSync(exportCheckpoint) && !opts.checkpoint.includes(exportCheckpoint)) {
    checkpoints.notes.push(await readText(exportCheckpoint, 'checkpoint'));
    checkpoints.labels.push(exportCheckpoint);
  }
  const keyFromOption = opts.key !== undefined ? await verifierKeyOption(opts.key) : undefined;
  if (opts.fromFile !== undefined && keyFromOption === undefined && globals.token === undefined) {
    throw new CliError('verifying an export needs the verifier key: pass --key <vkey> (or a token, to ask the server for its key)');
  }
  if (opts.store !== undefined && keyFromOption === undefined) {
    // A key read from the same store would prove nothing about it.
    throw new CliError('verifying a store needs the verifier key: pass --key <vkey> (stint audit checkpoint prints it)');
  }
  // The server is asked for its checkpoint when its log is verified (its current checkpoint is
  // one more check), or when there is no other source for the verifier key.
  const live = opts.fromFile === undefined && opts.store === undefined;
  const server = live || keyFromOption === undefined ? await clientOf(globals).auditCheckpoint() : undefined;
  if (live && server !== undefined) {
    checkpoints.notes.push(server.note);
    checkpoints.labels.push(`the server's current checkpoint (size ${server.size})`);
  }
  const verifierKey = keyFromOption ?? server?.verifierKey;

  let source: AuditSource;
  let close = async (): Promise<void> => {};
  if (opts.store !== undefined) {
    const store = await openStoreAuditSource(opts.store);
    source = store;
    close = () => store.close();
    try {
      // The store's newest signed checkpoint is one more check, like the server's current one.
      const stored = await store.latestCheckpoint();
      if (stored !== undefined) {
        checkpoints.notes.push(stored.note);
        checkpoints.labels.push(`the store's latest checkpoint (size ${stored.size})`);
      }
    } catch (e) {
      await close();
      throw e;
    }
  } else if (opts.fromFile !== undefined) {
    const file = await openExportFile(opts.fromFile);
    source = file;
    close = () => file.close();
  } else {
    source = brokerAuditSource(clientOf(globals));
  }
  let report: AuditVerifyReport;
  try {
    // The checks run on a worker thread while this one fetches and parses the next page, or
    // reads the next batch from the store (issue #2, item 13); the report is verifyAuditLog's.
    report = await verifyAuditLogInWorker(source, {
      checkpoints: checkpoints.notes,
      ...(verifierKey !== undefined ? { verifierKey } : {}),
      ...(server !== undefined ? { origin: server.origin } : {}),
    });
  } finally {
    await close();
  }

  if (globals.json) {
    printJson({ ...report, keySource: keyFromOption !== undefined ? 'option' : 'server', checkpoints: checkpoints.labels });
  } else {
    const lines = [`checkpoints: ${checkpoints.labels.length === 0 ? 'none' : checkpoints.labels.join(', ')}`];
    if (keyFromOption === undefined) lines.push(SERVER_KEY_WARNING);
    for (const p of report.problems) {
      const where = p.kind === 'bad_checkpoint' ? `checkpoint ${checkpoints.labels[p.index] ?? p.index}` : `index ${p.index}`;
      lines.push(`${p.kind} at ${where}: ${p.detail}`);
    }
    if (report.ok) {
      lines.push(`OK: ${report.size} events, root ${report.rootHash}, ${report.checkpointsChecked} checkpoints consistent`);
    } else {
      lines.push(report.firstBadIndex !== undefined ? `FAIL: first bad index ${report.firstBadIndex}` : `FAIL: ${report.problems.length} problem(s)`);
    }
    print(lines.join('\n'));
  }
  if (!report.ok) process.exitCode = 1;
}

/** Writes to stdout, waiting when the reader is slower than the broker. */
async function writeStdout(chunk: string): Promise<void> {
  if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
}

/**
 * Streams the first `size` entries as JSONL to `write`: exactly the entries the checkpoint
 * covers, so the export and its checkpoint describe the same log even if it grows meanwhile.
 */
async function exportEntries(client: StintClient, size: number, write: (chunk: string) => Promise<unknown>): Promise<number> {
  let from = 0;
  while (from < size) {
    const page = await client.audit(from, Math.min(AUDIT_PAGE_LIMIT, size - from));
    if (page.items.length === 0) throw new CliError(`the server's log ended at ${from} entries, but its checkpoint covers ${size}`);
    await write(page.items.map((item) => `${JSON.stringify(item)}\n`).join(''));
    from += page.items.length;
  }
  return from;
}

async function exportLog(opts: { out?: string }, globals: GlobalOptions): Promise<void> {
  const client = clientOf(globals);
  const checkpoint = await client.auditCheckpoint();
  if (opts.out === undefined) {
    await exportEntries(client, checkpoint.size, writeStdout);
    return;
  }
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(opts.out, 'w');
  } catch (e) {
    throw new CliError(`cannot write ${opts.out}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let count: number;
  try {
    count = await exportEntries(client, checkpoint.size, (chunk) => handle.write(chunk));
  } finally {
    await handle.close();
  }
  const checkpointFile = `${opts.out}.checkpoint`;
  await saveCheckpoint(checkpoint, checkpointFile);
  if (globals.json) {
    printJson({ events: count, file: opts.out, checkpointFile, size: checkpoint.size, rootHash: checkpoint.rootHash, verifierKey: checkpoint.verifierKey });
  } else {
    print(
      [
        `wrote ${count} events to ${opts.out}`,
        `wrote the signed checkpoint (size ${checkpoint.size}, root ${checkpoint.rootHash}) to ${checkpointFile}`,
        `verify later with: stint audit verify --from-file ${opts.out} --key '${checkpoint.verifierKey}'`,
      ].join('\n'),
    );
  }
}

async function saveCheckpoint(checkpoint: CheckpointJson, file: string): Promise<void> {
  try {
    await writeFile(file, checkpoint.note.endsWith('\n') ? checkpoint.note : `${checkpoint.note}\n`);
  } catch (e) {
    throw new CliError(`cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

async function checkpointCommand(opts: { out?: string }, globals: GlobalOptions): Promise<void> {
  const checkpoint = await clientOf(globals).auditCheckpoint();
  if (opts.out !== undefined) await saveCheckpoint(checkpoint, opts.out);
  if (globals.json) {
    printJson({ ...checkpoint, ...(opts.out !== undefined ? { file: opts.out } : {}) });
  } else if (opts.out !== undefined) {
    print(
      [
        `saved the signed checkpoint (size ${checkpoint.size}, root ${checkpoint.rootHash}) to ${opts.out}`,
        `verifier key (keep it with the checkpoint): ${checkpoint.verifierKey}`,
      ].join('\n'),
    );
  } else {
    process.stdout.write(checkpoint.note.endsWith('\n') ? checkpoint.note : `${checkpoint.note}\n`);
  }
}

/** Registers `audit` and its subcommands. */
export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('verify, export and checkpoint the tamper-evident audit log (auditors, admins)');
  // Without this, `stint audit` alone would print the whole help to stderr (not one line).
  audit.usage('<verify|export|checkpoint> [options]').argument('[command]').action((name: string | undefined) => {
    throw new CliError(`${name === undefined ? 'audit needs a subcommand' : `unknown audit command '${name}'`}: verify, export or checkpoint (see stint audit --help)`);
  });

  audit
    .command('verify')
    .description('check the whole log: encoding, hashes, order, and consistency with signed checkpoints')
    .option('--checkpoint <file>', 'a checkpoint saved earlier (repeatable)', (file: string, files: string[]) => [...files, file], [] as string[])
    .option('--key <vkey>', 'the verifier key (or a file holding it); default: the server\'s, which proves less')
    .option('--from-file <export.jsonl>', 'verify an export (stint audit export) instead of the live log; uses <file>.checkpoint too')
    .option('--store <dir|url|env:NAME|file:path>', "read the log from the store itself: a stopped broker's PGlite data directory, or a postgres:// URL (better: env:NAME or file:path holding it); needs --key")
    .action(async (opts: VerifyOptions, command: Command) => verify(opts, globalsOf(command)));

  audit
    .command('export')
    .description('write the log as JSONL (one entry per line) and its signed checkpoint to <out>.checkpoint')
    .option('--out <file>', 'output file (default: stdout, without the checkpoint)')
    .action(async (opts: { out?: string }, command: Command) => exportLog(opts, globalsOf(command)));

  audit
    .command('checkpoint')
    .description('save the current signed checkpoint: keep it outside the broker to detect truncation or rollback later')
    .option('--out <file>', 'where to save it (default: print it)')
    .action(async (opts: { out?: string }, command: Command) => checkpointCommand(opts, globalsOf(command)));
}
