/**
 * The checks one stored audit row must pass on its own: its text is the RFC 8785 canonical
 * JSON of a well-formed entry (src/audit/event.ts), its stored RFC 6962 leaf hash is the hash
 * of that text, and the columns stored beside the text say the same as the text.
 */
import type { AuditRecord } from '../core/events.js';
import { canonicalize } from './jcs.js';
import { leafHash, toHex } from './merkle.js';
import type { AuditProblem } from './verify-types.js';

/** What the verifier learns from one row by itself. */
export interface RowFacts {
  /** Position of the row in the stream (0-based). */
  readonly index: number;
  /** SHA-256(0x00 || canonical), recomputed: what the row really holds. */
  readonly leaf: Uint8Array;
  readonly leafHex: string;
  /** The entry's own `seq`, or null when the text is not a well-formed entry. */
  readonly seq: number | null;
  /** The entry's `prev` link, or null when the text is not a well-formed entry. */
  readonly prev: string | null;
  /** The stored leaf hash differs from the recomputed one: the text was edited after hashing. */
  readonly leafMismatch: boolean;
  readonly problems: readonly AuditProblem[];
}

interface EntryShape {
  seq: number;
  time: number;
  type: string;
  actor: string;
  grantId?: string;
  data: unknown;
  prev: string;
}

const MEMBERS = new Set(['seq', 'time', 'type', 'actor', 'grantId', 'tenant', 'data', 'prev']);
const PREV_PATTERN = /^(?:|[0-9a-f]{64})$/;

/** Why `value` is not an entry body of src/audit/event.ts, or undefined when it is one. */
function shapeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const body = value as Record<string, unknown>;
  const extra = Object.keys(body).find((k) => !MEMBERS.has(k));
  if (extra !== undefined) return `unexpected member "${extra}"`;
  if (!Number.isSafeInteger(body.seq) || (body.seq as number) < 0) return 'seq is not a non-negative integer';
  if (typeof body.time !== 'number') return 'time is not a number';
  if (typeof body.type !== 'string' || typeof body.actor !== 'string') return 'type or actor is not a string';
  if (body.grantId !== undefined && typeof body.grantId !== 'string') return 'grantId is not a string';
  if (body.tenant !== undefined && typeof body.tenant !== 'string') return 'tenant is not a string';
  if (typeof body.data !== 'object' || body.data === null || Array.isArray(body.data)) return 'data is not an object';
  if (typeof body.prev !== 'string' || !PREV_PATTERN.test(body.prev)) return 'prev is not a hex SHA-256 or empty';
  return undefined;
}

/** Parses `canonical` and checks that it is canonical; returns the value or the problem. */
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

/** Runs the single-row checks on `record`, found at stream position `index`. */
export function inspectRow(record: AuditRecord, index: number): RowFacts {
  const problems: AuditProblem[] = [];
  const leaf = leafHash(record.canonical);
  const leafHex = toHex(leaf);
  const leafMismatch = leafHex !== record.leafHash;
  if (leafMismatch) {
    problems.push({ kind: 'modified', index, detail: `entry ${index}: stored leaf hash does not match its content` });
  }
  const parsed = parseCanonical(record.canonical);
  if ('problem' in parsed) {
    problems.push({ kind: 'non_canonical', index, detail: `entry ${index}: text ${parsed.problem}` });
    return { index, leaf, leafHex, seq: null, prev: null, leafMismatch, problems };
  }
  const shape = shapeProblem(parsed.value);
  if (shape !== undefined) {
    problems.push({ kind: 'non_canonical', index, detail: `entry ${index}: not an audit entry (${shape})` });
    return { index, leaf, leafHex, seq: null, prev: null, leafMismatch, problems };
  }
  const body = parsed.value as EntryShape;
  // The columns beside the text are what listings show: they must not say something else.
  const columns: Array<[string, unknown, unknown]> = [
    ['time', record.time, body.time],
    ['type', record.type, body.type],
    ['actor', record.actor, body.actor],
    ['grantId', record.grantId, body.grantId],
  ];
  for (const [name, stored, signed] of columns) {
    // A SQL NULL column read back as null means "absent", like an omitted member.
    if ((stored ?? undefined) !== signed) {
      problems.push({ kind: 'modified', index, detail: `entry ${index}: stored ${name} differs from the hashed entry` });
      break;
    }
  }
  return { index, leaf, leafHex, seq: body.seq, prev: body.prev, leafMismatch, problems };
}
