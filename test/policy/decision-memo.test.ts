/**
 * The decision memo (decision-memo.ts) returns an earlier answer only for a request Cedar could
 * not tell apart from the earlier one. Held to Cedar itself: streams of requests drawn from small
 * pools (so they repeat, and differ in texts the policies only compare with literals) get the
 * same answers from an evaluator with the memo as from one that asks Cedar every time, and the
 * memo must actually answer many of them. Policies that read a text in any other way
 * (`like`, `contains`, comparing two fields) must key it by its whole value.
 */
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { DecisionMemo, memoKeyOf } from '../../src/adapters/policy-cedar/decision-memo.js';
import { readPolicyFiles } from '../../src/adapters/policy-cedar/files.js';
import { loadCedarPolicies, type CedarPolicyEvaluator } from '../../src/adapters/policy-cedar/index.js';
import { parsePolicyFile } from '../../src/adapters/policy-cedar/parse.js';
import { policyReads } from '../../src/adapters/policy-cedar/reads.js';
import { cedarRequestOf } from '../../src/adapters/policy-cedar/request.js';
import type { PolicyInput } from '../../src/ports/policy.js';
import { EXAMPLE_ROLES, principals, request, temporaryPolicyDirs } from './inputs.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/policies', import.meta.url));

/**
 * Texts read every way a policy can: compared with literals only (task, ticket), by `like`
 * (reason, also compared with a literal elsewhere: still whole), in a set (riskTier), by
 * presence; with forbids, so answers differ in their policies too.
 */
const TEXTS = `
@id("t-task") permit (principal, action == Stint::Action::"read", resource) when { context.task != "" && context.ttlSeconds <= 900 };
@id("t-task-stop") forbid (principal, action, resource) when { context.task == "stop" || "halt" == context.task };
@id("t-ticket") permit (principal, action == Stint::Action::"write", resource) when { context has ticket && context.ticket == "CHG-1" };
@id("t-reason") permit (principal, action == Stint::Action::"admin", resource) when { context.reason like "*incident*" };
@id("t-reason-blank") forbid (principal, action, resource) when { context.reason == "" && context.ttlSeconds > 1000 };
@id("t-tier") permit (principal is Stint::Human, action, resource) when { ["low", "medium"].contains(context.riskTier) };
@id("t-presence") permit (principal is Stint::Workload, action == Stint::Action::"write", resource) when { context has ticket && context.approved };
`;
const FIELD_VS_FIELD = `
@id("t-same") permit (principal, action, resource) when { context.task == context.reason };
@id("t-task-blank") forbid (principal, action, resource) when { context.task == "" };
`;

const pool = <T>(...values: T[]) => fc.constantFrom(...values);

/** Requests from small pools: they repeat, and texts differ only in ways some policies ignore. */
const requests: fc.Arbitrary<PolicyInput> = fc
  .record({
    principal: pool(principals.deployBot, principals.ciRunner, principals.carol),
    target: pool('orders-db' as const, 'reports-db' as const, 'payments-api' as const),
    role: pool('read', 'write', 'admin'),
    ttlSeconds: pool(600, 900, 1800),
    task: pool('', 'stop', 'halt', 'migration 42', 'migration 43', 'a big incident', 'incident'),
    reason: pool('', 'incident', 'a big incident', 'migration 42', 'weekly'),
    ticket: fc.option(pool('', 'CHG-1', 'CHG-2', 'INC-9'), { nil: undefined }),
    approved: fc.boolean(),
    breakGlass: fc.boolean(),
    businessHours: fc.boolean(),
    groups: pool([], ['oncall'], ['dba']),
  })
  .map(({ ticket, ...spec }) => request({ ...spec, ...(ticket === undefined ? {} : { ticket }) }));

const dirWith = temporaryPolicyDirs();


describe.each([
  ['the example policies', async () => EXAMPLES],
  ['policies reading texts every way', dirWith(TEXTS)],
  ['a policy comparing two texts', dirWith(FIELD_VS_FIELD)],
])('%s: answers from the memo are the answers Cedar gives', (_name, dirOf) => {
  let memoised: CedarPolicyEvaluator;
  let everyTime: CedarPolicyEvaluator;
  beforeAll(async () => {
    const dir = await dirOf();
    [memoised, everyTime] = await Promise.all([
      loadCedarPolicies({ dir, roleNames: EXAMPLE_ROLES }),
      loadCedarPolicies({ dir, roleNames: EXAMPLE_ROLES, memo: false }),
    ]);
  });

  it('on streams of repeating requests', () => {
    const seen = { allowed: 0, denied: 0 };
    fc.assert(
      fc.property(fc.array(requests, { minLength: 1, maxLength: 30 }), (stream) => {
        for (const input of stream) {
          const expected = everyTime.evaluate(input);
          expect(memoised.evaluate(input)).toEqual(expected);
          seen[expected.allowed ? 'allowed' : 'denied'] += 1;
        }
      }),
      { numRuns: 150 },
    );
    expect(everyTime.memo).toBeUndefined();
    // The memo must have answered many requests, or the comparison proves little.
    const { hits, misses } = memoised.memo!.counts;
    expect(hits).toBeGreaterThan(50);
    expect(misses).toBeGreaterThan(0);
    expect(seen.allowed).toBeGreaterThan(50);
    expect(seen.denied).toBeGreaterThan(50);
  });
});

