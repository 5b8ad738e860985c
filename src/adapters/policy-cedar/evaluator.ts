/**
 * Evaluates requests against a policy set Cedar already holds pre-parsed
 * (`statefulIsAuthorized`: no re-parse per call, REFERENCE.md section 4). Fail closed: the
 * answer is "allowed" only for an `allow` decision with zero evaluation errors, because Cedar
 * skips a policy that errors, so an erroring `forbid` would otherwise fail open.
 *
 * The policies were validated against the schema in strict mode at load. Requests are not sent
 * with the schema: `cedarRequestOf` builds only schema-conforming requests (it checks every
 * value's type) and this class refuses an undeclared action, which is all Cedar's request
 * validation would add; without it an evaluation costs about a third less (docs/benchmarks.md,
 * "Issuance"). `checkRequestsAgainstSchema` turns Cedar's check back on; the equivalence test
 * runs both on random requests and requires the same answers.
 */
import { statefulIsAuthorized } from '@cedar-policy/cedar-wasm/nodejs';
import type { AuthorizationAnswer } from '@cedar-policy/cedar-wasm/nodejs';
import type { PolicyAnswer, PolicyEvaluator, PolicyInput } from '../../ports/policy.js';
import { cedarRequestOf } from './request.js';
import { DecisionMemo, memoKeyOf } from './decision-memo.js';
import { READS_EVERYTHING, type PolicyReads } from './reads.js';
import type { PolicySlices } from './slices.js';

/** Names under which Cedar caches this evaluator's parsed policy set and schema. */
export interface PreparsedNames {
  readonly policySetId: string;
  readonly schemaName: string;
}

/** How requests are checked before evaluation. */
export interface EvaluatorOptions {
  /** Role names declared as actions in the schema: any other action is denied. */
  readonly actions: readonly string[];
  /** Also have Cedar validate each request against the schema (slower, same answers). */
  readonly checkRequestsAgainstSchema?: boolean;
  /** What the policies can read (reads.ts); only that is sent. Default: everything. */
  readonly reads?: PolicyReads;
  /** Per-request slices of the set (slices.ts); without, every request goes to the whole set. */
  readonly slices?: PolicySlices;
  /**
   * Reuse the answer for a request Cedar cannot tell from an earlier one (decision-memo.ts).
   * Default on; off to have Cedar answer every request (tests, the benchmark's comparison).
   */
  readonly memo?: boolean;
}

/** A policy's id and, for a permit, its `@approvals("N")`. */
export interface EvaluatorPolicy {
  readonly id: string;
  readonly approvals?: number;
}

/** The Cedar implementation of {@link PolicyEvaluator}. Built by `loadCedarPolicies`. */
export class CedarPolicyEvaluator implements PolicyEvaluator {
  readonly policyIds: readonly string[];
  /** Position of each policy in load order. */
  private readonly positions: ReadonlyMap<string, number>;

  private loadOrder(id: string): number {
    return this.positions.get(id) ?? Number.MAX_SAFE_INTEGER;
  }
  private readonly approvalsById: ReadonlyMap<string, number>;
  private readonly actions: ReadonlySet<string>;
  private readonly reads: PolicyReads;
  private readonly slices: PolicySlices | undefined;
  private readonly schemaCheck: { readonly preparsedSchemaName: string; readonly validateRequest: true } | Record<string, never>;
  /** Answers of earlier requests; `undefined` when memoising is off. */
  readonly memo: DecisionMemo | undefined;

  /**
   * @param names where Cedar holds the pre-parsed set and schema (both must exist)
   * @param policies every loaded policy, in load order
   * @param warnings validator warnings from the load (`file:line:column: message`)
   * @param options the declared actions, and whether Cedar also checks requests against the schema
   */
  constructor(
    private readonly names: PreparsedNames,
    policies: readonly EvaluatorPolicy[],
    readonly warnings: readonly string[],
    options: EvaluatorOptions,
  ) {
    this.actions = new Set(options.actions);
    this.reads = options.reads ?? READS_EVERYTHING;
    this.slices = options.slices;
    this.memo = options.memo === false ? undefined : new DecisionMemo();
    this.schemaCheck = options.checkRequestsAgainstSchema === true ? { preparsedSchemaName: names.schemaName, validateRequest: true } : {};
    this.policyIds = Object.freeze(policies.map((p) => p.id));
    this.positions = new Map(policies.map((p, i) => [p.id, i]));
    this.approvalsById = new Map(policies.flatMap((p) => (p.approvals === undefined ? [] : [[p.id, p.approvals] as const])));
  }

