/**
 * Parses the YAML text once, keeping the document so that a key path found wrong later (by the
 * schema or a cross-field check) can be traced back to its line (yaml's `LineCounter` plus the
 * node ranges along the path).
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { ConfigProblem, KeySegment } from './problems.js';

/** The parsed file: plain data plus a way back to line numbers. */
export interface YamlSource {
  /** The document as plain JS data (an empty file is an empty mapping). */
  readonly data: unknown;
  /** 1-based line of the deepest key or item along `path` that exists in the file. */
  lineOf(path: readonly KeySegment[]): number | undefined;
}

/** YAML expands aliases; cap the expansion so a "billion laughs" file cannot exhaust memory. */
const MAX_ALIAS_COUNT = 100;

/** Parses `text` (YAML 1.2, core schema, one document, unique keys); syntax errors and warnings become problems. */
export function parseYamlSource(text: string): { readonly source: YamlSource } | { readonly problems: ConfigProblem[] } {
  const lineCounter = new LineCounter();
  // prettyErrors off: the pretty form quotes the offending source line, which may hold a secret.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const lineAt = (offset: number | undefined): number | undefined =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;
  const issues = [...doc.errors, ...doc.warnings];
  if (issues.length > 0) {
    return { problems: issues.map((e) => ({ problem: `YAML: ${e.message}`, line: lineAt(e.pos[0]) })) };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    return { problems: [{ problem: `YAML: ${e instanceof Error ? e.message : String(e)}` }] };
  }
  return { source: { data: data ?? {}, lineOf: (path) => lineOfPath(doc, path, lineAt) } };
}

function lineOfPath(
  doc: Document,
  path: readonly KeySegment[],
  lineAt: (offset: number | undefined) => number | undefined,
): number | undefined {
  let node: unknown = doc.contents;
  // The document's own line only answers for the document itself (e.g. "must be a mapping"):
  // a key missing at the top level has no better line than none.
  let line = path.length === 0 && (isScalar(node) || isMap(node) || isSeq(node)) ? lineAt(node.range?.[0]) : undefined;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (pair === undefined || !isScalar(pair.key)) break;
      line = lineAt(pair.key.range?.[0]) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (!(isScalar(item) || isMap(item) || isSeq(item) || isAlias(item))) break;
      line = lineAt(item.range?.[0]) ?? line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}
