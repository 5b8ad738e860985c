/**
 * RFC 8785 JSON Canonicalization Scheme for the values Stint puts in audit events.
 * ECMAScript's JSON.stringify already serialises strings and numbers exactly as RFC 8785
 * section 3.2.2 requires (it is defined in terms of them); what remains is sorting object
 * members by their UTF-16 code units (section 3.2.3) and refusing what JSON cannot carry.
 */
export function canonicalize(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalize: non-finite number');
      return JSON.stringify(value);
    case 'object': {
      // Plain loops and one string: every audit event is canonicalised on the append path.
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalize(value[i]);
        return `${out}]`;
      }
      const obj = value as Record<string, unknown>;
      const keys = sortedKeys(obj);
      let out = '';
      for (const key of keys) {
        const member = obj[key];
        if (member === undefined) continue;
        out += `${out === '' ? '' : ','}${JSON.stringify(key)}:${canonicalize(member)}`;
      }
      return `{${out}}`;
    }
    default:
      throw new TypeError(`canonicalize: cannot encode ${typeof value}`);
  }
}

/**
 * The keys of `obj` ordered by their UTF-16 code units (RFC 8785 section 3.2.3; JavaScript's
 * `<` on strings compares exactly those). Sorted in place by insertion: audit objects have a
 * handful of members (larger ones take the built-in sort), and `Array.prototype.sort` copies
 * into a work array first, which made the sort ~9% of the bytes a grant request allocates
 * (measured in session 8, docs/benchmarks.md).
 */
function sortedKeys(obj: Record<string, unknown>): string[] {
  const keys = Object.keys(obj);
  // Quadratic, so only for small objects; the default sort compares UTF-16 code units too.
  if (keys.length > 32) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}
