/**
 * Policy slices: for one request, only the policies that could be satisfied by it go to Cedar,
 * and only what those policies read (reads.ts).
 *
 * Why: an evaluation's cost is mostly Cedar taking in the request's values and running every
 * policy of the set (docs/benchmarks.md, "Issuance"); an auto-approved read under the example
 * policies needs 3 of their 11 policies and 4 of their 15 values.
 *
 * A policy is left out of a request's slice only where Cedar provably skips it without an
 * error, so the decision, the determining policies and the errors are all unchanged:
 * - its **scope** cannot match: `principal is T` / `principal == T::"id"` for another principal
 *   type, `action == A` / `action in [A, B]` naming only other actions. A scope test never
 *   errors. Stint's generated schema declares no action groups, and requests carry no action
 *   entities, so `action in A` holds exactly when the action is A.
 * - a **guard** is false: the first conjuncts of its first `when` clauses (Cedar evaluates the
 *   clauses in order, `&&` left to right, and stops at the first false) test a boolean context
 *   field that every request carries (`context.approved`, `!context.breakGlass`), and this
 *   request's value fails one of them. Everything before that guard is a guard too, so nothing
 *   evaluated before it could have raised an error.
 * Anything the walk does not recognise keeps the policy in. `test/policy/schema-equivalence.test.ts`
 * runs random requests through sliced and whole sets and requires identical answers.
 */
import { preparsePolicySet } from '@cedar-policy/cedar-wasm/nodejs';
import type { PolicyInput } from '../../ports/policy.js';
import { BOOLEAN_CONTEXT, type BooleanContextField } from './request.js';
import { policyReads, type PolicyReads } from './reads.js';
import { CEDAR_TYPES } from './schema.js';

/** What slicing needs of a parsed policy (parse.ts). */
export interface SliceablePolicy {
  readonly id: string;
  readonly text: string;
  /** `principal` and `action` of Cedar's JSON policy format. */
  readonly scope: { readonly principal: unknown; readonly action: unknown };
  readonly conditions: unknown;
}

/** A guard: the policy can only be satisfied when `field` is `value`. */
interface Guard {
  readonly field: BooleanContextField;
  readonly value: boolean;
}

/** One preparsed slice: Cedar's name for it and what its policies read. */
export interface PolicySlice {
  readonly policySetId: string;
  /** Ids of the policies in the slice, in load order. */
  readonly policyIds: readonly string[];
  readonly reads: PolicyReads;
}

/**
 * Slices are made on first use and kept (Cedar offers no way to drop a preparsed set, and each
 * holds its own parsed copy of its policies); past this many slices, or this many policies in
 * all of them together, requests of a new shape use the whole set, which is always correct.
 */
const MAX_SLICES = 512;
const MAX_SLICED_POLICIES = 20_000;

const PRINCIPAL_TYPES = { workload: CEDAR_TYPES.workload, human: CEDAR_TYPES.human } as const;

/** The slices of one loaded policy set. */
export class PolicySlices {
  /** Guard fields any policy uses, in a fixed order: a slice key has one bit per field. */
  private readonly guardFields: readonly BooleanContextField[];
  private readonly guards: ReadonlyMap<string, readonly Guard[]>;
  private readonly slices = new Map<string, PolicySlice>();
  private slicedPolicies = 0;

  /**
   * @param policies every loaded policy, in load order
   * @param setIdPrefix Cedar cache names of the slices start with this (unique per load)
   */
  constructor(
    private readonly policies: readonly SliceablePolicy[],
    private readonly setIdPrefix: string,
  ) {
    this.guards = new Map(policies.map((p) => [p.id, guardsOf(p.conditions)]));
    this.guardFields = [...new Set([...this.guards.values()].flatMap((gs) => gs.map((g) => g.field)))].sort();
  }

