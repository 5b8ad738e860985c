/** Evaluation: the entity model and context reach policies intact, and every failure denies. */
import { isAuthorized } from '@cedar-policy/cedar-wasm/nodejs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cedarSchemaText, loadCedarPolicies, type CedarPolicyEvaluator } from '../../src/adapters/policy-cedar/index.js';
import type { PolicyInput } from '../../src/ports/policy.js';
import { EXAMPLE_ROLES, NOW, human, policyDir, principals, request, workload } from './inputs.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(cleanups.map((c) => c()));
});

async function load(files: Record<string, string>): Promise<CedarPolicyEvaluator> {
  const { dir, cleanup } = await policyDir(files);
  cleanups.push(cleanup);
  return loadCedarPolicies({ dir, roleNames: EXAMPLE_ROLES });
}

const base = request({ principal: principals.ciRunner, target: 'reports-db', role: 'read' });

describe('fail closed', () => {
  // 10_000 * 10^15 overflows Cedar's 64-bit Long; 1 * 10^15 does not. Strict validation
  // cannot see this coming, unlike a missing attribute or tag (refused at load).
  const PERMIT = 'permit (principal, action, resource);';
  const FORBID = 'forbid (principal, action, resource) when { context.ttlSeconds * 1000000000000000 > 0 };';
  const policies = { 'p.cedar': `@id("allow-all") ${PERMIT}\n@id("forbid-overflowing") ${FORBID}\n` };
  let evaluator: CedarPolicyEvaluator;
  beforeAll(async () => {
    evaluator = await load(policies);
  });

  it('denies when a forbid errors, although Cedar itself allows (it skips the erroring forbid)', () => {
    const input = { ...base, ttlSeconds: 10_000 };
    const answer = evaluator.evaluate(input);
    expect(answer.allowed).toBe(false);
    expect(answer.errors).toEqual([expect.stringMatching(/^policy "forbid-overflowing": integer overflow/)]);
    // What plain Cedar says for the same request: allow. This is the fail-open the adapter closes.
    const raw = isAuthorized({
      principal: { type: 'Stint::Workload', id: 'ci-runner' },
      action: { type: 'Stint::Action', id: 'read' },
      resource: { type: 'Stint::Target', id: 'reports-db' },
      context: { ttlSeconds: 10_000 },
      policies: { staticPolicies: { 'allow-all': PERMIT, 'forbid-overflowing': FORBID } },
      entities: [],
    });
    expect(raw.type === 'success' && raw.response.decision).toBe('allow');
  });

  it('applies the forbid when it evaluates, and allows when it does not match', () => {
    expect(evaluator.evaluate({ ...base, ttlSeconds: 1 })).toEqual({ allowed: false, policies: ['forbid-overflowing'], errors: [] });
    expect(evaluator.evaluate({ ...base, ttlSeconds: 0 })).toEqual({ allowed: true, policies: ['allow-all'], errors: [] });
  });

  it('denies, with a reason, requests Cedar or the schema cannot accept', () => {
    const cases: Array<[Partial<PolicyInput>, RegExp]> = [
      [{ role: 'drop' }, /action "drop" is not declared in the schema/],
      [{ ttlSeconds: 1.5 }, /ttlSeconds must be an integer/],
      [{ roleMaxTtlSeconds: Number.NaN }, /roleMaxTtlSeconds must be an integer/],
      [{ now: Number.POSITIVE_INFINITY }, /now is not a valid time/],
      [{ now: Date.UTC(10000, 0, 1) }, /now is outside the years 0000-9999/],
      [{ principal: { ...principals.ciRunner, id: 'human:ci-runner' } }, /not a well-formed workload id/],
      [{ principal: { ...principals.ciRunner, id: 'ci-runner' } }, /not a well-formed workload id/],
      [{ task: 'lone \ud800 surrogate' }, /is not well-formed Unicode/],
      [{ target: { ...base.target, attributes: { ['\udc00']: 'x' } } }, /is not well-formed Unicode/],
      // Types say strings; a broker bug that passes a number must deny, not crash, and never
      // reach a policy as a Long (requests are not sent with the schema: see evaluator.ts).
      [{ target: { ...base.target, attributes: { tier: 7 as unknown as string } } }, /target attributes must be strings/],
      [{ principal: { ...principals.ciRunner, attributes: { env: true as unknown as string } } }, /principal attributes must be strings/],
      [{ ttlSeconds: 0, riskTier: 7 as unknown as string }, /riskTier must be a string/],
      [{ ttlSeconds: 0, breakGlass: 'no' as unknown as boolean }, /breakGlass must be a boolean/],
      [{ ttlSeconds: 0, ticket: 12 as unknown as string }, /ticket must be a string/],
      [{ ttlSeconds: 0, principalGroups: [3 as unknown as string] }, /principal groups must be strings/],
      [{ ttlSeconds: 0, principal: { ...principals.ciRunner, actorChain: [null as unknown as string] } }, /actor chain must be strings/],
    ];
    for (const [override, reason] of cases) {
      const answer = evaluator.evaluate({ ...base, ...override });
      expect(answer, JSON.stringify(override)).toMatchObject({ allowed: false, policies: [] });
      expect(answer.errors.join('\n'), JSON.stringify(override)).toMatch(reason);
    }
  });
});

