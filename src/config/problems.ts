/**
 * Configuration problems and how they are reported: all at once, one per line, as
 * `<file>:<line>: <key.path>: <problem>` (the compiler convention editors link to), in one
 * `config_invalid` StintError.
 */
import { StintError } from '../core/errors.js';

/** A step into the parsed file: a mapping key or a list index. */
export type KeySegment = string | number;

/** One thing wrong with the file. `path` is absent for YAML syntax errors. */
export interface ConfigProblem {
  readonly path?: readonly KeySegment[];
  readonly problem: string;
  /** 1-based line, when known. */
  readonly line?: number;
}

const PLAIN_KEY = /^[^\s.[\]"]+$/;

/** `targets.orders-db.roles.read.maxTtl`, `issuers[0].name`, `dev.principals["human:a.b"]`; `(root)` for the top. */
export function formatKeyPath(path: readonly KeySegment[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text === '' ? '(root)' : text;
}

/** Formats one problem as a report line. */
export function formatProblem(file: string, p: ConfigProblem): string {
  const where = p.line === undefined ? file : `${file}:${p.line}`;
  return p.path === undefined ? `${where}: ${p.problem}` : `${where}: ${formatKeyPath(p.path)}: ${p.problem}`;
}

/** The `config_invalid` error for `problems` (sorted by line; duplicates dropped). */
export function configInvalid(file: string, problems: readonly ConfigProblem[]): StintError {
  const byLine = new Map<string, ConfigProblem>();
  for (const p of [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0))) byLine.set(formatProblem(file, p), p);
  return new StintError('config_invalid', [...byLine.keys()].join('\n'), {
    extra: {
      errors: [...byLine.values()].map((p) => ({
        file,
        ...(p.line === undefined ? {} : { line: p.line }),
        ...(p.path === undefined ? {} : { path: formatKeyPath(p.path) }),
        problem: p.problem,
      })),
    },
  });
}
