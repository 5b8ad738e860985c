/**
 * Random PolicyInput values against the example set: evaluate never throws, every answer is
 * well-formed, and the guardrails hold whatever the input (no cross-tenant grant, no agent admin).
 */
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { loadCedarPolicies, type CedarPolicyEvaluator } from '../../src/adapters/policy-cedar/index.js';
import { policyInput as input } from './arbitraries.js';
import { EXAMPLE_ROLES } from './inputs.js';

let evaluator: CedarPolicyEvaluator;
beforeAll(async () => {
  evaluator = await loadCedarPolicies({ dir: fileURLToPath(new URL('../../examples/policies', import.meta.url)), roleNames: EXAMPLE_ROLES });
});

it('never throws and always answers in shape; guardrails hold', () => {
  const ids = new Set(evaluator.policyIds);
  let allowedCount = 0;
  fc.assert(
    fc.property(input, (request) => {
      const answer = evaluator.evaluate(request);
      expect(typeof answer.allowed).toBe('boolean');
      expect(answer.errors.every((e) => typeof e === 'string' && e.length > 0)).toBe(true);
      expect(answer.policies.every((id) => ids.has(id))).toBe(true);
      if (!answer.allowed) {
        expect(answer.approvalsAnnotation).toBeUndefined();
        return;
      }
      allowedCount += 1;
      expect(answer.errors).toEqual([]);
      expect(answer.policies.length).toBeGreaterThan(0);
      expect(answer.policies.some((id) => id.startsWith('forbid-'))).toBe(false);
      expect(answer.approvalsAnnotation).toBe(answer.policies.includes('human-critical') ? 2 : undefined);
      expect(request.principal.tenant).toBe(request.target.tenant);
      // `kind` only means something for workloads (src/core/principal.ts).
      expect(request.principal.type === 'workload' && request.principal.kind === 'agent' && request.role === 'admin').toBe(false);
      expect(request.task).not.toBe('');
    }),
    { numRuns: 1500 },
  );
  // The generator must reach allowed answers too, or the guardrail checks above prove nothing.
  expect(allowedCount).toBeGreaterThan(20);
});
