/**
 * Decision memo: the answer Cedar gave for a request, kept for the next request Cedar could not
 * tell apart from it.
 *
 * Why this is exact, not a cache that can go stale: a Cedar evaluation is a pure function of
 * the preparsed policy set and the request (principal, action, resource, context, entities).
 * Cedar has no clock, no I/O and no randomness, and its extension functions (`datetime`,
 * `duration`, `ip`, `decimal`) are pure. The key is the policy set's name (unique per load and
 * per slice, load.ts and slices.ts, never reused for other policies) and the request as it is
 * handed to Cedar, with one abstraction: a context field the policies only compare with string
 * literals (`context.task == ""`, reads.ts `contextComparedOnly`) is keyed by which of those
 * literals it equals, or none, since the answer depends on it through nothing else (and such a
 * comparison never errors). So a hit returns what Cedar would return. Nothing outside the
 * request is consulted, so there is nothing to invalidate: a policy reload makes a new
 * evaluator, with new set names and an empty memo.
 *
 * Why it pays: the request carries only what the slice's policies read (reads.ts), so requests
 * that differ only in what no policy looks at (the ticket, the time when no policy reads
 * `context.now`), or in a task text the guardrails only test for being blank, are one request
 * to Cedar. A service, CI job or agent asking again for the same target, role and TTL for a new
 * task is the common case (docs/benchmarks.md, "Issuance"); a new task still needs a new grant
 * and a new decision record, only the policy arithmetic is not redone.
 *
 * Bounded in entries and in key length (a policy matching `context.task like "*x*"` puts the
 * task text into the key); least recently used entries go first. Requests whose policies read
 * `context.now` get no key (`memoKeyOf`): they differ every millisecond.
 */
import type { PolicyAnswer } from '../../ports/policy.js';
import type { CedarRequest } from './request.js';
import type { PolicyReads } from './reads.js';

/** Most answers kept. */
export const DECISION_MEMO_ENTRIES = 1024;

/** Longest key (UTF-16 code units) kept; longer requests are evaluated every time. Bounds the memo to ~4 MB. */
export const DECISION_MEMO_MAX_KEY = 2048;

/** A bounded least-recently-used map from request keys to frozen answers. */
export class DecisionMemo {
  private readonly answers = new Map<string, PolicyAnswer>();
  /** Lookups answered from the memo, and those that went to Cedar (tests, benchmarks). */
  readonly counts = { hits: 0, misses: 0 };

  constructor(
    readonly maxEntries: number = DECISION_MEMO_ENTRIES,
    readonly maxKeyLength: number = DECISION_MEMO_MAX_KEY,
  ) {}

  /** Entries held now. */
  get size(): number {
    return this.answers.size;
  }

  /** The answer kept for `key`, made the most recently used. */
  get(key: string): PolicyAnswer | undefined {
    const answer = this.answers.get(key);
    if (answer === undefined) {
      this.counts.misses++;
      return undefined;
    }
    this.counts.hits++;
    // A Map iterates in insertion order: re-inserting moves the key to the young end.
    this.answers.delete(key);
    this.answers.set(key, answer);
    return answer;
  }

  /** Keeps `answer` under `key`, frozen so that no caller can change what the next one gets. */
  set(key: string, answer: PolicyAnswer): PolicyAnswer {
    Object.freeze(answer.policies);
    Object.freeze(answer.errors);
    const frozen = Object.freeze(answer);
    if (key.length > this.maxKeyLength) return frozen;
    if (!this.answers.has(key) && this.answers.size >= this.maxEntries) {
      const oldest = this.answers.keys().next();
      if (oldest.done !== true) this.answers.delete(oldest.value);
    }
    this.answers.set(key, frozen);
    return frozen;
  }
}

/**
 * The memo key of a request for the set named `policySetId`, or `undefined` when the request
 * is not worth one (it holds `context.now`, or the reads are not narrowed down).
 *
 * JSON is exact here: every value is a string, a boolean, a safe integer, or a record or list of
 * those (request.ts checks each type), and requests are built in one fixed key order. The
 * stand-ins for compared-only fields are records with a key no request value has, so they
 * cannot collide with a real value.
 */
export function memoKeyOf(policySetId: string, request: CedarRequest, reads: PolicyReads): string | undefined {
  if (reads.context === 'all' || reads.context.has('now')) return undefined;
  let context: Record<string, unknown> = request.context;
  if (reads.contextComparedOnly.size > 0) {
    context = { ...request.context };
    for (const [field, literals] of reads.contextComparedOnly) {
      if (!Object.hasOwn(context, field)) continue;
      const value = context[field];
      // Not a string: kept as it is (a comparison with a string literal is then simply false).
      if (typeof value === 'string') context[field] = literals.has(value) ? { 'memo:equals': value } : { 'memo:equalsNone': true };
    }
  }
  return `${policySetId}\n${JSON.stringify([request.principal, request.action, request.resource, context, request.entities])}`;
}
