/**
 * PolicyInput -> Cedar request (JSON entity and context formats). The entity model and the
 * context fields are documented in docs/policies.md; the schema is in schema.ts.
 *
 * Every request this builds conforms to the schema by construction: each value's type is
 * checked here, and the shape is fixed. That is what lets the evaluator skip Cedar's own
 * request validation against the schema, which costs about a third of an evaluation
 * (docs/benchmarks.md, "Issuance"); `test/policy/schema-equivalence.test.ts` checks that both
 * give the same answers.
 */
import type { Context, EntityJson, TypeAndId } from '@cedar-policy/cedar-wasm/nodejs';
import { parsePrincipalId } from '../../core/principal.js';
import type { PolicyInput } from '../../ports/policy.js';
import { CEDAR_TYPES } from './schema.js';
import { keepRead, READS_EVERYTHING, type PolicyReads } from './reads.js';

/** The parts of a Cedar authorization call that depend on the request. */
export interface CedarRequest {
  readonly principal: TypeAndId;
  readonly action: TypeAndId;
  readonly resource: TypeAndId;
  readonly context: Context;
  readonly entities: EntityJson[];
}

/**
 * The boolean context fields every request carries, and how each is read off the input: the
 * context below is built from this table, and policy slices (slices.ts) read the same values
 * to pick a request's policies, so the two can never disagree.
 */
export const BOOLEAN_CONTEXT = {
  approved: (input: PolicyInput): unknown => input.approved,
  breakGlass: (input: PolicyInput): unknown => input.breakGlass,
  isExtension: (input: PolicyInput): unknown => input.isExtension,
  businessHours: (input: PolicyInput): unknown => input.businessHours,
  dpop: (input: PolicyInput): unknown => input.dpopBound,
  delegated: (input: PolicyInput): unknown => {
    const chain = input.principal.actorChain ?? [];
    return Array.isArray(chain) ? chain.length > 0 : undefined;
  },
} as const satisfies Record<string, (input: PolicyInput) => unknown>;

/** A boolean context field every request carries. */
export type BooleanContextField = keyof typeof BOOLEAN_CONTEXT;
const BOOLEAN_CONTEXT_FIELDS = Object.keys(BOOLEAN_CONTEXT) as BooleanContextField[];

/** Largest epoch ms a JS Date holds (ECMA-262 21.4.1.1); beyond it toISOString throws. */
const MAX_DATE_MS = 8.64e15;
// Cedar's datetime() takes `YYYY-MM-DD...`: four-digit years only.
const FOUR_DIGIT_YEAR = /^\d{4}-/;

/**
 * Builds the request, or says why it cannot be built: the input comes from the broker, but
 * the evaluator must deny (never throw) on anything Cedar could not represent.
 */
export function cedarRequestOf(input: PolicyInput, reads: PolicyReads = READS_EVERYTHING): { request: CedarRequest } | { error: string } {
  const { principal, target } = input;
  const parsed = parsePrincipalId(principal.id);
  if (parsed === undefined || parsed.type !== principal.type) {
    return { error: `principal id ${JSON.stringify(principal.id)} is not a well-formed ${String(principal.type)} id` };
  }
  for (const [field, value] of [['ttlSeconds', input.ttlSeconds], ['roleMaxTtlSeconds', input.roleMaxTtlSeconds]] as const) {
    if (!Number.isSafeInteger(value)) return { error: `${field} must be an integer, got ${String(value)}` };
  }
  const typeError = firstTypeError(input);
  if (typeError !== undefined) return { error: typeError };
  if (!(Math.abs(input.now) <= MAX_DATE_MS)) return { error: `now is not a valid time: ${String(input.now)}` };
  const now = new Date(input.now).toISOString();
  if (!FOUR_DIGIT_YEAR.test(now)) return { error: `now is outside the years 0000-9999: ${now}` };

  const groups = [...new Set(input.principalGroups)].map((id) => ({ type: CEDAR_TYPES.group, id }));
  const principalUid = { type: principal.type === 'workload' ? CEDAR_TYPES.workload : CEDAR_TYPES.human, id: parsed.name };
  const resource = { type: CEDAR_TYPES.target, id: target.name };
  const attributes = principal.attributes;
  const principalAttrs: Record<string, string> =
    principal.type === 'workload'
      ? {
          name: parsed.name,
          kind: principal.kind ?? '',
          tenant: principal.tenant,
          env: ownValue(attributes, 'env'),
          team: ownValue(attributes, 'team'),
          issuer: principal.issuer,
        }
      : { name: parsed.name, tenant: principal.tenant, issuer: principal.issuer };
  // Only what some policy can read is sent (reads.ts): the rest could not change the answer.
  const entities: EntityJson[] = [
    { uid: principalUid, attrs: keepRead(principalAttrs, reads.principal), parents: groups, ...(reads.principalTags ? { tags: attributes } : {}) },
    {
      uid: resource,
      attrs: keepRead({ name: target.name, env: target.env, tenant: target.tenant }, reads.resource),
      parents: [],
      ...(reads.resourceTags ? { tags: target.attributes } : {}),
    },
    ...groups.map((uid) => ({ uid, attrs: {}, parents: [] })),
  ];

  const actorChain = principal.actorChain ?? [];
  const context: Context = {
    ttl: { __extn: { fn: 'duration', arg: `${input.ttlSeconds}s` } },
    ttlSeconds: input.ttlSeconds,
    maxTtlSeconds: input.roleMaxTtlSeconds,
    riskTier: input.riskTier,
    task: input.task,
    reason: input.reason,
    now: { __extn: { fn: 'datetime', arg: now } },
    actorChain: [...actorChain],
  };
  // Checked above (firstTypeError): each of these is a boolean.
  for (const field of BOOLEAN_CONTEXT_FIELDS) context[field] = BOOLEAN_CONTEXT[field](input) as boolean;
  // A blank ticket is no ticket: `context has ticket` must mean a reference was given.
  if (input.ticket !== undefined && input.ticket.trim() !== '') context.ticket = input.ticket;

  return {
    request: { principal: principalUid, action: { type: CEDAR_TYPES.action, id: input.role }, resource, context: keepRead(context, reads.context), entities },
  };
}

