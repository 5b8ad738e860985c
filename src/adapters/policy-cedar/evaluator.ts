/**
 * Evaluates requests against a policy set and schema Cedar already holds pre-parsed
 * (`statefulIsAuthorized`: no re-parse per call, REFERENCE.md section 4). Fail closed: the
 * answer is "allowed" only for an `allow` decision with zero evaluation errors, because Cedar
 * skips a policy that errors, so an erroring `forbid` would otherwise fail open.
 */
import { statefulIsAuthorized } from '@cedar-policy/cedar-wasm/nodejs';
import type { AuthorizationAnswer } from '@cedar-policy/cedar-wasm/nodejs';
import type { PolicyAnswer, PolicyEvaluator, PolicyInput } from '../../ports/policy.js';
import { cedarRequestOf, type CedarRequest } from './request.js';

/** Names under which Cedar caches this evaluator's parsed policy set and schema. */
export interface PreparsedNames {
  readonly policySetId: string;
  readonly schemaName: string;
}

/** A policy's id and, for a permit, its `@approvals("N")`. */
export interface EvaluatorPolicy {
  readonly id: string;
  readonly approvals?: number;
  /**
   * The policy's Cedar text, as pre-parsed. Only used to learn whether a decision can depend on
   * `context.now`; without it every decision is assumed to, and none is remembered.
   */
  readonly text?: string;
}

/** Decisions remembered per evaluator (a few hundred bytes each). */
export const DECISION_CACHE_SIZE = 256;

/**
 * Whether a policy may read `context.now`, judged on its text, erring towards "yes". Cedar
 * reaches a context attribute only through the `context` variable: as `context.name`,
 * `context has name`, `context["name"]` or the whole record. A policy cannot read `now` unless
 * its text holds the word `now` (in `.now`, `has now` or a `"now"` literal), or uses `context`
 * in any way other than `context.name` / `context has name` (the whole record, or a quoted
 * attribute). Comments count too, which only ever makes the answer "yes".
 */
export function mayReadNow(text: string): boolean {
  if (/\bnow\b/.test(text)) return true;
  for (const match of text.matchAll(/\bcontext\b/g)) {
    const rest = text.slice(match.index + match[0].length);
    if (!/^(\s*\.\s*|\s+has\s+)[A-Za-z_][A-Za-z0-9_]*\b/.test(rest)) return true;
  }
  return false;
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
  /**
   * Answers already computed, keyed by the whole Cedar request (entities and context included)
   * except `context.now`; only when no policy may read `now` (see `mayReadNow`), so the
   * answer is a function of the key alone: Cedar evaluation is deterministic for a fixed
   * policy set and schema, and an evaluator's set never changes (a reload builds a new one).
   * Undefined when decisions may depend on the time.
   */
  private readonly remembered: Map<string, PolicyAnswer> | undefined;

  /**
   * @param names where Cedar holds the pre-parsed set and schema (both must exist)
   * @param policies every loaded policy, in load order
   * @param warnings validator warnings from the load (`file:line:column: message`)
   */
  constructor(
    private readonly names: PreparsedNames,
    policies: readonly EvaluatorPolicy[],
    readonly warnings: readonly string[],
  ) {
    this.policyIds = Object.freeze(policies.map((p) => p.id));
    this.positions = new Map(policies.map((p, i) => [p.id, i]));
    this.approvalsById = new Map(policies.flatMap((p) => (p.approvals === undefined ? [] : [[p.id, p.approvals] as const])));
    this.remembered = policies.every((p) => p.text !== undefined && !mayReadNow(p.text)) ? new Map() : undefined;
  }

  /** Whether answers are remembered (no policy may read `context.now`). */
  get remembersDecisions(): boolean {
    return this.remembered !== undefined;
  }

  /** Decides one request. Never throws; any problem yields `allowed: false` with `errors`. */
  evaluate(input: PolicyInput): PolicyAnswer {
    let built: ReturnType<typeof cedarRequestOf>;
    try {
      built = cedarRequestOf(input);
    } catch (e) {
      return denied([`Cedar could not take the request: ${e instanceof Error ? e.message : String(e)}`]);
    }
    if ('error' in built) return denied([`invalid request: ${built.error}`]);
    const key = this.remembered === undefined ? undefined : keyOf(built.request);
    const known = key === undefined ? undefined : this.remembered!.get(key);
    if (known !== undefined) return copyOf(known);
    const answer = this.authorize(built.request);
    if (key !== undefined && answer.remember) {
      const remembered = this.remembered!;
      // Oldest first out: a Map iterates in insertion order.
      if (remembered.size >= DECISION_CACHE_SIZE) remembered.delete(remembered.keys().next().value!);
      remembered.set(key, copyOf(answer.answer));
    }
    return answer.answer;
  }

  /** One Cedar evaluation. `remember` is false when Cedar threw (not a decision of the policies). */
  private authorize(request: CedarRequest): { answer: PolicyAnswer; remember: boolean } {
    let answer: AuthorizationAnswer;
    try {
      answer = statefulIsAuthorized({
        ...request,
        preparsedPolicySetId: this.names.policySetId,
        preparsedSchemaName: this.names.schemaName,
        validateRequest: true,
      });
    } catch (e) {
      // The WASM glue throws on input serde cannot read (e.g. a lone UTF-16 surrogate).
      return { answer: denied([`Cedar could not take the request: ${e instanceof Error ? e.message : String(e)}`]), remember: false };
    }
    if (answer.type === 'failure') return { answer: denied(answer.errors.map((e) => `Cedar refused the request: ${e.message}`)), remember: true };
    const { decision, diagnostics } = answer.response;
    const errors = diagnostics.errors.map((e) => `policy "${e.policyId}": ${e.error.message}`);
    const allowed = decision === 'allow' && errors.length === 0;
    // Load order (file name, then position), so the stored and shown ids never depend on Cedar's
    // internal iteration order.
    const policies = [...diagnostics.reason].sort((a, b) => this.loadOrder(a) - this.loadOrder(b));
    if (!allowed) return { answer: { allowed, policies, errors }, remember: true };
    let approvals: number | undefined;
    for (const id of policies) {
      const n = this.approvalsById.get(id);
      if (n !== undefined && (approvals === undefined || n > approvals)) approvals = n;
    }
    return { answer: { allowed, policies, errors, ...(approvals === undefined ? {} : { approvalsAnnotation: approvals }) }, remember: true };
  }
}

/** The request without `context.now`, as text: equal keys mean equal Cedar inputs but the time. */
function keyOf(request: CedarRequest): string {
  const { now: _now, ...context } = request.context as Record<string, unknown>;
  return JSON.stringify([request.principal, request.action, request.resource, context, request.entities]);
}

/** A copy a caller may keep or change without touching the remembered answer. */
function copyOf(answer: PolicyAnswer): PolicyAnswer {
  return { ...answer, policies: [...answer.policies], errors: [...answer.errors] };
}

function denied(errors: string[]): PolicyAnswer {
  return { allowed: false, policies: [], errors };
}
