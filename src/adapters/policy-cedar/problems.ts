/**
 * Load-time problems: Cedar diagnostics placed at `file:line:column` and the one error that
 * reports them all, so an operator fixes every mistake in one round.
 */
import type { DetailedError } from '@cedar-policy/cedar-wasm/nodejs';
import { StintError } from '../../core/errors.js';
import type { LineColumn } from './source.js';

/** One thing wrong with the policy files. */
export interface PolicyProblem {
  readonly file: string;
  /** Absent when the problem is not tied to a place (e.g. an empty directory). */
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

/** `file:line:column: message`, the format compilers use (editors jump to it). */
export function formatProblem(problem: PolicyProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}:${problem.column ?? 1}`;
  return `${where}: ${problem.message}`;
}

// Cedar prefixes that repeat what the location already says.
const REDUNDANT_PREFIX = /^(?:failed to parse polic(?:y|ies)(?: with id `[^`]*`)? from string: |for policy `[^`]*`, )/;

/** Cedar's message with its label and help, minus prefixes the location makes redundant. */
export function cedarMessage(error: DetailedError): string {
  const label = error.sourceLocations?.find((l) => l.label)?.label;
  const base = error.message.replace(REDUNDANT_PREFIX, '');
  return `${base}${label ? ` (${label})` : ''}${error.help ? `; ${error.help}` : ''}`;
}

/**
 * Places Cedar errors (and their `related` errors) in a file. `locate` maps a Cedar byte
 * offset to a position; `fallback` is used for errors Cedar gives no span.
 */
export function problemsOf(
  errors: readonly DetailedError[],
  file: string,
  locate: (byteOffset: number) => LineColumn,
  fallback: LineColumn,
  prefix = '',
): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  for (const error of errors) {
    const span = error.sourceLocations?.[0];
    const at = span === undefined ? fallback : locate(span.start);
    out.push({ file, line: at.line, column: at.column, message: `${prefix}${cedarMessage(error)}` });
    if (error.related && error.related.length > 0) out.push(...problemsOf(error.related, file, locate, at, prefix));
  }
  return out;
}

/** The load error: every problem once, one per line, in file order. */
export function policyInvalid(problems: readonly PolicyProblem[]): StintError {
  const unique = [...new Map(problems.map((p) => [formatProblem(p), p])).values()].sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
  );
  const lines = unique.map(formatProblem);
  return new StintError(
    'policy_invalid',
    `${unique.length === 1 ? 'invalid policy' : `${unique.length} policy problems`}:\n${lines.join('\n')}`,
    { extra: { errors: unique.map((p) => ({ ...p })) } },
  );
}
