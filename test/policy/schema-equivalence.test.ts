/**
 * The evaluator sends requests to Cedar without the schema (evaluator.ts), only to the policies
 * that could apply (slices.ts), and only the values those can read (reads.ts): `cedarRequestOf`
 * checks every value's type, the evaluator refuses undeclared actions, and walks of the policies
 * decide what is left out. This test holds all of it to Cedar itself: on random requests
 * (well-typed, ill-typed, unknown roles), an evaluator sending everything to the whole set with
 * `checkRequestsAgainstSchema` must give the same decision, determining policies and errors,
 * and whatever Cedar's validation refuses must be denied.
 */
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCedarPolicies, type CedarPolicyEvaluator } from '../../src/adapters/policy-cedar/index.js';
import type { PolicyInput } from '../../src/ports/policy.js';
import { policyInput } from './arbitraries.js';
import { EXAMPLE_ROLES, temporaryPolicyDirs } from './inputs.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/policies', import.meta.url));

/**
 * Permits only, one per thing a policy can look at: with no forbid, Cedar's reasons for an
 * allow are every satisfied permit, so one answer compares the outcome of every predicate.
 */
const PROBES = `
@id("p-tag-env") permit (principal, action, resource) when { principal.hasTag("env") && principal.getTag("env") == "prod" };
@id("p-tag-team") permit (principal, action, resource) when { resource.hasTag("team") && principal is Stint::Workload && principal.team == resource.getTag("team") };
@id("p-target-tag") permit (principal, action, resource) when { resource.hasTag("tier") && resource.getTag("tier") like "g*" };
@id("p-kind") permit (principal is Stint::Workload, action, resource) when { principal.kind == "agent" || principal.kind == "" };
@id("p-names") permit (principal, action, resource) when { principal.name == resource.name || principal.issuer == "dev" };
@id("p-tenant") permit (principal, action, resource) when { principal.tenant == resource.tenant && resource.env == "prod" };
@id("p-group") permit (principal in Stint::Group::"dba", action, resource);
@id("p-human") permit (principal is Stint::Human, action in [Stint::Action::"read", Stint::Action::"write"], resource);
@id("p-ttl") permit (principal, action, resource) when { context.ttl <= duration("30m") && context.ttlSeconds * 2 <= context.maxTtlSeconds };
@id("p-text") permit (principal, action, resource) when { context.task like "*igr*" || context.reason == "incident" || context.riskTier == "critical" };
@id("p-ticket") permit (principal, action, resource) when { context has ticket && context.ticket != "" };
@id("p-flags") permit (principal, action, resource) when { context.approved && !context.breakGlass || context.isExtension && context.businessHours };
@id("p-dpop") permit (principal, action == Stint::Action::"admin", resource) when { context.dpop || context.delegated };
@id("p-now") permit (principal, action, resource) when { context.now > datetime("2026-01-01") && context.now.toTime() < duration("12h") };
@id("f-staging-break-glass") forbid (principal, action, resource) when { resource.env == "staging" && context.breakGlass };
@id("p-chain") permit (principal, action, resource) when { context.actorChain.contains("human:alice") || context.actorChain.isEmpty() };
`;

/**
 * Policies that read some fields and not others, with reads the walk must not miss: a nested
 * `has`, a tag read through a computed entity, `context` used whole, an attribute read in an
 * `unless`, inside a set, an if-then-else and an extension call.
 */
const PARTIAL = `
@id("q-some") permit (principal, action, resource) when { context.ttlSeconds <= 900 && resource.env == "prod" && principal.tenant == "default" };
@id("q-unless") permit (principal is Stint::Workload, action, resource) unless { principal.team == "payments" || context has ticket };
@id("q-set") permit (principal, action, resource) when { [context.riskTier, "x"].contains("low") && (if context.approved then resource.name else principal.name) like "*-db" };
@id("q-ext") permit (principal, action, resource) when { context.now.offset(context.ttl) > datetime("2026-01-05T10:10:00Z") };
@id("q-computed") permit (principal is Stint::Workload, action, resource) when { (if context.breakGlass then principal else principal).hasTag("repository") };
@id("q-computed-attr") forbid (principal, action, resource) when { (if context.isExtension then resource else resource).tenant == "globex" };
`;
const WHOLE_CONTEXT = `
@id("w-context") permit (principal, action, resource) when { (if context.approved then context else context).task == "migrate" };
@id("w-set") permit (principal, action, resource) when { [context].contains(context) && context.breakGlass };
`;

/**
 * Policies the slicing must get exactly right: guards (leading boolean context tests) in every
 * position, one behind a conjunct that errors (integer overflow: `ttlSeconds * 2^62` overflows
 * for most TTLs), a guard in a second `when` clause, an `unless` first, a guard under `||`,
 * and scopes on principal type, principal uid and action lists.
 */
