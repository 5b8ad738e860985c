/**
 * The audit log verifier behind `stint audit verify`. It streams the log once, in batches, and
 * checks each row on its own (src/audit/verify-row.ts), the order of the rows through their
 * `seq` and `prev` links (src/audit/verify-order.ts), and the RFC 6962 / RFC 9162 section 2.1
 * Merkle root of the log against every signed checkpoint (c2sp.org/tlog-checkpoint) and the
 * stored head. Memory stays O(log n) for the tree (a frontier, RFC 9162 2.1.1 compact range)
 * plus a few records per problem found.
 *
 * Only a checkpoint kept outside the database can reveal a truncated tail or a rolled-back
 * database (REFERENCE.md section 5); the rest is visible in the rows themselves.
 */
import { performance } from 'node:perf_hooks';
import type { AuditRecord } from '../core/events.js';
import { isStintError, StintError } from '../core/errors.js';
import type { AuditHead, PackedAuditBatch, WireAuditBatch } from '../ports/store.js';
import { toHex } from './merkle.js';
import { readAuditFast } from './packed-batch.js';
import { parseCheckpoint, type Checkpoint } from './signed-note.js';
import { MerkleAccumulator } from './verify-merkle.js';
import { OrderTracker } from './verify-order.js';
import { inspectRow, type RowFacts } from './verify-row.js';
import { inspectWireRow } from './verify-wire-row.js';
import { decodeWireBatch, F_LEAF, WIRE_FIELDS, type WireRows } from './wire-batch.js';
import type { AuditProblem, AuditProblemKind } from './verify-types.js';

export type { AuditProblem, AuditProblemKind } from './verify-types.js';

/**
 * Where the verifier reads the log. `readAudit` returns rows with stored seq >= `fromSeq`, at
 * most `limit`, in ascending stored order; an empty answer ends the log. The store's
 * `[fromSeq, fromSeq + limit)` reading also fits: a short batch is not taken as the end, and
 * `auditHead`, when given, carries the reading across a run of deleted rows longer than a
 * batch and adds the stored head (its size and frontier) to the checks. `readAuditPacked`, when
 * given (a `Store` has it), is how batches are read: the same records in two text values per
 * batch (src/audit/packed-batch.ts), with `readAudit` for any batch that does not decode exactly.
 * `readAuditWire`, when given (a PGlite store has it), is preferred to both: the database's
 * unparsed answer (src/audit/wire-batch.ts), checked on its bytes (verify-wire-row.ts), again
 * with `readAudit` for any batch that does not decode exactly.
 */
export interface AuditSource {
  readAudit(fromSeq: number, limit: number): Promise<AuditRecord[]>;
  auditHead?(): Promise<AuditHead>;
  readAuditPacked?(fromSeq: number, limit: number): Promise<PackedAuditBatch>;
  readAuditWire?(fromSeq: number, limit: number): Promise<WireAuditBatch>;
  /**
   * A wire batch already decoded (`decodeWireBatch`), or undefined where it did not decode: how
   * the worker thread of verify-parallel.ts receives what the main thread read. Preferred to
   * every other way when given.
   */
  readAuditRows?(fromSeq: number, limit: number): Promise<WireRows | undefined>;
}

/**
 * One batch as the verifier walks it: the rows' stored seqs, and the single-row checks of each
 * (`inspectRow` over the record `readAudit` gives for it, or the same facts from its bytes).
 */
interface Batch {
  readonly length: number;
  seqAt(i: number): number;
  inspect(i: number, index: number, previousLeafHex: string): RowFacts;
  /** Appends row i's recomputed leaf hash (`facts.leafHex`) to the tree. */
  appendLeaf(i: number, facts: RowFacts, tree: MerkleAccumulator): void;
}

function recordBatch(records: readonly AuditRecord[]): Batch {
  return {
    length: records.length,
    seqAt: (i) => records[i]!.seq,
    inspect: (i, index, previousLeafHex) => inspectRow(records[i]!, index, previousLeafHex),
    appendLeaf: (_i, facts, tree) => tree.append(facts.leafHex),
  };
}

/**
 * A decoded wire batch. A row without a leaf mismatch has stored a leaf hash whose hex is the
 * recomputed one: when it is 32 bytes, those bytes go into the tree as they are (no hex).
 */
