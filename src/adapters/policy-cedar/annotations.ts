/**
 * The two annotations Stint reads (docs/policies.md): `@id("...")` names a policy in
 * decisions and the audit log; `@approvals("N")` on a permit raises the number of distinct
 * human approvals a request it routes to humans needs. Other annotations are left to authors.
 */
import type { Effect } from '@cedar-policy/cedar-wasm/nodejs';

/** What Stint takes from one policy's annotations. */
export interface StintAnnotations {
  readonly id?: string;
  readonly approvals?: number;
}

const MAX_ID_LENGTH = 200;
// No control characters and no surrounding blanks: ids end up in logs, audit entries and URLs.
const ID_SHAPE = /^(?!\s)[^\p{Cc}]*(?<!\s)$/u;
const POSITIVE_INTEGER = /^[1-9][0-9]*$/;

/**
 * Reads `@id` and `@approvals`. Cedar gives an annotation written without a value as `null`
 * (the typings say string only). Returns the problems found instead of throwing so the
 * caller can report every policy at once.
 */
export function readAnnotations(
  annotations: Readonly<Record<string, string | null>> | undefined,
  effect: Effect,
): { annotations: StintAnnotations; problems: string[] } {
  const problems: string[] = [];
  let id: string | undefined;
  let approvals: number | undefined;
  if (annotations !== undefined && Object.hasOwn(annotations, 'id')) {
    const value = annotations.id;
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH || !ID_SHAPE.test(value)) {
      problems.push(`@id must be a non-empty string of at most ${MAX_ID_LENGTH} characters without control characters or surrounding blanks, like @id("auto-read")`);
    } else {
      id = value;
    }
  }
  if (annotations !== undefined && Object.hasOwn(annotations, 'approvals')) {
    const value = annotations.approvals;
    if (effect !== 'permit') {
      problems.push('@approvals only applies to permit policies (a forbid never routes a request to humans)');
    } else if (typeof value !== 'string' || !POSITIVE_INTEGER.test(value) || !Number.isSafeInteger(Number(value))) {
      problems.push('@approvals must be a positive integer in quotes, like @approvals("2")');
    } else {
      approvals = Number(value);
    }
  }
  return {
    annotations: { ...(id === undefined ? {} : { id }), ...(approvals === undefined ? {} : { approvals }) },
    problems,
  };
}