const GUARDS = `
@id("g-approved") permit (principal, action == Stint::Action::"write", resource) when { context.approved && context.ttlSeconds * 4611686018427387904 > 0 };
@id("g-not-break-glass") forbid (principal, action, resource) when { !context.breakGlass && context.task == "stop" };
@id("g-two-clauses") permit (principal, action == Stint::Action::"write", resource) when { context.isExtension } when { context.dpop && resource.env == "prod" };
@id("g-after-error") permit (principal is Stint::Human, action == Stint::Action::"admin", resource) when { context.ttlSeconds * 4611686018427387904 > 0 && context.approved };
@id("g-unless-first") permit (principal, action in [Stint::Action::"write"], resource) unless { context.ttlSeconds * 4611686018427387904 > 0 } when { context.delegated };
@id("g-or") permit (principal is Stint::Human, action, resource) when { context.businessHours || context.approved && context.ttlSeconds * 4611686018427387904 > 0 };
@id("g-human") permit (principal is Stint::Human, action in [Stint::Action::"read", Stint::Action::"admin"], resource) when { !context.approved };
@id("g-uid") forbid (principal == Stint::Workload::"deploy-bot", action, resource) when { context.breakGlass && principal.team == "payments" };
@id("g-nested") permit (principal, action, resource) when { (context.approved && !context.delegated) && (!!context.businessHours && principal.tenant == "default") };
@id("g-unless-guard") permit (principal is Stint::Workload, action == Stint::Action::"read", resource) unless { context.approved } when { context.ttlSeconds <= 900 };
@id("g-not-a-guard") permit (principal is Stint::Workload, action == Stint::Action::"admin", resource) when { context.approved == context.breakGlass };
`;

/** A value of the wrong type for the schema, for one field at a time. */
const wrongType = fc.constantFrom<unknown>(7, true, null, ['x'], { a: 'b' }, 1.5);

/** Mostly well-typed requests; sometimes one field carries a value of another type. */
const requests: fc.Arbitrary<PolicyInput> = fc.oneof(
  { arbitrary: policyInput, weight: 8 },
  {
    arbitrary: fc
      .tuple(
        policyInput,
        fc.constantFrom('role', 'riskTier', 'task', 'reason', 'ticket', 'approved', 'breakGlass', 'businessHours', 'tag', 'targetTag', 'group', 'chain', 'env'),
        wrongType,
      )
      .map(([input, field, value]): PolicyInput => {
        const bad = value as string;
        switch (field) {
          case 'tag':
            return { ...input, principal: { ...input.principal, attributes: { ...input.principal.attributes, env: bad } } };
          case 'targetTag':
            return { ...input, target: { ...input.target, attributes: { tier: bad } } };
          case 'group':
            return { ...input, principalGroups: [bad] };
          case 'chain':
            return { ...input, principal: { ...input.principal, actorChain: [bad] } };
          case 'env':
            return { ...input, target: { ...input.target, env: bad } };
          default:
            return { ...input, [field]: value } as PolicyInput;
        }
      }),
    weight: 2,
  },
);

const dirWith = temporaryPolicyDirs();

async function pair(dir: string): Promise<{ fast: CedarPolicyEvaluator; checked: CedarPolicyEvaluator }> {
  const [fast, checked] = await Promise.all([
    loadCedarPolicies({ dir, roleNames: EXAMPLE_ROLES }),
    loadCedarPolicies({ dir, roleNames: EXAMPLE_ROLES, checkRequestsAgainstSchema: true, sendEverything: true }),
  ]);
  return { fast, checked };
}


describe.each([
  ['the example policies', async () => EXAMPLES],
  ['one permit per attribute and context field', dirWith(PROBES)],
  ['policies that read some fields only', dirWith(PARTIAL)],
  ['a policy that uses the whole context', dirWith(WHOLE_CONTEXT)],
  ['guards and scopes that slicing leaves out', dirWith(GUARDS)],
])('%s: sending what the policies that could apply read, without the schema, gives the answers of sending everything to all of them with it', (_name, dirOf) => {
  let evaluators: { fast: CedarPolicyEvaluator; checked: CedarPolicyEvaluator };
  beforeAll(async () => {
    evaluators = await pair(await dirOf());
  });

  it('on random requests', () => {
    const seen = { allowed: 0, refusedBySchema: 0, denied: 0 };
    fc.assert(
      fc.property(requests, (request) => {
        const fast = evaluators.fast.evaluate(request);
        const checked = evaluators.checked.evaluate(request);
        const refusedBySchema = checked.errors.some((e) => e.startsWith('Cedar refused the request') || e.startsWith('invalid request'));
        if (refusedBySchema) {
          // Whatever Cedar's validation refuses is refused without it too, with a reason.
          seen.refusedBySchema += 1;
          expect(fast).toMatchObject({ allowed: false, policies: [] });
          expect(fast.errors.length).toBeGreaterThan(0);
          return;
        }
        if (fast.errors.some((e) => e.startsWith('invalid request'))) {
          // The JavaScript checks may be stricter than Cedar's (never looser): still a denial.
          expect(fast.allowed).toBe(false);
          return;
        }
        expect(fast).toEqual(checked);
        seen[fast.allowed ? 'allowed' : 'denied'] += 1;
      }),
      { numRuns: 1500 },
    );
    // The generator must reach every kind of answer, or the comparison proves little.
    expect(seen.allowed).toBeGreaterThan(20);
    expect(seen.denied).toBeGreaterThan(50);
    expect(seen.refusedBySchema).toBeGreaterThan(20);
  });
});
