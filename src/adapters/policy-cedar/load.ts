/**
 * Loads a policy directory: read, parse, name, validate strictly against the generated
 * schema, then hand the set and schema to Cedar's cache once (`preparsePolicySet`,
 * `preparseSchema`) so evaluations never re-parse (REFERENCE.md section 4). Every problem in
 * every file is reported in one `policy_invalid` error, each at `file:line:column`.
 */
import { randomUUID } from 'node:crypto';
import { preparsePolicySet, preparseSchema } from '@cedar-policy/cedar-wasm/nodejs';
import { StintError } from '../../core/errors.js';
import { CedarPolicyEvaluator } from './evaluator.js';
import { readPolicyFiles } from './files.js';
import { parsePolicyFile, type ParsedPolicy } from './parse.js';
import { policyInvalid, type PolicyProblem } from './problems.js';
import { cedarSchemaText } from './schema.js';
import { validatePolicies } from './validate.js';
import { policyReads, READS_EVERYTHING } from './reads.js';
import { PolicySlices } from './slices.js';

/** Where the policies are and which actions exist. */
export interface LoadCedarPoliciesOptions {
  /** Directory of `*.cedar` files (not searched recursively). */
  readonly dir: string;
  /** Role names across all configured targets; each becomes a Cedar action. */
  readonly roleNames: readonly string[];
  /** Have Cedar validate every request against the schema too (tests; see evaluator.ts). */
  readonly checkRequestsAgainstSchema?: boolean;
  /**
   * Send Cedar the whole policy set and every value, not only the policies that could apply
   * and what they read (tests; see slices.ts and reads.ts).
   */
  readonly sendEverything?: boolean;
  /**
   * Reuse answers for requests Cedar cannot tell apart (decision-memo.ts). Default on, off with
   * `sendEverything`; off to have Cedar answer every request (tests, the benchmark's comparison).
   */
  readonly memo?: boolean;
}

/**
 * Loads and validates the policies of `opts.dir`. Throws `policy_invalid` on an unreadable
 * directory or file, a syntax error, a strict-validation error, a bad or duplicate `@id`,
 * a bad `@approvals`, or when there is no policy at all.
 *
 * Each load caches its set under fresh names, so a reload never disturbs an evaluator still
 * in use. Cedar offers no way to drop a cached set: each load keeps its parsed set in WASM
 * memory for the life of the process (reloads are rare, operator-driven events).
 */
export async function loadCedarPolicies(opts: LoadCedarPoliciesOptions): Promise<CedarPolicyEvaluator> {
  const files = await readPolicyFiles(opts.dir);
  const problems: PolicyProblem[] = [];
  const policies: ParsedPolicy[] = [];
  for (const file of files) {
    const parsed = parsePolicyFile(file);
    problems.push(...parsed.problems);
    policies.push(...parsed.policies);
  }
  problems.push(...duplicateIds(policies));
  if (problems.length > 0) throw policyInvalid(problems);
  if (policies.length === 0) {
    throw new StintError(
      'policy_invalid',
      `no policies in ${opts.dir} (${files.length} .cedar files): everything would be denied; add at least one permit policy`,
    );
  }

  const schema = cedarSchemaText(opts.roleNames);
  const report = validatePolicies(schema, policies);
  if (report.problems.length > 0) throw policyInvalid(report.problems);

  const load = randomUUID();
  const names = { policySetId: `stint-policies-${load}`, schemaName: `stint-schema-${load}` };
  // Both were just validated; a refusal here would be a Cedar fault, still reported, never ignored.
  for (const [what, answer] of [
    ['the generated schema', preparseSchema(names.schemaName, schema)],
    ['the policy set', preparsePolicySet(names.policySetId, { staticPolicies: Object.fromEntries(policies.map((p) => [p.id, p.text])) })],
  ] as const) {
    if (answer.type === 'failure') throw new StintError('policy_invalid', `Cedar refused ${what}: ${answer.errors.map((e) => e.message).join('; ')}`);
  }
  const whole = opts.sendEverything !== true;
  return new CedarPolicyEvaluator(names, policies, report.warnings, {
    actions: opts.roleNames,
    reads: whole ? policyReads(policies.map((p) => p.conditions)) : READS_EVERYTHING,
    ...(whole ? { slices: new PolicySlices(policies, names.policySetId) } : {}),
    ...(opts.checkRequestsAgainstSchema === true ? { checkRequestsAgainstSchema: true } : {}),
    memo: whole && opts.memo !== false,
  });
}

/** Ids must be unique across files: decisions and the audit log name policies by id. */
function duplicateIds(policies: readonly ParsedPolicy[]): PolicyProblem[] {
  const first = new Map<string, ParsedPolicy>();
  const problems: PolicyProblem[] = [];
  for (const policy of policies) {
    const earlier = first.get(policy.id);
    if (earlier === undefined) {
      first.set(policy.id, policy);
      continue;
    }
    const where = `${earlier.file}:${earlier.start.line}:${earlier.start.column}`;
    problems.push({ file: policy.file, ...policy.start, message: `duplicate policy id "${policy.id}" (first used at ${where})` });
  }
  return problems;
}
