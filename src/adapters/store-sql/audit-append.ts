/**
 * The audit append's parts, shared by `appendAudit` and by the group commit of new grants
 * (`insertGrantsWithAudit`): lock the head row, chain the entries to it (RFC 8785 canonical
 * text, RFC 6962 leaf hashes, the `prev` link, the compact-range frontier), and the statements
 * that write them. Seq numbers come from the head, not a sequence, so a rolled-back append
 * leaves no gap (REFERENCE.md section 5).
 *
 * `insertGrantsWithAudit` writes a batch's grant rows, its audit rows and the new head in one
 * data-modifying statement after the head lock: on PGlite each statement costs a fixed
 * ~300-600 us of protocol round trips through the WASM module whatever it writes, so a group
 * commit of 8 grants takes 2 statements instead of 4 (docs/benchmarks.md, "Issuance").
 * PostgreSQL runs every data-modifying WITH clause exactly once and to completion, and a
 * failure in any of them (a duplicate grant id) fails the whole statement.
 */
import type { AuditEventInput, AuditRecord } from '../../core/events.js';
import type { Grant } from '../../core/grant.js';
import { StintError } from '../../core/errors.js';
import { buildAuditEntry } from '../../audit/event.js';
import { frontierAppend, fromHex, toHex } from '../../audit/merkle.js';
import type { SqlExecutor, SqlRow } from './driver.js';
import type { AuditHeadRow, AuditHeadWrites } from './audit-head-cache.js';
import { DOC_PARAM, GRANT_COLUMNS, GRANT_SELECT, grantToParams } from './row.js';
import { GRANT_COLUMN_TYPES } from './grant-batch.js';

/** One entry ready to insert. */
export interface ChainedEntry {
  readonly record: AuditRecord;
  readonly leaf: Uint8Array;
}

/** The entries of one append and the head they lead to. */
export interface ChainedAppend {
  readonly entries: readonly ChainedEntry[];
  readonly size: number;
  /** The new frontier: hex roots, largest subtree first. */
  readonly frontier: readonly string[];
  /** The same as stored (JSON array). */
  readonly frontierJson: string;
  readonly lastLeaf: string;
}

/** The head row `chained` leads to (what the head cache holds once the append commits). */
export function headAfter(chained: ChainedAppend): AuditHeadRow {
  return { size: chained.size, frontier: chained.frontier, last_leaf: chained.lastLeaf };
}

/** Columns of `audit_events` in insert order; `auditRowParams` returns values in this order. */
const AUDIT_COLUMNS = 'seq, time, type, actor, grant_id, canonical, leaf_hash';
const AUDIT_WIDTH = 7;

/**
 * The head row, locked until the transaction ends: this lock serialises appends across
 * replicas. With a head cache (PGlite, audit-head-cache.ts) a known head is used as it is.
 */
export async function lockAuditHead(sql: SqlExecutor, cache?: AuditHeadWrites): Promise<SqlRow> {
  const known = cache?.current();
  if (known !== undefined) return known;
  const rows = await sql.query('SELECT size, frontier, last_leaf FROM audit_head WHERE id = 1 FOR UPDATE');
  // Migration 1 inserts the row; it can only be missing if someone deleted it by hand.
  if (rows[0] === undefined) throw new StintError('audit_unavailable', 'the audit log head is missing');
  cache?.read(rows[0] as AuditHeadRow);
  return rows[0];
}

/** Builds each entry chained to its predecessor, starting from `head`. Pure. */
export function chainAuditEntries(head: SqlRow, events: readonly AuditEventInput[], time: number): ChainedAppend {
  let size = Number(head.size);
  let frontier = (head.frontier as readonly string[]).map(fromHex);
  let prev = head.last_leaf as string;
  const entries: ChainedEntry[] = [];
  for (const input of events) {
    const entry = buildAuditEntry(input, size, time, prev);
    frontier = frontierAppend(frontier, size, entry.leaf);
    size += 1;
    prev = entry.record.leafHash;
    entries.push(entry);
  }
  const hex = frontier.map(toHex);
  return { entries, size, frontier: hex, frontierJson: JSON.stringify(hex), lastLeaf: prev };
}

/** `(...), (...)` placeholders for `rows` rows of `width` parameters after the first `offset`. */
function tuples(rows: number, width: number, offset: number, cast?: (column: number) => string): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const base = offset + r * width;
    const cells: string[] = [];
    for (let c = 1; c <= width; c++) cells.push(`$${base + c}${cast?.(c) ?? ''}`);
    out.push(`(${cells.join(', ')})`);
  }
  return out.join(', ');
}

function auditRowParams(entries: readonly ChainedEntry[]): unknown[] {
  const params: unknown[] = [];
  for (const { record, leaf } of entries) {
    params.push(record.seq, record.time, record.type, record.actor, record.grantId ?? null, record.canonical, Buffer.from(leaf));
  }
  return params;
}

