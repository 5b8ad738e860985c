/** What the walk of the policies finds they can read (reads.ts): narrow where it can be, everything where it cannot. */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readPolicyFiles } from '../../src/adapters/policy-cedar/files.js';
import { parsePolicyFile } from '../../src/adapters/policy-cedar/parse.js';
import { policyReads, type PolicyReads } from '../../src/adapters/policy-cedar/reads.js';

function readsOf(text: string): PolicyReads {
  const { policies, problems } = parsePolicyFile({ path: 'p.cedar', name: 'p.cedar', text });
  expect(problems).toEqual([]);
  return policyReads(policies.map((p) => p.conditions));
}

const sorted = (reads: PolicyReads[keyof Pick<PolicyReads, 'context' | 'principal' | 'resource'>]) => (reads === 'all' ? 'all' : [...reads].sort());

describe('policyReads', () => {
  it('finds exactly what the example policies read', async () => {
    const files = await readPolicyFiles(fileURLToPath(new URL('../../examples/policies', import.meta.url)));
    const reads = policyReads(files.flatMap((f) => parsePolicyFile(f).policies.map((p) => p.conditions)));
    expect(sorted(reads.context)).toEqual(['approved', 'breakGlass', 'businessHours', 'delegated', 'reason', 'riskTier', 'task', 'ticket', 'ttl']);
    expect(sorted(reads.principal)).toEqual(['env', 'kind', 'team', 'tenant']);
    expect(sorted(reads.resource)).toEqual(['env', 'tenant']);
    expect(reads).toMatchObject({ principalTags: false, resourceTags: true });
  });

  it('counts reads in unless, sets, calls and nested records, and none in the scope', () => {
    const reads = readsOf(`
      permit (principal in Stint::Group::"dba", action == Stint::Action::"read", resource == Stint::Target::"x")
      when { [context.task].contains("t") && context.now.offset(context.ttl) > datetime("2026-01-01") }
      unless { principal.getTag("team") == resource.name };`);
    expect(sorted(reads.context)).toEqual(['now', 'task', 'ttl']);
    expect(sorted(reads.principal)).toEqual([]);
    expect(sorted(reads.resource)).toEqual(['name']);
    expect(reads).toMatchObject({ principalTags: true, resourceTags: false });
  });

  it('keeps everything of a kind it cannot attribute', () => {
    const computedEntity = readsOf('permit (principal is Stint::Workload, action, resource) when { (if context.approved then principal else principal).team == "a" };');
    expect(computedEntity).toMatchObject({ principal: 'all', resource: 'all' });
    expect(sorted(computedEntity.context)).toEqual(['approved']);
    const computedTags = readsOf('permit (principal is Stint::Workload, action, resource) when { (if context.approved then principal else principal).hasTag("a") };');
    expect(computedTags).toMatchObject({ principalTags: true, resourceTags: true });
    expect(readsOf('permit (principal, action, resource) when { [context].contains(context) };').context).toBe('all');
  });
});
