/**
 * Where `stint audit verify` reads the log from: the broker (`GET /v1/audit`, paged), a JSONL
 * export (`stint audit export`), one `AuditRecord` per line, streamed so a long log never has
 * to fit in memory, or the store itself (`--store`: a stopped broker's PGlite data directory, or
 * the PostgreSQL database brokers share), read in large batches without going through a broker.
 */
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { openExistingStore, type OpenStoreOptions } from '../adapters/store-sql/index.js';
import { isSecretRef, resolveSecretRef } from '../config/secret.js';
import { isStintError } from '../core/errors.js';
import type { Store } from '../ports/store.js';
import type { StintClient } from '../client/client.js';
import type { AuditItemJson } from '../client/types.js';
import type { AuditSource } from '../audit/verify.js';
import type { AuditRecord, EventType } from '../core/events.js';
import { CliError } from './exit.js';

/** Largest page `GET /v1/audit` serves. */
export const AUDIT_PAGE_LIMIT = 1000;

/** The broker's log, read page by page. */
export function brokerAuditSource(client: StintClient): AuditSource {
  return {
    readAudit: async (fromSeq, limit) => (await client.audit(fromSeq, Math.min(limit, AUDIT_PAGE_LIMIT))).items,
  };
}

/** Why a parsed line is not an audit record, or undefined when it is one. */
function recordProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const r = value as Record<string, unknown>;
  if (typeof r.canonical !== 'string') return 'no "canonical" text';
  if (typeof r.leafHash !== 'string') return 'no "leafHash"';
  if (typeof r.time !== 'number' || typeof r.type !== 'string' || typeof r.actor !== 'string') return 'no "time", "type" or "actor"';
  if (r.grantId !== undefined && typeof r.grantId !== 'string') return '"grantId" is not a string';
  return undefined;
}

/** An export file being read; close it when done. */
export interface ExportFileSource extends AuditSource {
  close(): Promise<void>;
}

/**
 * Opens an export file as a source. A line's position is its stored sequence number, as a
 * row's key is in the store: the entry's own `seq` inside `canonical` is what the verifier
 * checks order against, so moved, removed or added lines are reported at their index. The
 * verifier reads the file once, in order; a line that is not an audit record at all stops it.
 */
export async function openExportFile(file: string): Promise<ExportFileSource> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const lines = handle.readLines({ encoding: 'utf8' })[Symbol.asyncIterator]();
  let lineNumber = 0;
  let position = 0;
  let ended = false;
  return {
    close: () => handle.close(),
    async readAudit(fromSeq, limit) {
      if (fromSeq !== position) throw new CliError(`${file} can only be read in order (asked for entry ${fromSeq} at ${position})`);
      const rows: AuditRecord[] = [];
      while (!ended && rows.length < limit) {
        let next: IteratorResult<string>;
        try {
          next = await lines.next();
        } catch (e) {
          throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
        if (next.done === true) {
          ended = true;
          break;
        }
        lineNumber++;
        if (next.value.trim() === '') continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(next.value);
        } catch {
          parsed = undefined;
        }
        const problem = parsed === undefined ? 'not JSON' : recordProblem(parsed);
        if (problem !== undefined) throw new CliError(`${file}:${lineNumber}: not an audit record (${problem}); the export is damaged at entry ${position}`);
        const r = parsed as AuditItemJson;
        rows.push({
          seq: position,
          time: r.time,
          type: r.type as EventType,
          actor: r.actor,
          ...(r.grantId !== undefined ? { grantId: r.grantId } : {}),
          canonical: r.canonical,
          leafHash: r.leafHash,
        });
        position++;
      }
      return rows;
    },
  };
}

/** Connections a verification needs: it reads one batch at a time. */
const VERIFY_POOL_SIZE = 2;

/** A PostgreSQL connection URL, as the config's `store.url` takes it. */
const POSTGRES_URL = /^postgres(ql)?:\/\//;

/**
 * What `--store <where>` names: a `postgres://` (or `postgresql://`) URL, a secret reference
 * holding one as in the config (`env:NAME` or `file:path`, so the password stays out of the
 * shell history and the process list), or a PGlite data directory, which must already exist (a
 * typo must not create an empty store that verifies clean). Messages never repeat a URL: it may
 * hold a password.
 */
export function storeLocation(where: string): OpenStoreOptions {
  if (isSecretRef(where)) {
    let url: string;
    try {
      url = resolveSecretRef(where, process.cwd(), process.env).reveal();
    } catch (e) {
      throw new CliError(`--store ${where}: ${isStintError(e) ? e.detail : String(e)}`);
    }
    if (!POSTGRES_URL.test(url)) throw new CliError(`--store ${where}: does not hold a postgres:// URL`);
    return { kind: 'postgres', url, poolSize: VERIFY_POOL_SIZE };
  }
  if (POSTGRES_URL.test(where)) return { kind: 'postgres', url: where, poolSize: VERIFY_POOL_SIZE };
  if (!existsSync(join(where, 'PG_VERSION'))) {
    throw new CliError(`--store ${where}: not a PGlite data directory (no PG_VERSION in it); pass the broker's store.dataDir or a postgres:// URL`);
  }
  return { kind: 'pglite', dataDir: where };
}

/**
 * Opens the store `--store` names for reading its log. A PGlite directory a running broker
 * holds is refused (`store_locked`): stop the broker, or verify through it.
 */
export function openStoreAuditSource(where: string): Promise<Store> {
  return openExistingStore(storeLocation(where));
}
