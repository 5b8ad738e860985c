/** Cedar policy adapter: loads `*.cedar` files into a PolicyEvaluator (src/ports/policy.ts); see docs/policies.md. */
export { loadCedarPolicies, type LoadCedarPoliciesOptions } from './load.js';
export { CedarPolicyEvaluator } from './evaluator.js';
export { cedarSchemaText, CEDAR_NAMESPACE, CEDAR_TYPES } from './schema.js';
export type { PolicyProblem } from './problems.js';
