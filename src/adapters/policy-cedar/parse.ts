/**
 * Parses one `.cedar` file into separately identified policies. Each policy is parsed on its
 * own (so it can carry its own id into Cedar and its errors land in the right place), then
 * the whole file is parsed once more as a safety net against a mis-split.
 */
import { checkParsePolicySet, policyToJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { Effect } from '@cedar-policy/cedar-wasm/nodejs';
import { readAnnotations } from './annotations.js';
import { problemsOf, type PolicyProblem } from './problems.js';
import { charOffsetOfByte, SourcePositions, splitPolicySource, type LineColumn } from './source.js';

/** A policy file as read from disk. */
export interface PolicyFile {
  /** Path shown in problems. */
  readonly path: string;
  /** File name, used in generated ids (`base.cedar#0`). */
  readonly name: string;
  readonly text: string;
}

/** One parsed policy, ready to be validated and cached by Cedar. */
export interface ParsedPolicy {
  /** `@id` when present, else `<file name>#<index in file>`. */
  readonly id: string;
  readonly text: string;
  readonly effect: Effect;
  /** The policy's `when`/`unless` conditions in Cedar's JSON policy format (what reads.ts walks). */
  readonly conditions: unknown;
  /** Its principal and action scope in the same format (what slices.ts matches). */
  readonly scope: { readonly principal: unknown; readonly action: unknown };
  /** `@approvals("N")` of a permit. */
  readonly approvals?: number;
  readonly file: string;
  /** Where the policy starts in its file. */
  readonly start: LineColumn;
  /** Maps a Cedar byte offset within `text` to a position in the file. */
  readonly locate: (byteOffset: number) => LineColumn;
}

/** Parses `file`; problems are returned, not thrown, so every file gets reported. */
export function parsePolicyFile(file: PolicyFile): { policies: ParsedPolicy[]; problems: PolicyProblem[] } {
  const positions = new SourcePositions(file.text);
  const policies: ParsedPolicy[] = [];
  const problems: PolicyProblem[] = [];
  splitPolicySource(file.text).forEach((slice, index) => {
    const locate = (byteOffset: number): LineColumn => positions.at(slice.start + charOffsetOfByte(slice.text, byteOffset));
    const start = positions.at(slice.codeStart);
    const parsed = policyToJson(slice.text);
    if (parsed.type === 'failure') {
      problems.push(...problemsOf(parsed.errors, file.path, locate, start));
      return;
    }
    const { annotations, problems: annotationProblems } = readAnnotations(parsed.json.annotations, parsed.json.effect);
    for (const message of annotationProblems) problems.push({ file: file.path, ...start, message });
    policies.push({
      id: annotations.id ?? `${file.name}#${index}`,
      text: slice.text,
      effect: parsed.json.effect,
      conditions: parsed.json.conditions,
      scope: { principal: parsed.json.principal, action: parsed.json.action },
      ...(annotations.approvals === undefined ? {} : { approvals: annotations.approvals }),
      file: file.path,
      start,
      locate,
    });
  });
  if (problems.length === 0) {
    const whole = checkParsePolicySet({ staticPolicies: file.text });
    if (whole.type === 'failure') {
      const locate = (byteOffset: number): LineColumn => positions.at(charOffsetOfByte(file.text, byteOffset));
      problems.push(...problemsOf(whole.errors, file.path, locate, { line: 1, column: 1 }));
    }
  }
  return { policies, problems };
}