function wireBatch(rows: WireRows): Batch {
  return {
    length: rows.count,
    seqAt: (i) => rows.seqs[i]!,
    inspect: (i, index, previousLeafHex) => inspectWireRow(rows, i, index, previousLeafHex),
    appendLeaf: (i, facts, tree) => {
      const at = rows.spans[(i * WIRE_FIELDS + F_LEAF) * 2]!;
      if (!facts.leafMismatch && rows.spans[(i * WIRE_FIELDS + F_LEAF) * 2 + 1]! - at === 32) tree.appendBytes(rows.bytes, at);
      else tree.append(facts.leafHex);
    },
  };
}

/** `source.readAudit`, through wire or packed batches when the source offers them (the same records). */
function batchReader(source: AuditSource): (fromSeq: number, limit: number) => Promise<Batch> {
  const wire = source.readAuditWire;
  const decoded = source.readAuditRows ?? (wire === undefined ? undefined : async (fromSeq: number, limit: number) => decodeWireBatch(await wire.call(source, fromSeq, limit)));
  if (decoded !== undefined) {
    return async (fromSeq, limit) => {
      const rows = await decoded.call(source, fromSeq, limit);
      return rows === undefined ? recordBatch(await source.readAudit(fromSeq, limit)) : wireBatch(rows);
    };
  }
  const packed = source.readAuditPacked;
  if (packed === undefined) return async (fromSeq, limit) => recordBatch(await source.readAudit(fromSeq, limit));
  const reader = { readAudit: source.readAudit.bind(source), readAuditPacked: packed.bind(source) };
  return async (fromSeq, limit) => recordBatch(await readAuditFast(reader, fromSeq, limit));
}

/** Options of {@link verifyAuditLog}. */
export interface AuditVerifyOptions {
  /** Signed checkpoint notes (C2SP) the user saved or the store kept. */
  readonly checkpoints?: readonly string[];
  /** Verifier key `<name>+<hex key ID>+<base64 key>` the checkpoints must be signed with. */
  readonly verifierKey?: string;
  /** The log origin every checkpoint must name. */
  readonly origin?: string;
  /** Rows read per call to `readAudit` (default 1000). */
  readonly batchSize?: number;
}

/** Result of {@link verifyAuditLog}. */
export interface AuditVerifyReport {
  /** No problem at all. */
  readonly ok: boolean;
  /** Number of rows read. */
  readonly size: number;
  /** Hex RFC 6962 root over all rows read, from their recomputed leaf hashes. */
  readonly rootHash: string;
  readonly eventsPerSecond?: number;
  readonly problems: AuditProblem[];
  /**
   * The first index where the log differs from what was appended: the smallest index of a
   * problem, except that a root mismatch over [a, b) gives way to the first row-level problem
   * inside [a, b), which pins it down. Absent when no entry is at fault.
   */
  readonly firstBadIndex?: number;
  /** Checkpoints whose signature verified and that were compared with the log. */
  readonly checkpointsChecked: number;
}

/** Rows read per batch unless `AuditVerifyOptions.batchSize` says otherwise. */
export const DEFAULT_BATCH = 1000;

/** Kinds not found at one row: root comparisons cover a range, bad checkpoints no entry at all. */
const NOT_AT_A_ROW: ReadonlySet<AuditProblemKind> = new Set(['root_mismatch', 'rolled_back', 'truncated', 'bad_checkpoint']);

interface CheckedCheckpoint extends Checkpoint {
  matched?: boolean;
}

/** A root comparison that failed: entries [from, to) hold the difference. */
interface RangeFault {
  readonly problem: AuditProblem;
  readonly from: number;
  readonly to: number;
}

