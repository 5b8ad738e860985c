/**
 * The checks one stored audit row must pass on its own: its text is the RFC 8785 canonical
 * JSON of a well-formed entry (src/audit/event.ts), its stored RFC 6962 leaf hash is the hash
 * of that text, and the columns stored beside the text say the same as the text. The text check
 * runs a one-pass fast path for the entries the broker writes (verify-fast-entry.ts) and the
 * reference checks (JSON.parse, canonicalize, shapeProblem) for anything the fast path does not
 * take, so their verdicts are the only ones ever reported.
 */
import type { AuditRecord } from '../core/events.js';
import { canonicalize } from './jcs.js';
import { shapeProblem, type EntryFields } from './verify-entry-shape.js';
import { readCanonicalEntry } from './verify-fast-entry.js';
import { leafHashHex } from './verify-merkle.js';
import type { AuditProblem } from './verify-types.js';

/** What the verifier learns from one row by itself. */
export interface RowFacts {
  /** Position of the row in the stream (0-based). */
  readonly index: number;
  /** Hex SHA-256(0x00 || canonical), recomputed: what the row really holds. */
  readonly leafHex: string;
  /** The entry's own `seq`, or null when the text is not a well-formed entry. */
  readonly seq: number | null;
  /** The entry's `prev` link, or null when the text is not a well-formed entry. */
  readonly prev: string | null;
  /** The stored leaf hash differs from the recomputed one: the text was edited after hashing. */
  readonly leafMismatch: boolean;
  readonly problems: readonly AuditProblem[];
}

/** Parses `canonical` and checks that it is canonical: the reference check. */
function parseCanonical(canonical: string): { value: unknown } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(canonical);
  } catch {
    return { problem: 'is not JSON' };
  }
  try {
    if (canonicalize(value) !== canonical) return { problem: 'is not RFC 8785 canonical JSON' };
  } catch {
    return { problem: 'holds a value canonical JSON cannot encode' };
  }
  return { value };
}

/**
 * The entry's members, or what makes the text no canonical entry: the fast path when it
 * recognises the text (verify-fast-entry.ts), else the reference checks, which name the problem.
 */
function readEntry(canonical: string, previousLeafHex: string): EntryFields | string {
  const fast = readCanonicalEntry(canonical, previousLeafHex);
  if (fast !== undefined) return fast;
  const parsed = parseCanonical(canonical);
  if ('problem' in parsed) return `text ${parsed.problem}`;
  const shape = shapeProblem(parsed.value);
  if (shape !== undefined) return `not an audit entry (${shape})`;
  return parsed.value as EntryFields;
}

/** Rows without a problem share this list: no allocation per row on the common path. */
const NO_PROBLEMS: readonly AuditProblem[] = Object.freeze([]);

/** The first column stored beside the text that says something else than the text, if any. */
function disagreeingColumn(record: AuditRecord, body: EntryFields): string | undefined {
  // A SQL NULL column read back as null means "absent", like an omitted member.
  if ((record.time ?? undefined) !== body.time) return 'time';
  if ((record.type ?? undefined) !== body.type) return 'type';
  if ((record.actor ?? undefined) !== body.actor) return 'actor';
  if ((record.grantId ?? undefined) !== body.grantId) return 'grantId';
  return undefined;
}

/** `problem`, after the leaf hash problem when there is one. */
function listOf(modified: AuditProblem | undefined, problem: AuditProblem): AuditProblem[] {
  return modified === undefined ? [problem] : [modified, problem];
}

/**
 * Runs the single-row checks on `record`, found at stream position `index`. `previousLeafHex`
 * is the recomputed leaf hash of the row before in the stream ("" for the first row).
 */
export function inspectRow(record: AuditRecord, index: number, previousLeafHex: string): RowFacts {
  const leafHex = leafHashHex(record.canonical);
  const leafMismatch = leafHex !== record.leafHash;
  const modified: AuditProblem | undefined = leafMismatch
    ? { kind: 'modified', index, detail: `entry ${index}: stored leaf hash does not match its content` }
    : undefined;
  const entry = readEntry(record.canonical, previousLeafHex);
  if (typeof entry === 'string') {
    const problems = listOf(modified, { kind: 'non_canonical', index, detail: `entry ${index}: ${entry}` });
    return { index, leafHex, seq: null, prev: null, leafMismatch, problems };
  }
  // The columns beside the text are what listings show: they must not say something else.
  const column = disagreeingColumn(record, entry);
  const problems =
    column !== undefined
      ? listOf(modified, { kind: 'modified', index, detail: `entry ${index}: stored ${column} differs from the hashed entry` })
      : modified !== undefined
        ? [modified]
        : NO_PROBLEMS;
  return { index, leafHex, seq: entry.seq, prev: entry.prev, leafMismatch, problems };
}
