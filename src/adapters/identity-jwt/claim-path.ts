/**
 * Reads claims by the dotted paths of a claim mapping (`nameClaim`, `attributes`, `require`).
 */

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The value at `path` in `claims`, or undefined. A claim name may itself contain dots
 * (Kubernetes puts everything under `kubernetes.io`), so at each level the whole remaining
 * path is tried as a key first, then its dotted prefixes from longest to shortest:
 * `kubernetes.io.serviceaccount.name` finds `claims["kubernetes.io"].serviceaccount.name`.
 * Only own properties are read, so `__proto__` or `constructor` never reach the prototype.
 */
export function claimAt(claims: unknown, path: string): unknown {
  if (!isRecord(claims)) return undefined;
  if (Object.hasOwn(claims, path)) return claims[path];
  for (let dot = path.lastIndexOf('.'); dot > 0; dot = path.lastIndexOf('.', dot - 1)) {
    const head = path.slice(0, dot);
    if (Object.hasOwn(claims, head)) {
      const found = claimAt(claims[head], path.slice(dot + 1));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** A scalar claim as the string policy sees; objects, arrays and null have no string form. */
export function scalarClaimString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return undefined;
}