/** Appends `items` to `list` (a loop: a damaged log can have more problems than a call has arguments). */
function pushAll<T>(list: T[], items: readonly T[]): void {
  for (const item of items) list.push(item);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

function parseCheckpoints(opts: AuditVerifyOptions, problems: AuditProblem[]): CheckedCheckpoint[] {
  const valid: CheckedCheckpoint[] = [];
  (opts.checkpoints ?? []).forEach((note, index) => {
    if (opts.verifierKey === undefined) {
      problems.push({ kind: 'bad_checkpoint', index, detail: `checkpoint ${index}: no verifier key to check its signature` });
      return;
    }
    try {
      const cp = parseCheckpoint(note, opts.verifierKey);
      if (opts.origin !== undefined && cp.origin !== opts.origin) {
        problems.push({ kind: 'bad_checkpoint', index, detail: `checkpoint ${index}: origin "${cp.origin}" is not "${opts.origin}"` });
        return;
      }
      valid.push(cp);
    } catch (e) {
      if (!isStintError(e)) throw e;
      problems.push({ kind: 'bad_checkpoint', index, detail: `checkpoint ${index}: ${e.detail}` });
    }
  });
  return valid.sort((a, b) => a.size - b.size);
}

/** Largest size below `size` of a checkpoint that matched the log: where an uncovered range starts. */
function coveredUpTo(checkpoints: readonly CheckedCheckpoint[], size: number): number {
  return checkpoints.reduce((best, cp) => (cp.matched === true && cp.size < size && cp.size > best ? cp.size : best), 0);
}

/**
 * Compares the stored head's frontier with the recomputed one at the head's size. Both list the
 * perfect subtrees covering [0, size), largest first, so the first subtree that differs bounds
 * the first changed entry.
 */
function compareHead(head: AuditHead, computed: readonly string[]): RangeFault | undefined {
  if (head.frontier.length !== computed.length) {
    return {
      problem: { kind: 'root_mismatch', index: 0, detail: `the stored log head is malformed for size ${head.size}` },
      from: 0,
      to: head.size,
    };
  }
  let start = 0;
  for (let k = 0; k < computed.length; k++) {
    let width = 1;
    // Subtree widths are the set bits of size, largest first.
    while (width * 2 <= head.size - start) width *= 2;
    if (head.frontier[k] !== computed[k]) {
      return {
        problem: {
          kind: 'root_mismatch',
          index: start,
          detail: `the stored log head disagrees with entries ${start}..${start + width - 1}`,
        },
        from: start,
        to: start + width,
      };
    }
    start += width;
  }
  return undefined;
}

function firstBadIndex(problems: readonly AuditProblem[], faults: readonly RangeFault[]): number | undefined {
  // Loops, not Math.min(...xs): a badly damaged log can have more problems than a call has arguments.
  const smallest = (xs: Iterable<number>): number | undefined => {
    let min: number | undefined;
    for (const x of xs) if (min === undefined || x < min) min = x;
    return min;
  };
  const rowIndexes = problems.filter((p) => !NOT_AT_A_ROW.has(p.kind)).map((p) => p.index);
  const candidates = [...rowIndexes];
  for (const f of faults) {
    candidates.push(smallest(rowIndexes.filter((i) => i >= f.from && i < f.to)) ?? f.problem.index);
  }
  return smallest(candidates);
}

/** One problem per kind and index, checkpoint problems first, then by index (stable). */
function tidy(problems: readonly AuditProblem[]): AuditProblem[] {
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = `${p.kind}:${p.index}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const rank = (p: AuditProblem): number => (p.kind === 'bad_checkpoint' ? -1 : p.index);
  return unique.sort((a, b) => rank(a) - rank(b));
}

/**
 * Verifies the whole audit log read from `source`: canonical encoding (RFC 8785), leaf hashes
 * (RFC 6962 2.1 / RFC 9162 2.1.1), seq numbering and `prev` links, the stored head, and the
 * Merkle root at the size of every checkpoint, whose C2SP signature, key and origin are checked
 * first. Reports every problem with its index and the first bad index.
 */
export async function verifyAuditLog(source: AuditSource, opts: AuditVerifyOptions = {}): Promise<AuditVerifyReport> {
  const batchSize = opts.batchSize ?? DEFAULT_BATCH;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  const started = performance.now();
  const problems: AuditProblem[] = [];
  const faults: RangeFault[] = [];
  const checkpoints = parseCheckpoints(opts, problems);
  const head = source.auditHead === undefined ? undefined : await source.auditHead();
  const order = new OrderTracker();
  /** Rows whose stored seq column differs from their entry's seq. */
  const renumbered: { readonly index: number; readonly stored: number; readonly entry: number }[] = [];

  const tree = new MerkleAccumulator();
  let size = 0;
  let nextCheckpoint = 0;
  let headFrontier: string[] | undefined = head?.size === 0 ? [] : undefined;
  const headSize = head?.size ?? -1;
  // The root costs O(log n) hashes: the frontier is only folded at a checkpoint's size.
  let dueSize = checkpoints[0]?.size ?? -1;
  const compareCheckpoints = (): void => {
    const root = tree.root();
    for (; nextCheckpoint < checkpoints.length && checkpoints[nextCheckpoint]!.size === size; nextCheckpoint++) {
      const cp = checkpoints[nextCheckpoint]!;
      cp.matched = bytesEqual(root, cp.rootHash);
    }
    dueSize = checkpoints[nextCheckpoint]?.size ?? -1;
  };
  if (dueSize === 0) compareCheckpoints();

  let fromSeq = 0;
  let previousLeafHex = '';
  const read = batchReader(source);
  let reading = read(fromSeq, batchSize);
  for (;;) {
    const rows = await reading;
    if (rows.length === 0) {
      // A gap of deleted rows longer than a batch reads as empty; the head says more follow.
      if (head !== undefined && fromSeq < head.size) {
        fromSeq += batchSize;
        reading = read(fromSeq, batchSize);
        continue;
      }
      break;
    }
    // The next batch (from where this one ends, the same call as after it) is read while this
    // one is checked: a broker or a database server works meanwhile. If this batch turns out
    // to be out of order, that read is abandoned: its failure must not go unhandled.
    reading = read(rows.seqAt(rows.length - 1) + 1, batchSize);
    reading.catch(() => undefined);
    for (let i = 0; i < rows.length; i++) {
      const seq = rows.seqAt(i);
      if (!(seq >= fromSeq)) throw new StintError('internal', 'the audit source returned rows out of order');
      fromSeq = seq + 1;
      const facts = rows.inspect(i, size, previousLeafHex);
      previousLeafHex = facts.leafHex;
      if (facts.seq !== null && facts.seq !== seq) renumbered.push({ index: size, stored: seq, entry: facts.seq });
      if (facts.problems.length > 0) pushAll(problems, facts.problems);
      order.add(facts);
      rows.appendLeaf(i, facts, tree);
      size++;
      if (size === headSize) headFrontier = tree.frontierHex();
      if (size === dueSize) compareCheckpoints();
    }
  }
  const orderFindings = order.finish();
  pushAll(problems, orderFindings);
  // A stored seq that differs from the entry's own seq while the rows still read in their
  // original order (e.g. the last row's seq raised, leaving a gap in the numbering listings and
  // proofs use): the order checks see nothing, so it is named here (REFERENCE.md section 5: no
  // sequence gaps). Rows moved, deleted or inserted are already reported by the order checks.
  if (orderFindings.length === 0) {
    const named = new Set(problems.map((p) => p.index));
    for (const r of renumbered) {
      if (!named.has(r.index)) problems.push({ kind: 'modified', index: r.index, detail: `entry ${r.index}: stored seq ${r.stored} differs from the hashed entry's seq ${r.entry}` });
    }
  }

  if (head !== undefined) {
    if (headFrontier === undefined) {
      const problem: AuditProblem = {
        kind: 'truncated',
        index: size,
        detail: `the stored log head counts ${head.size} entries but the log holds ${size}`,
      };
      problems.push(problem);
      faults.push({ problem, from: size, to: size + 1 });
    } else {
      const fault = compareHead(head, headFrontier);
      if (fault !== undefined) {
        problems.push(fault.problem);
        faults.push(fault);
      }
    }
  }

  const diverged = checkpoints.find((cp) => cp.matched === false);
  for (const cp of checkpoints) {
    if (cp.matched === false) {
      const from = coveredUpTo(checkpoints, cp.size);
      const problem: AuditProblem = {
        kind: 'root_mismatch',
        index: from,
        detail: `the root of the first ${cp.size} entries differs from the checkpoint's (entries ${from}..${cp.size - 1} changed)`,
      };
      problems.push(problem);
      faults.push({ problem, from, to: cp.size });
    } else if (cp.matched === undefined) {
      // The checkpoint covers entries the log no longer has.
      const from = diverged === undefined ? size : coveredUpTo(checkpoints, diverged.size);
      const problem: AuditProblem =
        diverged === undefined
          ? { kind: 'truncated', index: size, detail: `a checkpoint covers ${cp.size} entries but the log holds ${size}` }
          : {
              kind: 'rolled_back',
              index: from,
              detail: `a checkpoint covers ${cp.size} entries, the log holds ${size} and differs from entry ${from} on`,
            };
      problems.push(problem);
      faults.push({ problem, from, to: Math.max(size, from + 1) });
    }
  }

  const elapsedSeconds = (performance.now() - started) / 1000;
  const unique = tidy(problems);
  const first = firstBadIndex(unique, faults);
  return {
    ok: unique.length === 0,
    size,
    rootHash: toHex(tree.root()),
    ...(size > 0 && elapsedSeconds > 0 ? { eventsPerSecond: size / elapsedSeconds } : {}),
    problems: unique,
    ...(first !== undefined ? { firstBadIndex: first } : {}),
    checkpointsChecked: checkpoints.length,
  };
}