const STRING_FIELDS = ['role', 'riskTier', 'task', 'reason'] as const;
const BOOLEAN_FIELDS = ['approved', 'breakGlass', 'isExtension', 'dpopBound', 'businessHours'] as const;

/**
 * The schema's types, checked in JavaScript: the input comes from the broker and its types say
 * so, but a broker bug that passed a number where the schema says String must deny with a
 * reason, never reach a policy as a Long (`context.riskTier == "critical"` would then simply be
 * false, and a forbid on it would not apply). Every text is also checked for a lone UTF-16
 * surrogate, which Cedar cannot take: here, for every value, so a request is refused the same
 * way whether or not the value would be sent (reads.ts).
 */
function firstTypeError(input: PolicyInput): string | undefined {
  const { principal, target } = input;
  for (const field of BOOLEAN_FIELDS) if (typeof input[field] !== 'boolean') return `${field} must be a boolean`;
  // Plain loops, no callbacks inside array builtins: this runs on every request, also on
  // ill-typed ones, and V8 in Node 20.20 has crashed deoptimising such a frame (docs/benchmarks.md).
  for (const field of STRING_FIELDS) {
    const problem = textProblem(input[field]);
    if (problem !== undefined) return `${field} ${problem === 'type' ? 'must be a string' : LONE_SURROGATE_PROBLEM}`;
  }
  if (input.ticket !== undefined) {
    const problem = textProblem(input.ticket);
    if (problem !== undefined) return `ticket ${problem === 'type' ? 'must be a string' : LONE_SURROGATE_PROBLEM}`;
  }
  const chain = principal.actorChain ?? [];
  const principalTexts: unknown[] = [principal.id, principal.tenant, principal.issuer];
  if (principal.kind !== undefined) principalTexts.push(principal.kind);
  // [what, its values, what each must be]
  const lists: ReadonlyArray<readonly [string, unknown, string]> = [
    ['principal', principalTexts, 'strings'],
    ['target', [target.name, target.env, target.tenant], 'strings'],
    ['principal groups', input.principalGroups, 'strings'],
    ['actor chain', chain, 'strings'],
    ['principal attributes', recordTexts(principal.attributes), 'strings'],
    ['target attributes', recordTexts(target.attributes), 'strings'],
  ];
  for (const [field, values, kind] of lists) {
    if (!Array.isArray(values)) return `${field} must be ${kind}`;
    for (const value of values as unknown[]) {
      const problem = textProblem(value);
      if (problem !== undefined) return `${field} ${problem === 'type' ? `must be ${kind}` : LONE_SURROGATE_PROBLEM}`;
    }
  }
  return undefined;
}

const LONE_SURROGATE_PROBLEM = 'is not well-formed Unicode (it holds a lone surrogate)';

/** `type` when `value` is not a string, `surrogate` when it holds a lone surrogate. */
function textProblem(value: unknown): 'type' | 'surrogate' | undefined {
  if (typeof value !== 'string') return 'type';
  return LONE_SURROGATE.test(value) ? 'surrogate' : undefined;
}

/** The keys and values of a record; `null` when it is not one (the caller refuses that). */
function recordTexts(record: unknown): unknown[] | null {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return null;
  const texts: unknown[] = [];
  for (const key of Object.keys(record)) texts.push(key, (record as Record<string, unknown>)[key]);
  return texts;
}

/** In a `u` regular expression a surrogate pair is one code point, so this matches lone halves only. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** `record[key]` when it is the record's own property, else `''` (never an inherited `constructor`). */
function ownValue(record: Readonly<Record<string, string>>, key: string): string {
  return Object.hasOwn(record, key) ? (record[key] ?? '') : '';
}