describe('what policies see', () => {
  it('principal attributes, kind, tags, groups and name', async () => {
    const evaluator = await load({
      'p.cedar': `
        @id("tags") permit (principal is Stint::Workload, action, resource)
          when { principal.hasTag("repository") && principal.getTag("repository") == "org/app" && principal.env == "staging" && principal.team == "" };
        @id("group") permit (principal in Stint::Group::"dba", action, resource);
        @id("name") permit (principal == Stint::Human::"alice", action, resource) when { principal.name == "alice" && principal.issuer == "dev" };
        @id("kind") permit (principal is Stint::Workload, action, resource) when { principal.kind == "agent" && principal.tenant == "default" };
      `,
    });
    const ci = workload('ci-runner', 'ci', { env: 'staging', repository: 'org/app' });
    expect(evaluator.evaluate({ ...base, principal: ci }).policies).toEqual(['tags']);
    expect(evaluator.evaluate({ ...base, principal: workload('ci-runner', 'ci', { env: 'staging', repository: 'org/other' }) }).allowed).toBe(false);
    expect(evaluator.evaluate({ ...base, principal: workload('ci-runner', 'ci', { repository: 'org/app' }) }).allowed).toBe(false);
    expect(evaluator.evaluate({ ...base, principal: human('bob'), principalGroups: ['oncall', 'dba'] }).policies).toEqual(['group']);
    expect(evaluator.evaluate({ ...base, principal: human('bob'), principalGroups: ['oncall'] }).allowed).toBe(false);
    expect(evaluator.evaluate({ ...base, principal: human('alice') }).policies).toEqual(['name']);
    expect(evaluator.evaluate({ ...base, principal: principals.supportAgent }).policies).toEqual(['kind']);
  });

  it('target attributes as tags, env, tenant and name', async () => {
    const evaluator = await load({
      'p.cedar': `permit (principal, action, resource == Stint::Target::"orders-db")
        when { resource.name == "orders-db" && resource.env == "prod" && resource.tenant == "default" && resource.hasTag("tier") && resource.getTag("tier") == "gold" };`,
    });
    expect(evaluator.evaluate(request({ principal: principals.ciRunner, target: 'orders-db', role: 'read' })).allowed).toBe(true);
    const plain = request({ principal: principals.ciRunner, target: 'orders-db', role: 'read' });
    expect(evaluator.evaluate({ ...plain, target: { ...plain.target, attributes: { tier: 'silver' } } }).allowed).toBe(false);
    expect(evaluator.evaluate({ ...plain, target: { ...plain.target, env: 'staging' } }).allowed).toBe(false);
  });

  it('every context field, with ttl as a duration and now as a datetime', async () => {
    const evaluator = await load({
      'p.cedar': `@id("ctx") permit (principal, action, resource) when {
        context.ttl == duration("15m") && context.ttlSeconds == 900 && context.maxTtlSeconds == 3600 &&
        context.riskTier == "medium" && context.task == "t" && context.reason == "r" &&
        context has ticket && context.ticket == "T-1" &&
        context.approved && !context.breakGlass && context.isExtension && !context.businessHours &&
        context.now == datetime("2026-01-05T10:00:00Z") && context.now.toDate() == datetime("2026-01-05") &&
        context.delegated && context.actorChain == ["workload:agent-1", "human:alice"]
      };`,
    });
    const input: PolicyInput = {
      ...base,
      principal: { ...principals.ciRunner, actorChain: ['workload:agent-1', 'human:alice'] },
      ttlSeconds: 900,
      roleMaxTtlSeconds: 3600,
      riskTier: 'medium',
      task: 't',
      reason: 'r',
      ticket: 'T-1',
      approved: true,
      breakGlass: false,
      isExtension: true,
      businessHours: false,
      now: NOW,
    };
    expect(evaluator.evaluate(input)).toEqual({ allowed: true, policies: ['ctx'], errors: [] });
    // Flipping any one field must flip the answer, or the test would not prove it reaches Cedar.
    const flips: Array<Partial<PolicyInput>> = [
      { ttlSeconds: 901 },
      { roleMaxTtlSeconds: 1800 },
      { riskTier: 'high' },
      { task: 'u' },
      { reason: 's' },
      { ticket: 'T-2' },
      { approved: false },
      { breakGlass: true },
      { isExtension: false },
      { businessHours: true },
      { now: NOW + 1000 },
      { principal: principals.ciRunner },
    ];
    for (const flip of flips) expect(evaluator.evaluate({ ...input, ...flip }).allowed, JSON.stringify(flip)).toBe(false);
    const { ticket: _omitted, ...noTicket } = input;
    expect(evaluator.evaluate(noTicket).allowed).toBe(false);
  });
});

