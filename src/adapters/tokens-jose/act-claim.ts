/**
 * RFC 8693 section 4.1 `act` claim: the current actor at the top, each earlier actor nested
 * in the `act` of the one after it.
 */
export interface ActClaim {
  readonly sub: string;
  readonly act?: ActClaim;
}

/** Deepest delegation chain accepted when reading an `act` claim. */
const MAX_ACT_DEPTH = 16;

/** The `act` claim for a delegation chain (outermost = `chain[0]`), or undefined when empty. */
export function actClaimOf(chain: readonly string[]): ActClaim | undefined {
  return chain.reduceRight<ActClaim | undefined>((inner, sub) => (inner === undefined ? { sub } : { sub, act: inner }), undefined);
}

/** The delegation chain of an `act` claim, outermost first; undefined when malformed. */
export function actorChainOf(act: unknown): string[] | undefined {
  const chain: string[] = [];
  let node = act;
  while (node !== undefined) {
    if (typeof node !== 'object' || node === null || chain.length >= MAX_ACT_DEPTH) return undefined;
    const { sub, act: inner } = node as { sub?: unknown; act?: unknown };
    if (typeof sub !== 'string' || sub === '') return undefined;
    chain.push(sub);
    node = inner;
  }
  return chain;
}
