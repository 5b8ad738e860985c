/** The example policy set (examples/policies) decides representative requests as documented. */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCedarPolicies, type CedarPolicyEvaluator } from '../../src/adapters/policy-cedar/index.js';
import { EXAMPLE_ROLES, principals, request, tier } from './inputs.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/policies', import.meta.url));
let evaluator: CedarPolicyEvaluator;

beforeAll(async () => {
  evaluator = await loadCedarPolicies({ dir: EXAMPLES, roleNames: EXAMPLE_ROLES });
});

describe('example policy set', () => {
  it('loads every policy under its @id, files in name order, without validator warnings', () => {
    expect(evaluator.policyIds).toEqual([
      'forbid-cross-tenant',
      'forbid-agent-admin',
      'forbid-admin-other-team',
      'forbid-no-task',
      'forbid-delegated-break-glass',
      'auto-read',
      'auto-write-nonprod',
      'human-write-prod',
      'human-write-nonprod',
      'human-critical',
      'break-glass',
    ]);
    expect(evaluator.warnings).toEqual([]);
  });

  it('auto-approves workload reads up to one hour, naming the determining policy', () => {
    const result = tier(evaluator, request({ principal: principals.ciRunner, target: 'orders-db', role: 'read', ttlSeconds: 3600 }));
    expect(result.outcome).toBe('auto');
    expect(result.answer).toEqual({ allowed: true, policies: ['auto-read'], errors: [] });
  });

  it('denies a read longer than one hour (no policy permits it, not even with a human)', () => {
    const result = tier(evaluator, request({ principal: principals.ciRunner, target: 'orders-db', role: 'read', ttlSeconds: 3601 }));
    expect(result.outcome).toBe('deny');
    expect(result.answer.policies).toEqual([]);
  });

  it('does not grant reads to humans: the read permit is for workloads', () => {
    expect(tier(evaluator, request({ principal: principals.alice, target: 'reports-db', role: 'read' })).outcome).toBe('deny');
  });

  it('auto-approves short non-prod writes during business hours only', () => {
    const spec = { principal: principals.ciRunner, target: 'reports-db', role: 'write', ttlSeconds: 1800 } as const;
    expect(tier(evaluator, request(spec))).toMatchObject({ outcome: 'auto', answer: { policies: ['auto-write-nonprod'] } });
    expect(tier(evaluator, request({ ...spec, businessHours: false }))).toMatchObject({
      outcome: 'approval',
      answer: { allowed: true, policies: ['human-write-nonprod'] },
    });
    expect(tier(evaluator, request({ ...spec, ttlSeconds: 1801 }))).toMatchObject({ outcome: 'approval' });
  });

  it('routes prod writes with a ticket to humans, and denies them without one', () => {
    const spec = { principal: principals.deployBot, target: 'orders-db', role: 'write' } as const;
    const withTicket = tier(evaluator, request({ ...spec, ticket: 'CHG-1234' }));
    expect(withTicket.outcome).toBe('approval');
    expect(withTicket.answer).toEqual({ allowed: true, policies: ['human-write-prod'], errors: [] });
    expect(tier(evaluator, request(spec)).outcome).toBe('deny');
    // A blank ticket is no ticket.
    expect(tier(evaluator, request({ ...spec, ticket: '  ' })).outcome).toBe('deny');
  });

  it('asks for two approvals on critical roles via @approvals("2")', () => {
    const result = tier(evaluator, request({ principal: principals.deployBot, target: 'payments-api', role: 'admin', ticket: 'INC-7' }));
    expect(result.outcome).toBe('approval');
    expect(result.answer).toEqual({ allowed: true, policies: ['human-critical'], errors: [], approvalsAnnotation: 2 });
    expect(tier(evaluator, request({ principal: principals.deployBot, target: 'payments-api', role: 'admin' })).outcome).toBe('deny');
  });

  it('never gives admin to an agent, even with a ticket and human approval (forbid wins)', () => {
    const input = request({ principal: principals.supportAgent, target: 'payments-api', role: 'admin', ticket: 'INC-7', approved: true });
    const answer = evaluator.evaluate(input);
    expect(answer.allowed).toBe(false);
    expect(answer.policies).toContain('forbid-agent-admin');
    expect(answer.policies).not.toContain('human-critical');
    expect(answer.errors).toEqual([]);
  });

  it('gives a team-tagged target admin role to that team only', () => {
    const outsider = { ...principals.deployBot, attributes: { env: 'prod', team: 'search' } };
    const answer = evaluator.evaluate(request({ principal: outsider, target: 'payments-api', role: 'admin', ticket: 'INC-7', approved: true }));
    expect(answer).toEqual({ allowed: false, policies: ['forbid-admin-other-team'], errors: [] });
  });

  it('denies a principal from another tenant even where a permit matches', () => {
    const input = request({ principal: principals.ciRunner, target: 'orders-db', role: 'read', targetTenant: 'globex' });
    expect(evaluator.evaluate(input)).toEqual({ allowed: false, policies: ['forbid-cross-tenant'], errors: [] });
    expect(tier(evaluator, input).outcome).toBe('deny');
  });

  it('denies a request without a task', () => {
    const answer = evaluator.evaluate(request({ principal: principals.ciRunner, target: 'orders-db', role: 'read', task: '' }));
    expect(answer).toEqual({ allowed: false, policies: ['forbid-no-task'], errors: [] });
  });

  describe('break-glass', () => {
    const carol = { principal: principals.carol, target: 'orders-db', role: 'write', breakGlass: true, reason: 'orders stuck' } as const;

    it('grants on-call humans up to 15 minutes at once', () => {
      expect(tier(evaluator, request({ ...carol, groups: ['oncall'], ttlSeconds: 900 }))).toMatchObject({
        outcome: 'auto',
        answer: { allowed: true, policies: ['break-glass'] },
      });
      expect(tier(evaluator, request({ ...carol, groups: ['oncall'], ttlSeconds: 901 })).outcome).toBe('deny');
    });

    it('refuses humans outside the on-call group, and never routes break-glass to humans', () => {
      expect(tier(evaluator, request({ ...carol, groups: ['dba'] })).outcome).toBe('deny');
    });

    it('grants production services but not CI jobs', () => {
      const spec = { target: 'orders-db', role: 'write', breakGlass: true, reason: 'hotfix', ttlSeconds: 600 } as const;
      expect(tier(evaluator, request({ ...spec, principal: principals.deployBot })).outcome).toBe('auto');
      expect(tier(evaluator, request({ ...spec, principal: principals.ciRunner })).outcome).toBe('deny');
      const stagingService = { ...principals.deployBot, attributes: { env: 'staging' } };
      expect(tier(evaluator, request({ ...spec, principal: stagingService })).outcome).toBe('deny');
    });

    it('needs a reason', () => {
      expect(tier(evaluator, request({ ...carol, groups: ['oncall'], reason: '' })).outcome).toBe('deny');
    });

    it('is refused to a delegated caller', () => {
      const delegated = { ...principals.deployBot, actorChain: ['workload:support-agent'] };
      const input = request({ principal: delegated, target: 'orders-db', role: 'write', breakGlass: true, reason: 'hotfix', ttlSeconds: 600 });
      expect(evaluator.evaluate(input)).toEqual({ allowed: false, policies: ['forbid-delegated-break-glass'], errors: [] });
    });

    it('does not let an agent take admin', () => {
      const input = request({ principal: principals.supportAgent, target: 'payments-api', role: 'admin', breakGlass: true, reason: 'x', groups: ['oncall'] });
      expect(evaluator.evaluate(input).policies).toContain('forbid-agent-admin');
      expect(tier(evaluator, input).outcome).toBe('deny');
    });
  });
});
