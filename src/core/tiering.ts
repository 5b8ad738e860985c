/**
 * Tiered decisions with two Cedar evaluations (REFERENCE.md section 4):
 *   permitted with `context.approved == false` -> auto-approve;
 *   else permitted with `context.approved == true` -> needs human approval;
 *   else deny.
 * A break-glass request is evaluated once, as-is: permitted -> active at once, else denied.
 * Any evaluation error denies (fail closed): a Cedar policy that errors is skipped, so a
 * `forbid` could otherwise fail open.
 */
import type { Decision } from './grant.js';
import type { PolicyAnswer } from '../ports/policy.js';

/** Runs the tiering given an evaluation function for the two passes. Pure. */
export function decideTier(
  evaluate: (approved: boolean) => PolicyAnswer,
  opts: { breakGlass: boolean; roleApprovals: number; now: number },
): Decision {
  const first = evaluate(false);
  if (first.errors.length > 0) return deny(first, opts.now);
  if (first.allowed) return { outcome: 'auto', policies: first.policies, errors: [], approvalsRequired: 0, decidedAt: opts.now };
  if (opts.breakGlass) return deny(first, opts.now);
  const second = evaluate(true);
  if (second.errors.length > 0 || !second.allowed) return deny(second, opts.now);
  return {
    outcome: 'approval',
    policies: second.policies,
    errors: [],
    approvalsRequired: Math.max(1, opts.roleApprovals, second.approvalsAnnotation ?? 0),
    decidedAt: opts.now,
  };
}

function deny(answer: PolicyAnswer, now: number): Decision {
  return { outcome: 'deny', policies: answer.policies, errors: answer.errors, approvalsRequired: 0, decidedAt: now };
}