/** One multi-row INSERT of `entries`. */
export async function insertAuditRows(sql: SqlExecutor, entries: readonly ChainedEntry[]): Promise<void> {
  await sql.query(`INSERT INTO audit_events (${AUDIT_COLUMNS}) VALUES ${tuples(entries.length, AUDIT_WIDTH, 0)}`, auditRowParams(entries));
}

/** Moves the head to the end of `chained`. */
export async function advanceAuditHead(sql: SqlExecutor, chained: ChainedAppend, cache?: AuditHeadWrites): Promise<void> {
  await sql.query('UPDATE audit_head SET size = $1, frontier = $2::jsonb, last_leaf = $3 WHERE id = 1', [
    chained.size,
    chained.frontierJson,
    chained.lastLeaf,
  ]);
  cache?.advanced(headAfter(chained));
}

/**
 * Most parameters in one combined statement. PostgreSQL's limit is 65,535; a batch beyond this
 * (far more than the batcher's 64 grants) is written with the separate statements instead.
 */
const COMBINED_PARAM_LIMIT = 20_000;

/**
 * Inserts `grants` and appends `events` at `time`, as `insertGrants` followed by `appendAudit`
 * would: head locked first, then grant rows, audit rows and the new head in one statement.
 * Returns the audit records in event order.
 */
export async function insertGrantsWithAudit(
  sql: SqlExecutor,
  grants: readonly Grant[],
  events: readonly AuditEventInput[],
  time: number,
  separately: { insertGrants(grants: readonly Grant[]): Promise<void>; appendAudit(events: readonly AuditEventInput[], time: number): Promise<AuditRecord[]> },
  cache?: AuditHeadWrites,
): Promise<AuditRecord[]> {
  const grantParams = grants.map(grantToParams);
  const width = GRANT_COLUMNS.length;
  if (grants.length === 0 || events.length === 0 || grants.length * width + events.length * AUDIT_WIDTH + 3 > COMBINED_PARAM_LIMIT) {
    await separately.insertGrants(grants);
    return separately.appendAudit(events, time);
  }
  const chained = chainAuditEntries(await lockAuditHead(sql, cache), events, time);
  const statement = combinedStatement(grants.length, events.length);
  await sql.query(
    statement.text,
    [...grantParams.flat(), ...auditRowParams(chained.entries), chained.size, chained.frontierJson, chained.lastLeaf],
    statement.prepare === undefined ? undefined : { prepare: statement.prepare },
  );
  cache?.advanced(headAfter(chained));
  return chained.entries.map((entry) => entry.record);
}

/** A combined statement's text, and its prepared-statement name when it is one of the few kept. */
interface CombinedStatement {
  readonly text: string;
  readonly prepare?: string;
}

/** Combined statements by `grants:events` count; batches repeat a few sizes, so texts are built once. */
const combinedStatements = new Map<string, CombinedStatement>();
/** Bound on the statement texts kept (each a few KB). */
const COMBINED_STATEMENTS_KEPT = 256;
/**
 * Batches of at most this many grants run as named prepared statements (`QueryOptions.prepare`:
 * on PGlite one Bind/Execute/Sync message instead of six protocol calls, which halved the group
 * commit; on PostgreSQL no parse of the ~370-parameter text, ~0.4 ms per commit here). Bounded,
 * because the database keeps every prepared statement per session: the shapes that recur are
 * those up to the number of concurrent callers.
 */
const PREPARED_MAX_GRANTS = 16;
/** At most this many shapes get a name (first come), whatever their mix of event counts. */
const PREPARED_SHAPES_KEPT = 32;
let preparedShapes = 0;

/** Where a group commit's parameters start: grant rows first, then audit rows, then the head's. */
function parameterLayout(grants: number, events: number): { width: number; eventsAt: number; headAt: number } {
  const width = GRANT_COLUMNS.length;
  const eventsAt = grants * width;
  return { width, eventsAt, headAt: eventsAt + events * AUDIT_WIDTH };
}

function combinedStatement(grants: number, events: number): CombinedStatement {
  const key = `${grants}:${events}`;
  const known = combinedStatements.get(key);
  if (known !== undefined) return known;
  const { width, eventsAt, headAt } = parameterLayout(grants, events);
  const text = `WITH new_grants AS (
        INSERT INTO grants (${GRANT_SELECT}) VALUES ${tuples(grants, width, 0, (c) => (c === DOC_PARAM ? '::jsonb' : ''))}
      ), new_events AS (
        INSERT INTO audit_events (${AUDIT_COLUMNS}) VALUES ${tuples(events, AUDIT_WIDTH, eventsAt)}
      )
      UPDATE audit_head SET size = $${headAt + 1}, frontier = $${headAt + 2}::jsonb, last_leaf = $${headAt + 3} WHERE id = 1`;
  // Only kept statements are named: a name must always stand for the same text.
  const kept = combinedStatements.size < COMBINED_STATEMENTS_KEPT;
  const named = kept && grants <= PREPARED_MAX_GRANTS && preparedShapes < PREPARED_SHAPES_KEPT;
  if (named) preparedShapes += 1;
  const statement: CombinedStatement = named ? { text, prepare: `stint_new_grants_${grants}_${events}` } : { text };
  if (kept) combinedStatements.set(key, statement);
  return statement;
}

