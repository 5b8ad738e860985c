/** fast-check generators of PolicyInput values, shared by the policy property tests. */
import fc from 'fast-check';
import type { Principal } from '../../src/core/principal.js';
import type { PolicyInput } from '../../src/ports/policy.js';
import { NOW } from './inputs.js';

/** Mostly plausible values, with arbitrary (also non-BMP, and lone surrogate) ones mixed in. */
export const text = (...plausible: string[]) =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...plausible), weight: 12 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 12 }), weight: 1 },
    { arbitrary: fc.constantFrom('', ' ', '\ud800', 'a"b\\c'), weight: 1 },
  );
const attributes = fc.dictionary(fc.oneof(fc.constantFrom('env', 'team', 'repository', 'tier', '__proto__'), fc.string({ maxLength: 6 })), text('prod', 'payments'), {
  maxKeys: 4,
});
const principal: fc.Arbitrary<Principal> = fc
  .record({
    type: fc.constantFrom('workload' as const, 'human' as const),
    name: text('deploy-bot', 'ci-runner', 'carol'),
    prefix: fc.constantFrom('', 'workload:', 'human:'),
    kind: fc.option(fc.constantFrom('service' as const, 'ci' as const, 'agent' as const), { nil: undefined }),
    tenant: text('default', 'globex'),
    attributes,
    actorChain: fc.option(fc.array(text('workload:agent-1', 'human:alice'), { maxLength: 3 }), { nil: undefined }),
  })
  .map(({ type, name, prefix, kind, tenant, attributes: attrs, actorChain }) => ({
    type,
    // Usually well-formed (`<type>:<name>`), sometimes not.
    id: `${prefix === '' ? `${type}:` : prefix}${name}`,
    ...(kind === undefined ? {} : { kind }),
    tenant,
    attributes: attrs,
    issuer: 'dev',
    subject: name,
    ...(actorChain === undefined ? {} : { actorChain }),
  }));
const seconds = fc.oneof(
  { arbitrary: fc.constantFrom(600, 900, 1800, 3600), weight: 6 },
  { arbitrary: fc.integer({ min: -10, max: 100_000 }), weight: 2 },
  { arbitrary: fc.oneof(fc.double(), fc.constantFrom(0, Number.MAX_SAFE_INTEGER)), weight: 1 },
);
export const policyInput: fc.Arbitrary<PolicyInput> = fc
  .record({
    principal,
    principalGroups: fc.array(text('oncall', 'dba'), { maxLength: 3 }),
    dpopBound: fc.boolean(),
    target: fc.record({
      name: text('orders-db', 'reports-db', 'payments-api'),
      env: text('prod', 'staging'),
      tenant: text('default', 'globex'),
      owners: fc.constant(['group:dba']),
      attributes,
    }),
    role: text('read', 'write', 'admin'),
    roleMaxTtlSeconds: seconds,
    riskTier: text('low', 'medium', 'high', 'critical'),
    ttlSeconds: seconds,
    task: text('migrate', 'stop'),
    reason: text('incident'),
    ticket: fc.option(text('CHG-1'), { nil: undefined }),
    breakGlass: fc.boolean(),
    isExtension: fc.boolean(),
    businessHours: fc.boolean(),
    now: fc.oneof(
      { arbitrary: fc.constant(NOW), weight: 6 },
      { arbitrary: fc.oneof(fc.integer({ min: -1e14, max: 3e14 }), fc.double()), weight: 1 },
    ),
    approved: fc.boolean(),
  })
  .map(({ ticket, ...rest }) => ({ ...rest, ...(ticket === undefined ? {} : { ticket }) }));