function readsOf(text: string) {
  const { policies, problems } = parsePolicyFile({ path: 'p.cedar', name: 'p.cedar', text });
  expect(problems).toEqual([]);
  return policyReads(policies.map((p) => p.conditions));
}

describe('what the memo key abstracts', () => {
  it('texts the example policies only compare with literals or test for presence', async () => {
    const files = await readPolicyFiles(EXAMPLES);
    const reads = policyReads(files.flatMap((f) => parsePolicyFile(f).policies.map((p) => p.conditions)));
    expect(Object.fromEntries([...reads.contextComparedOnly].map(([field, literals]) => [field, [...literals].sort()]))).toEqual({
      reason: [''],
      riskTier: ['critical'],
      task: [''],
      ticket: [],
    });
  });

  it('keeps any text read another way whole: like, in a set, against another field, or the whole context', () => {
    expect([...readsOf(TEXTS).contextComparedOnly.keys()].sort()).toEqual(['task', 'ticket']);
    expect(readsOf(FIELD_VS_FIELD).contextComparedOnly.size).toBe(0);
    expect(readsOf('permit (principal, action, resource) when { context.task == "x" && [context].contains(context) };').contextComparedOnly.size).toBe(0);
  });

  it('two tasks the policies cannot tell apart share a key; a task equal to a literal, a missing ticket, another TTL do not', () => {
    const reads = readsOf(TEXTS);
    const keyOf = (spec: Partial<Parameters<typeof request>[0]>) => {
      const built = cedarRequestOf(request({ principal: principals.deployBot, target: 'orders-db', role: 'read', ...spec }), reads);
      if ('error' in built) throw new Error(built.error);
      return memoKeyOf('set', built.request, reads);
    };
    const base = keyOf({ task: 'migration 42', ticket: 'CHG-2' });
    expect(base).toBeDefined();
    expect(keyOf({ task: 'migration 43', ticket: 'INC-9' })).toBe(base);
    expect(keyOf({ task: 'stop', ticket: 'CHG-2' })).not.toBe(base);
    expect(keyOf({ task: 'migration 42', ticket: 'CHG-1' })).not.toBe(base);
    expect(keyOf({ task: 'migration 42' })).not.toBe(base);
    expect(keyOf({ task: 'migration 42', ticket: 'CHG-2', ttlSeconds: 600 })).not.toBe(base);
    // A text read by `like` is in the key whole.
    expect(keyOf({ reason: 'an incident', task: 'migration 42', ticket: 'CHG-2' })).not.toBe(keyOf({ reason: 'a big incident', task: 'migration 42', ticket: 'CHG-2' }));
  });

  it('no key for a request whose policies read the time: it differs every millisecond', () => {
    const reads = readsOf('permit (principal, action, resource) when { context.now > datetime("2026-01-01") };');
    const built = cedarRequestOf(request({ principal: principals.deployBot, target: 'orders-db', role: 'read' }), reads);
    if ('error' in built) throw new Error(built.error);
    expect(memoKeyOf('set', built.request, reads)).toBeUndefined();
  });
});

describe('DecisionMemo bounds', () => {
  const answer = () => ({ allowed: true, policies: ['p'], errors: [] });

  it('keeps at most maxEntries, dropping the least recently used first', () => {
    const memo = new DecisionMemo(3, 100);
    memo.set('a', answer());
    memo.set('b', answer());
    memo.set('c', answer());
    expect(memo.get('a')).toBeDefined();
    memo.set('d', answer());
    expect(memo.size).toBe(3);
    expect(memo.get('b')).toBeUndefined();
    expect(memo.get('a')).toBeDefined();
    expect(memo.get('c')).toBeDefined();
    expect(memo.get('d')).toBeDefined();
  });

  it('does not keep keys longer than maxKeyLength, and hands out frozen answers', () => {
    const memo = new DecisionMemo(3, 4);
    const kept = memo.set('toolong', answer());
    expect(memo.size).toBe(0);
    expect(Object.isFrozen(kept) && Object.isFrozen(kept.policies) && Object.isFrozen(kept.errors)).toBe(true);
    memo.set('ok', answer());
    expect(() => (memo.get('ok')!.policies as string[]).push('q')).toThrow(TypeError);
  });
});