  /** The slice for `input`, or `undefined` when it cannot be told (the whole set then decides). */
  sliceFor(input: PolicyInput): PolicySlice | undefined {
    const principalType = (PRINCIPAL_TYPES as Record<string, string | undefined>)[input.principal.type as string];
    if (principalType === undefined || typeof input.role !== 'string') return undefined;
    const values = new Map<BooleanContextField, boolean>();
    let key = `${principalType} ${input.role.length}:${input.role} `;
    for (const field of this.guardFields) {
      const value = BOOLEAN_CONTEXT[field](input);
      // Not a boolean: the request is refused before Cedar is asked (request.ts).
      if (typeof value !== 'boolean') return undefined;
      values.set(field, value);
      key += value ? '1' : '0';
    }
    const known = this.slices.get(key);
    if (known !== undefined) return known;
    if (this.slices.size >= MAX_SLICES) return undefined;
    const kept = this.policies.filter(
      (p) => scopeCanMatch(p.scope, principalType, input.role) && this.guards.get(p.id)!.every((g) => values.get(g.field) === g.value),
    );
    if (this.slicedPolicies + kept.length > MAX_SLICED_POLICIES) return undefined;
    const policySetId = `${this.setIdPrefix}/${this.slices.size}`;
    const answer = preparsePolicySet(policySetId, { staticPolicies: Object.fromEntries(kept.map((p) => [p.id, p.text])) });
    // Each policy was parsed and validated at load; should Cedar still refuse, the whole set decides.
    if (answer.type === 'failure') return undefined;
    const slice: PolicySlice = { policySetId, policyIds: kept.map((p) => p.id), reads: policyReads(kept.map((p) => p.conditions)) };
    this.slices.set(key, slice);
    this.slicedPolicies += kept.length;
    return slice;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `{ type, id }` when `value` is an entity reference of the JSON policy format. */
function entityOf(value: unknown): { type: unknown; id: unknown } | undefined {
  return isObject(value) ? { type: value.type, id: value.id } : undefined;
}

/**
 * False only when the scope provably excludes a `principalType` principal doing `action`.
 * The resource scope is not looked at (every resource is a target). Unknown shapes match.
 */
export function scopeCanMatch(scope: SliceablePolicy['scope'], principalType: string, action: string): boolean {
  return principalCanMatch(scope.principal, principalType) && actionCanMatch(scope.action, action);
}

function principalCanMatch(scope: unknown, principalType: string): boolean {
  if (!isObject(scope)) return true;
  if (scope.op === '==') {
    const entity = entityOf(scope.entity);
    return entity === undefined || typeof entity.type !== 'string' || entity.type === principalType;
  }
  // `is T` and `is T in E`: only a principal of type T.
  if (scope.op === 'is') return typeof scope.entity_type !== 'string' || scope.entity_type === principalType;
  return true;
}

function actionCanMatch(scope: unknown, action: string): boolean {
  if (!isObject(scope)) return true;
  let listed: unknown[];
  if (scope.op === '==') listed = [scope.entity];
  else if (scope.op === 'in') listed = Array.isArray(scope.entities) ? scope.entities : [scope.entity];
  else return true;
  return listed.some((value) => {
    const entity = entityOf(value);
    // Anything but a plain Stint action might match in ways not modelled here: keep the policy.
    return entity === undefined || entity.type !== CEDAR_TYPES.action || entity.id === action;
  });
}

/**
 * The guards Cedar evaluates first: the leading conjuncts of the leading `when` clauses that
 * test an always-present boolean context field, up to the first conjunct that is anything else.
 */
export function guardsOf(conditions: unknown): Guard[] {
  const guards: Guard[] = [];
  if (!Array.isArray(conditions)) return guards;
  for (const clause of conditions) {
    if (!isObject(clause) || clause.kind !== 'when') return guards;
    for (const conjunct of conjunctsOf(clause.body)) {
      const guard = guardOf(conjunct);
      if (guard === undefined) return guards;
      guards.push(guard);
    }
  }
  return guards;
}

/** `a && b && c` in evaluation order (however it is bracketed). */
function conjunctsOf(node: unknown): unknown[] {
  if (isObject(node) && isObject(node['&&']) && Object.keys(node).length === 1) {
    const { left, right } = node['&&'];
    return [...conjunctsOf(left), ...conjunctsOf(right)];
  }
  return [node];
}

/** `context.f` (true) or `!context.f` (false), for an always-present boolean field `f`. */
function guardOf(node: unknown): Guard | undefined {
  if (!isObject(node) || Object.keys(node).length !== 1) return undefined;
  if (isObject(node['!'])) {
    const inner = guardOf(node['!'].arg);
    return inner === undefined ? undefined : { field: inner.field, value: !inner.value };
  }
  const access = node['.'];
  if (!isObject(access) || typeof access.attr !== 'string' || !Object.hasOwn(BOOLEAN_CONTEXT, access.attr)) return undefined;
  const left = access.left;
  if (!isObject(left) || Object.keys(left).length !== 1 || left.Var !== 'context') return undefined;
  return { field: access.attr as BooleanContextField, value: true };
}