describe('@approvals', () => {
  it('is the largest annotation among the determining permits, absent without one, never on deny', async () => {
    const evaluator = await load({
      'p.cedar': `
        @id("two") @approvals("2") permit (principal, action == Stint::Action::"write", resource);
        @id("three") @approvals("3") permit (principal, action == Stint::Action::"write", resource) when { resource.env == "prod" };
        @id("plain") permit (principal, action == Stint::Action::"read", resource);
        @id("stop") forbid (principal, action, resource) when { context.task == "stop" };
      `,
    });
    const write = (target: 'orders-db' | 'reports-db') => request({ principal: principals.deployBot, target, role: 'write' });
    expect(evaluator.evaluate(write('reports-db'))).toEqual({ allowed: true, policies: ['two'], errors: [], approvalsAnnotation: 2 });
    const prod = evaluator.evaluate(write('orders-db'));
    expect([...prod.policies].sort()).toEqual(['three', 'two']);
    expect(prod.approvalsAnnotation).toBe(3);
    expect(evaluator.evaluate(request({ principal: principals.deployBot, target: 'orders-db', role: 'read' }))).not.toHaveProperty('approvalsAnnotation');
    expect(evaluator.evaluate({ ...write('orders-db'), task: 'stop' })).toEqual({ allowed: false, policies: ['stop'], errors: [] });
  });
});

describe('schema', () => {
  it('has one action per role; names needing escapes survive', async () => {
    const { dir, cleanup } = await policyDir({ 'p.cedar': 'permit (principal, action == Stint::Action::"we\\"ird\\\\role", resource);' });
    cleanups.push(cleanup);
    const evaluator = await loadCedarPolicies({ dir, roleNames: ['read', 'we"ird\\role', 'read'] });
    expect(evaluator.evaluate({ ...base, role: 'we"ird\\role' }).allowed).toBe(true);
    expect(evaluator.evaluate(base).allowed).toBe(false);
    expect(cedarSchemaText(['write', 'read', 'write'])).toContain('action "read", "write"\n');
  });
});

describe('speed', () => {
  it('evaluates the example set without re-parsing (prints evaluations/s)', async () => {
    const { fileURLToPath } = await import('node:url');
    const evaluator = await loadCedarPolicies({ dir: fileURLToPath(new URL('../../examples/policies', import.meta.url)), roleNames: EXAMPLE_ROLES });
    const inputs = [
      request({ principal: principals.ciRunner, target: 'orders-db', role: 'read' }),
      request({ principal: principals.deployBot, target: 'payments-api', role: 'admin', ticket: 'INC-1', approved: true }),
      request({ principal: principals.carol, target: 'orders-db', role: 'write', breakGlass: true, groups: ['oncall'] }),
    ];
    const n = 3000;
    let allowed = 0;
    const started = performance.now();
    for (let i = 0; i < n; i++) if (evaluator.evaluate(inputs[i % inputs.length]!).allowed) allowed += 1;
    const seconds = (performance.now() - started) / 1000;
    console.log(`cedar policy evaluation: ${Math.round(n / seconds)} evaluations/s (${((seconds / n) * 1e6).toFixed(0)} µs each, example set)`);
    expect(allowed).toBe(n);
  });
});