/** SQL type of each `AUDIT_COLUMNS` entry, for a typed `VALUES` list. */
const AUDIT_COLUMN_TYPES = ['bigint', 'bigint', 'text', 'text', 'text', 'text', 'bytea'] as const;

/** Verified one-statement group commits by `grants:events` count (same bounds as above). */
const verifiedStatements = new Map<string, CombinedStatement>();

/**
 * The group commit as one statement that checks the audit head instead of locking it first
 * (PostgreSQL, `SqlStore.commitNewGrants`). The head row is updated only where it still is the
 * guessed head; the inserts read that update's result, so PostgreSQL runs it first (taking the
 * row lock, as the locking path's `SELECT ... FOR UPDATE` does, so the two never deadlock) and
 * inserts nothing when it matched no row. Run outside a transaction, the statement is its own
 * transaction: all or nothing, one round trip instead of three.
 */
function verifiedStatement(grants: number, events: number): CombinedStatement {
  const key = `${grants}:${events}`;
  const known = verifiedStatements.get(key);
  if (known !== undefined) return known;
  const { width, eventsAt, headAt } = parameterLayout(grants, events);
  const grantTuples = tuples(grants, width, 0, (c) => `::${GRANT_COLUMN_TYPES[GRANT_COLUMNS[c - 1]!]}`);
  const eventTuples = tuples(events, AUDIT_WIDTH, eventsAt, (c) => `::${AUDIT_COLUMN_TYPES[c - 1]!}`);
  const text = `WITH head AS (
        UPDATE audit_head SET size = $${headAt + 1}::bigint, frontier = $${headAt + 2}::jsonb, last_leaf = $${headAt + 3}::text
        WHERE id = 1 AND size = $${headAt + 4}::bigint AND last_leaf = $${headAt + 5}::text
        RETURNING 1
      ), new_grants AS (
        INSERT INTO grants (${GRANT_SELECT})
        SELECT * FROM (VALUES ${grantTuples}) AS v (${GRANT_SELECT}) WHERE EXISTS (SELECT 1 FROM head)
      ), new_events AS (
        INSERT INTO audit_events (${AUDIT_COLUMNS})
        SELECT * FROM (VALUES ${eventTuples}) AS v (${AUDIT_COLUMNS}) WHERE EXISTS (SELECT 1 FROM head)
      )
      SELECT count(*)::int AS moved FROM head`;
  const named = grants <= PREPARED_MAX_GRANTS && verifiedStatements.size < PREPARED_SHAPES_KEPT;
  const statement: CombinedStatement = named ? { text, prepare: `stint_new_grants_v_${grants}_${events}` } : { text };
  if (named) verifiedStatements.set(key, statement);
  return statement;
}

/** A verified group commit, ready to send: the statement, and what it writes if the guess holds. */
export interface VerifiedGroupCommit {
  readonly statement: CombinedStatement;
  readonly params: readonly unknown[];
  /** The batch's audit records, in event order. */
  readonly records: AuditRecord[];
  /** The head the statement leaves. */
  readonly head: AuditHeadRow;
}

/**
 * `insertGrantsWithAudit` as one statement of its own, chained to `guess` (the head as last seen
 * committed, or as a commit sent before this one will leave it). Built without I/O, so the caller
 * knows the head it leaves before it is sent (`runVerifiedGroupCommit`).
 */
export function prepareVerifiedGroupCommit(
  grants: readonly Grant[],
  events: readonly AuditEventInput[],
  time: number,
  guess: AuditHeadRow,
): VerifiedGroupCommit {
  const grantParams = grants.map(grantToParams);
  const chained = chainAuditEntries(guess, events, time);
  return {
    statement: verifiedStatement(grants.length, events.length),
    params: [...grantParams.flat(), ...auditRowParams(chained.entries), chained.size, chained.frontierJson, chained.lastLeaf, Number(guess.size), guess.last_leaf],
    records: chained.entries.map((entry) => entry.record),
    head: headAfter(chained),
  };
}

/**
 * Runs a prepared verified group commit as its own transaction. True when it wrote everything;
 * false when the head was not the guessed one (another replica or transaction appended, or a
 * commit it was chained after did not write): then it wrote nothing.
 */
export async function runVerifiedGroupCommit(sql: SqlExecutor, commit: VerifiedGroupCommit): Promise<boolean> {
  const { statement } = commit;
  const rows = await sql.query(statement.text, commit.params, statement.prepare === undefined ? undefined : { prepare: statement.prepare });
  return Number(rows[0]?.moved) === 1;
}

/** Whether a batch fits one verified statement (the same bound as the combined statement). */
export function fitsOneStatement(grants: number, events: number): boolean {
  return grants > 0 && events > 0 && grants * GRANT_COLUMNS.length + events * AUDIT_WIDTH + 5 <= COMBINED_PARAM_LIMIT;
}
