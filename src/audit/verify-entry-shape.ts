/**
 * What a well-formed audit entry body is (src/audit/event.ts), for the verifier: the reference
 * check on a parsed body, and the constants the fast path (verify-fast-entry.ts) shares with it.
 */

/** The members an entry body may have. */
export const ENTRY_MEMBERS: ReadonlySet<string> = new Set(['seq', 'time', 'type', 'actor', 'grantId', 'tenant', 'data', 'prev']);

/** `prev`: the hex leaf hash of the entry before, or "" for the first entry. */
export const PREV_PATTERN = /^(?:|[0-9a-f]{64})$/;

/** The members of a well-formed entry the verifier goes on with. */
export interface EntryFields {
  readonly seq: number;
  readonly time: number;
  readonly type: string;
  readonly actor: string;
  readonly grantId?: string;
  readonly prev: string;
}

/** Why `value` (JSON.parse output) is not an entry body, or undefined when it is one. */
export function shapeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const body = value as Record<string, unknown>;
  const extra = Object.keys(body).find((k) => !ENTRY_MEMBERS.has(k));
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