  /** Decides one request. Never throws; any problem yields `allowed: false` with `errors`. */
  evaluate(input: PolicyInput): PolicyAnswer {
    try {
      // The slice is picked before the request is checked; a request that fails the checks is
      // refused the same way whichever slice it would have gone to (request.ts checks all
      // values). An undeclared action is refused below and gets no slice of its own.
      const slice = this.actions.has(input.role) ? this.slices?.sliceFor(input) : undefined;
      const reads = slice?.reads ?? this.reads;
      const built = cedarRequestOf(input, reads);
      if ('error' in built) return denied([`invalid request: ${built.error}`]);
      // What Cedar's request validation would refuse first: an action the schema does not declare.
      if (!this.actions.has(input.role)) return denied([`invalid request: action ${JSON.stringify(input.role)} is not declared in the schema (no configured role has this name)`]);
      const policySetId = slice?.policySetId ?? this.names.policySetId;
      const memoKey = this.memo === undefined ? undefined : memoKeyOf(policySetId, built.request, reads);
      if (memoKey !== undefined) {
        const known = this.memo!.get(memoKey);
        if (known !== undefined) return known;
      }
      const answer = this.answerOf(statefulIsAuthorized({ ...built.request, preparsedPolicySetId: policySetId, ...this.schemaCheck }));
      return memoKey === undefined ? answer : this.memo!.set(memoKey, answer);
    } catch (e) {
      // The WASM glue throws on input serde cannot read (e.g. a lone UTF-16 surrogate).
      return denied([`Cedar could not take the request: ${e instanceof Error ? e.message : String(e)}`]);
    }
  }

  /** Cedar's answer as a {@link PolicyAnswer}: fail closed, ids and errors in load order. */
  private answerOf(answer: AuthorizationAnswer): PolicyAnswer {
    if (answer.type === 'failure') {
      const errors: string[] = [];
      for (const e of answer.errors) errors.push(`Cedar refused the request: ${e.message}`);
      return denied(errors);
    }
    const { decision, diagnostics } = answer.response;
    // Load order (file name, then position), so the stored and shown ids and errors never
    // depend on Cedar's internal iteration order (which also differs between slices). Plain
    // loops: the lists hold a few entries, and no callback runs inside an array builtin here
    // (V8 in Node 20.20 has crashed deoptimising such a frame, docs/benchmarks.md).
    const failed = this.inLoadOrder(diagnostics.errors, (e) => e.policyId);
    const errors: string[] = [];
    for (const e of failed) errors.push(`policy "${e.policyId}": ${e.error.message}`);
    const allowed = decision === 'allow' && errors.length === 0;
    const policies = this.inLoadOrder(diagnostics.reason, (id) => id);
    if (!allowed) return { allowed, policies, errors };
    let approvals: number | undefined;
    for (const id of policies) {
      const n = this.approvalsById.get(id);
      if (n !== undefined && (approvals === undefined || n > approvals)) approvals = n;
    }
    return { allowed, policies, errors, ...(approvals === undefined ? {} : { approvalsAnnotation: approvals }) };
  }

  /** A copy of `items` sorted by the load order of their policy (insertion sort, stable). */
  private inLoadOrder<T>(items: readonly T[], idOf: (item: T) => string): T[] {
    const sorted: T[] = [];
    const orders: number[] = [];
    for (const item of items) {
      const order = this.loadOrder(idOf(item));
      let at = sorted.length;
      while (at > 0 && orders[at - 1]! > order) at--;
      sorted.splice(at, 0, item);
      orders.splice(at, 0, order);
    }
    return sorted;
  }
}

function denied(errors: string[]): PolicyAnswer {
  return { allowed: false, policies: [], errors };
}
