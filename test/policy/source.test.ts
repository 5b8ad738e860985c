/** Splitting policy text into policies, and Cedar byte offsets to line:column. */
import { describe, expect, it } from 'vitest';
import { charOffsetOfByte, SourcePositions, splitPolicySource } from '../../src/adapters/policy-cedar/source.js';

describe('splitPolicySource', () => {
  it('splits only at semicolons outside strings and comments', () => {
    const text = [
      '// header; "not a string',
      'permit (principal, action, resource) when { context.task like "*;*" };',
      '  forbid (principal, action, resource) when { context.task == "a\\";b" }; // trailing; comment',
      '// only a comment; at the end',
      '',
    ].join('\n');
    const slices = splitPolicySource(text);
    expect(slices.map((s) => s.text.trim())).toEqual([
      '// header; "not a string\npermit (principal, action, resource) when { context.task like "*;*" };',
      'forbid (principal, action, resource) when { context.task == "a\\";b" };',
    ]);
    expect(slices.map((s) => text.slice(s.codeStart, s.codeStart + 6))).toEqual(['permit', 'forbid']);
    for (const slice of slices) expect(text.slice(slice.start, slice.start + slice.text.length)).toBe(slice.text);
  });

  it('keeps an unterminated trailing policy and drops blank text', () => {
    expect(splitPolicySource('a;\n  b  ').map((s) => s.text)).toEqual(['a;', '\n  b  ']);
    expect(splitPolicySource(' \n// x\n\t')).toEqual([]);
    expect(splitPolicySource('"unterminated; string').map((s) => s.text)).toEqual(['"unterminated; string']);
  });
});

describe('positions', () => {
  it('maps UTF-8 byte offsets to UTF-16 offsets', () => {
    const text = 'aé😀b';
    expect([0, 1, 3, 7].map((b) => charOffsetOfByte(text, b))).toEqual([0, 1, 2, 4]);
    expect(charOffsetOfByte(text, 100)).toBe(text.length);
  });

  it('gives 1-based lines and code-point columns', () => {
    const positions = new SourcePositions('ab\n😀c\n\nd');
    expect(positions.at(0)).toEqual({ line: 1, column: 1 });
    expect(positions.at(2)).toEqual({ line: 1, column: 3 });
    expect(positions.at(3)).toEqual({ line: 2, column: 1 });
    expect(positions.at(5)).toEqual({ line: 2, column: 2 });
    expect(positions.at(7)).toEqual({ line: 3, column: 1 });
    expect(positions.at(8)).toEqual({ line: 4, column: 1 });
    expect(positions.at(99)).toEqual({ line: 4, column: 2 });
  });
});
