/**
 * Policy source text: splitting a `.cedar` file into its policies and turning Cedar's source
 * offsets into `line:column`. Cedar reports offsets in UTF-8 bytes (miette spans) relative to
 * the text it parsed; each policy is handed to Cedar as its own text (so it can carry its own
 * id), so offsets are mapped back through the policy's position in the file.
 */

/** One policy's text within a file. */
export interface PolicySlice {
  /** Character offset in the file where the slice starts (just after the previous `;`). */
  readonly start: number;
  /** Character offset of the slice's first character that is neither blank nor comment. */
  readonly codeStart: number;
  /** The slice itself, including leading comments and the terminating `;` when present. */
  readonly text: string;
}

/**
 * Splits policy text at every `;` outside string literals and `//` comments: in Cedar's
 * grammar a `;` appears nowhere else, so each slice holds at most one policy. Slices holding
 * only blanks and comments are dropped; a trailing slice without `;` is kept (Cedar then
 * reports what is missing). The caller still checks each slice parses as exactly one policy.
 */
export function splitPolicySource(text: string): PolicySlice[] {
  const slices: PolicySlice[] = [];
  let start = 0;
  let codeStart = -1;
  let i = 0;
  const cut = (end: number): void => {
    if (codeStart >= 0) slices.push({ start, codeStart, text: text.slice(start, end) });
    start = end;
    codeStart = -1;
  };
  while (i < text.length) {
    const ch = text[i];
    if (ch === '/' && text[i + 1] === '/') {
      const newline = text.indexOf('\n', i);
      i = newline < 0 ? text.length : newline + 1;
      continue;
    }
    if (ch !== ' ' && ch !== '\t' && ch !== '\n' && ch !== '\r' && codeStart < 0) codeStart = i;
    if (ch === '"') {
      i += 1;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i += 1;
      continue;
    }
    i += 1;
    if (ch === ';') cut(i);
  }
  cut(text.length);
  return slices;
}

/** Converts a UTF-8 byte offset into `text` to a UTF-16 character offset (clamped to the text). */
export function charOffsetOfByte(text: string, byteOffset: number): number {
  let bytes = 0;
  let chars = 0;
  for (const ch of text) {
    if (bytes >= byteOffset) break;
    const codePoint = ch.codePointAt(0) ?? 0;
    bytes += codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
    chars += ch.length;
  }
  return chars;
}

/** A 1-based line and column; the column counts Unicode code points, as editors do. */
export interface LineColumn {
  readonly line: number;
  readonly column: number;
}

/** Line/column lookup for one file's text. */
export class SourcePositions {
  private readonly lineStarts: number[] = [0];

  constructor(private readonly text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  /** Position of a character offset (clamped to the text). */
  at(charOffset: number): LineColumn {
    const offset = Math.max(0, Math.min(charOffset, this.text.length));
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    const lineStart = this.lineStarts[low] ?? 0;
    return { line: low + 1, column: [...this.text.slice(lineStart, offset)].length + 1 };
  }
}
