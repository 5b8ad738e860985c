/**
 * Which policies a request's slice holds (slices.ts), on the example policies: only those whose
 * scope and leading guards the request can satisfy, and what those read. That the answers are
 * unchanged is schema-equivalence.test.ts's job; this pins down that slicing actually narrows.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readPolicyFiles } from '../../src/adapters/policy-cedar/files.js';
import { parsePolicyFile, type ParsedPolicy } from '../../src/adapters/policy-cedar/parse.js';
import { guardsOf, PolicySlices } from '../../src/adapters/policy-cedar/slices.js';
import { principals, request } from './inputs.js';

async function examplePolicies(): Promise<ParsedPolicy[]> {
  const files = await readPolicyFiles(fileURLToPath(new URL('../../examples/policies', import.meta.url)));
  return files.flatMap((f) => parsePolicyFile(f).policies);
}

function parsed(text: string): ParsedPolicy {
  const { policies, problems } = parsePolicyFile({ path: 'p.cedar', name: 'p.cedar', text });
  expect(problems).toEqual([]);
  return policies[0]!;
}

const sorted = (reads: ReadonlySet<string> | 'all') => (reads === 'all' ? 'all' : [...reads].sort());

describe('PolicySlices on the example policies', () => {
  it('an auto-approvable read by a workload goes to 3 of the policies, with 4 values', async () => {
    const slices = new PolicySlices(await examplePolicies(), `test-${Math.random()}`);
    const slice = slices.sliceFor(request({ principal: principals.deployBot, target: 'orders-db', role: 'read' }))!;
    expect(slice.policyIds).toEqual(['forbid-cross-tenant', 'forbid-no-task', 'auto-read']);
    expect(sorted(slice.reads.context)).toEqual(['task', 'ttl']);
    expect(sorted(slice.reads.principal)).toEqual(['tenant']);
    expect(sorted(slice.reads.resource)).toEqual(['tenant']);
    expect(slice.reads).toMatchObject({ principalTags: false, resourceTags: false });
  });

  it('the approval pass of a human write keeps the human permits and drops the workload and break-glass ones', async () => {
    const slices = new PolicySlices(await examplePolicies(), `test-${Math.random()}`);
    const slice = slices.sliceFor(request({ principal: principals.carol, target: 'orders-db', role: 'write', approved: true }))!;
    expect(slice.policyIds).toEqual(['forbid-cross-tenant', 'forbid-no-task', 'human-write-prod', 'human-write-nonprod', 'human-critical']);
  });

  it('a break-glass request keeps the break-glass permit; the delegation guardrail only when delegated', async () => {
    const slices = new PolicySlices(await examplePolicies(), `test-${Math.random()}`);
    const slice = slices.sliceFor(request({ principal: principals.deployBot, target: 'payments-api', role: 'admin', breakGlass: true }))!;
    expect(slice.policyIds).toEqual([
      'forbid-cross-tenant',
      'forbid-agent-admin',
      'forbid-admin-other-team',
      'forbid-no-task',
      'break-glass',
    ]);
    const delegated = request({ principal: { ...principals.deployBot, actorChain: ['human:alice'] }, target: 'payments-api', role: 'admin', breakGlass: true });
    expect(slices.sliceFor(delegated)!.policyIds).toContain('forbid-delegated-break-glass');
  });

  it('requests of one shape share a slice; another shape gets its own', async () => {
    const slices = new PolicySlices(await examplePolicies(), `test-${Math.random()}`);
    const a = slices.sliceFor(request({ principal: principals.deployBot, target: 'orders-db', role: 'read', task: 'one' }));
    const b = slices.sliceFor(request({ principal: principals.ciRunner, target: 'reports-db', role: 'read', task: 'two' }));
    const c = slices.sliceFor(request({ principal: principals.deployBot, target: 'orders-db', role: 'read', approved: true }));
    expect(b).toBe(a);
    expect(c).not.toBe(a);
  });

  it('gives no slice when a guard value is not a boolean (the request is refused before Cedar)', async () => {
    const slices = new PolicySlices(await examplePolicies(), `test-${Math.random()}`);
    const bad = { ...request({ principal: principals.deployBot, target: 'orders-db', role: 'read' }), approved: 'no' as unknown as boolean };
    expect(slices.sliceFor(bad)).toBeUndefined();
  });
});

describe('PolicySlices bounds', () => {
  it('makes at most 512 slices; requests of further shapes get none (the whole set decides them)', () => {
    const policy = parsed(
      'permit (principal, action, resource) when { context.approved && context.breakGlass && context.isExtension && context.businessHours && context.dpop && context.delegated };',
    );
    const slices = new PolicySlices([policy], `test-${Math.random()}`);
    const roles = ['r1', 'r2', 'r3', 'r4', 'r5'];
    let made = 0;
    let refused = 0;
    for (const principal of [principals.deployBot, principals.carol]) {
      for (const role of roles) {
        for (let bits = 0; bits < 64; bits++) {
          const flag = (i: number) => (bits & (1 << i)) !== 0;
          const input = {
            ...request({ principal: { ...principal, ...(flag(5) ? { actorChain: ['human:alice'] } : {}) }, target: 'orders-db', role }),
            approved: flag(0),
            breakGlass: flag(1),
            isExtension: flag(2),
            businessHours: flag(3),
            dpopBound: flag(4),
          };
          if (slices.sliceFor(input) === undefined) refused += 1;
          else made += 1;
        }
      }
    }
    expect(made).toBe(512);
    expect(refused).toBe(2 * 5 * 64 - 512);
  });
});

describe('guardsOf', () => {
  it('takes leading boolean context tests of leading when clauses, up to anything else', () => {
    expect(guardsOf(parsed('permit (principal, action, resource) when { context.approved && !context.breakGlass && context.task == "" && context.dpop };').conditions)).toEqual([
      { field: 'approved', value: true },
      { field: 'breakGlass', value: false },
    ]);
    expect(guardsOf(parsed('permit (principal, action, resource) when { context.isExtension } when { !!context.delegated } unless { context.approved };').conditions)).toEqual([
      { field: 'isExtension', value: true },
      { field: 'delegated', value: true },
    ]);
  });

  it('finds none behind another conjunct, in an unless, under ||, or on a field that may be absent', () => {
    for (const text of [
      'permit (principal, action, resource) when { context.ttlSeconds > 1 && context.approved };',
      'permit (principal, action, resource) unless { context.approved };',
      'permit (principal, action, resource) when { context.approved || context.breakGlass };',
      'permit (principal, action, resource) when { context.approved == true };',
      'permit (principal, action, resource) when { context has ticket && context.approved };',
    ]) {
      expect(guardsOf(parsed(text).conditions), text).toEqual([]);
    }
  });
});
