/**
 * Helpers that turn parsed YAML data into the config's own objects: user-keyed maps become
 * null-prototype records (so `targets['constructor']` is `undefined`, not a function, and a
 * `__proto__` key is just a key), free-form sections are copied with recursive aliases refused,
 * and the finished config is deeply frozen.
 */
import type { ConfigProblem, KeySegment } from './problems.js';

/** A record without a prototype, built from `entries`. */
export function toRecord<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const record = Object.create(null) as Record<string, T>;
  for (const [key, value] of entries) record[key] = value;
  return record;
}

/** Maps the values of a parsed YAML mapping into a null-prototype record. */
export function mapRecord<T, U>(source: Readonly<Record<string, T>>, map: (value: T, key: string) => U): Record<string, U> {
  return toRecord(Object.entries(source).map(([key, value]) => [key, map(value, key)] as const));
}

/**
 * Copies a free-form section (a target's `connection`, a role's `grants`). Strings pass through
 * `mapString` (used to resolve secret references). YAML aliases can make a structure contain
 * itself; that is reported as a problem instead of recursing forever.
 */
export function copyFreeForm(
  value: unknown,
  path: readonly KeySegment[],
  problems: ConfigProblem[],
  mapString: (text: string, path: readonly KeySegment[]) => unknown = (text) => text,
  ancestors: ReadonlySet<object> = new Set(),
): unknown {
  if (typeof value === 'string') return mapString(value, path);
  if (typeof value !== 'object' || value === null) return value;
  if (ancestors.has(value)) {
    problems.push({ path, problem: 'contains itself (recursive YAML alias)' });
    return null;
  }
  const inside = new Set(ancestors).add(value);
  if (Array.isArray(value)) {
    return value.map((item: unknown, i) => copyFreeForm(item, [...path, i], problems, mapString, inside));
  }
  return mapRecord(value as Record<string, unknown>, (item, key) =>
    copyFreeForm(item, [...path, key], problems, mapString, inside),
  );
}

/** Freezes `value` and everything reachable from it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  return value;
}
