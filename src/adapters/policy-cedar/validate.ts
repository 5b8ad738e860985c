/**
 * Strict validation of the whole policy set against the schema. A policy that passes can
 * still error at run time (overflow, for instance) but never on a missing attribute or tag,
 * an unknown action or a type mismatch: these are the errors that make Cedar skip a policy,
 * which for a `forbid` means failing open (REFERENCE.md section 4).
 */
import { validate } from '@cedar-policy/cedar-wasm/nodejs';
import type { DetailedError, ValidationError } from '@cedar-policy/cedar-wasm/nodejs';
import type { ParsedPolicy } from './parse.js';
import { formatProblem, problemsOf, type PolicyProblem } from './problems.js';
import { charOffsetOfByte, SourcePositions, type LineColumn } from './source.js';

/** How problems in the schema Stint generates (from the configured role names) are labelled. */
const SCHEMA_LABEL = '(generated Cedar schema)';

/** Validation outcome: errors refuse the load; warnings are worth showing an operator. */
export interface ValidationReport {
  readonly problems: PolicyProblem[];
  /** `file:line:column: message` lines, deduplicated. */
  readonly warnings: string[];
}

/** Validates `policies` (ids unique) against `schema` in strict mode. */
export function validatePolicies(schema: string, policies: readonly ParsedPolicy[]): ValidationReport {
  const schemaPositions = new SourcePositions(schema);
  const inSchema = (errors: readonly DetailedError[]): PolicyProblem[] =>
    problemsOf(errors, SCHEMA_LABEL, (byte): LineColumn => schemaPositions.at(charOffsetOfByte(schema, byte)), { line: 1, column: 1 });
  const byId = new Map(policies.map((p) => [p.id, p]));
  const answer = validate({
    schema,
    policies: { staticPolicies: Object.fromEntries(policies.map((p) => [p.id, p.text])) },
    validationSettings: { mode: 'strict' },
  });
  if (answer.type === 'failure') {
    // Policies already parsed one by one, so this is the generated schema being refused.
    return { problems: inSchema(answer.errors), warnings: [] };
  }
  const place = (issues: readonly ValidationError[]): PolicyProblem[] =>
    issues.flatMap((issue) => {
      const policy = byId.get(issue.policyId);
      if (policy === undefined) return inSchema([issue.error]);
      return problemsOf([issue.error], policy.file, policy.locate, policy.start, `policy "${policy.id}": `);
    });
  const warnings = [...place(answer.validationWarnings), ...inSchema(answer.otherWarnings)];
  return { problems: place(answer.validationErrors), warnings: [...new Set(warnings.map(formatProblem))] };
}
