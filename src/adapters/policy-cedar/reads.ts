/**
 * What a policy set can read of a request: the context fields, the attributes of the principal
 * and the resource, and whether their tags, found by walking each policy's conditions in
 * Cedar's JSON policy format.
 *
 * Why: most of an evaluation is Cedar taking in the request's entities and context (each value
 * crosses from JavaScript into WebAssembly and is parsed there), so the evaluator sends only
 * what some policy can read (docs/benchmarks.md, "Issuance"). Leaving out a value no
 * expression reads cannot change a decision or an error: Cedar reads a value only through
 * `.attr`, `has attr`, `hasTag` and `getTag`, or by using a whole record. So the walk is
 * conservative: a read it cannot attribute to `context`, `principal` or `resource` directly
 * (e.g. `(if c then principal else resource).env`, or `context` used as a whole) keeps
 * everything of that kind.
 */

/** Names read of one entity or record, or `all` when the walk could not narrow them down. */
export type ReadSet = ReadonlySet<string> | 'all';

/** What the policies can read. */
export interface PolicyReads {
  readonly context: ReadSet;
  readonly principal: ReadSet;
  readonly resource: ReadSet;
  readonly principalTags: boolean;
  readonly resourceTags: boolean;
  /**
   * Context fields read only by comparing them with string literals (`context.task == ""`,
   * `"x" != context.f`) or by testing their presence (`context has ticket`), with those literals
   * (none for a presence test). The answer then depends on such a field only through whether it
   * is there and which literal, if any, it equals, so the decision memo keys it by that
   * (decision-memo.ts). Neither kind of read ever errors.
   */
  readonly contextComparedOnly: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Everything: what the evaluator sends when the reads are not known. */
export const READS_EVERYTHING: PolicyReads = {
  context: 'all',
  principal: 'all',
  resource: 'all',
  principalTags: true,
  resourceTags: true,
  contextComparedOnly: new Map(),
};

const ROOTS = ['context', 'principal', 'resource'] as const;
type Root = (typeof ROOTS)[number];

class ReadCollector {
  private readonly names: Record<Root, Set<string>> = { context: new Set(), principal: new Set(), resource: new Set() };
  private readonly whole: Record<Root, boolean> = { context: false, principal: false, resource: false };
  private readonly tags = { principal: false, resource: false };
  /** Literals each context field is compared with (`==`, `!=`), and the fields read any other way. */
  private readonly comparedWith = new Map<string, Set<string>>();
  private readonly readOtherwise = new Set<string>();

  /** One expression node: `{ "<op>": payload }`. Anything unexpected is walked generically. */
  visit(node: unknown): void {
    if (Array.isArray(node)) {
      for (const item of node) this.visit(item);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const [op, payload] of Object.entries(node as Record<string, unknown>)) {
      if (op === 'Value') continue; // a literal: entity references in it read no attributes
      if (op === 'Var') {
        // A variable used other than as the left side of `.`/`has`: `context` is then read as a
        // whole (an entity variable by itself reads nothing: `==`, `in`, `is` use its uid).
        if (payload === 'context') this.whole.context = true;
        continue;
      }
      if ((op === '==' || op === '!=') && isObject(payload)) {
        const compared = contextLiteralComparison(payload.left, payload.right) ?? contextLiteralComparison(payload.right, payload.left);
        if (compared !== undefined) {
          this.names.context.add(compared.field);
          let literals = this.comparedWith.get(compared.field);
          if (literals === undefined) this.comparedWith.set(compared.field, (literals = new Set()));
          literals.add(compared.literal);
          continue;
        }
      }
      if ((op === '.' || op === 'has') && isObject(payload)) {
        const root = rootOf(payload.left);
        if (root !== undefined && typeof payload.attr === 'string') {
          this.names[root].add(payload.attr);
          if (root === 'context') {
            // `has` reads only whether the field is there, which the memo key keeps anyway.
            if (op === '.') this.readOtherwise.add(payload.attr);
            else if (!this.comparedWith.has(payload.attr)) this.comparedWith.set(payload.attr, new Set());
          }
        } else {
          // An attribute of something computed: it may be either entity, or a record inside
          // the context (`context.rec.x` reads `rec` as a whole).
          this.whole.principal = true;
          this.whole.resource = true;
          this.visit(payload.left);
        }
        continue;
      }
      if ((op === 'hasTag' || op === 'getTag') && isObject(payload)) {
        const root = rootOf(payload.left);
        if (root === 'principal' || root === 'resource') this.tags[root] = true;
        else {
          this.tags.principal = true;
          this.tags.resource = true;
          this.visit(payload.left);
        }
        this.visit(payload.right);
        continue;
      }
      // Every other operator, extension call, set or record: its operands, wherever they sit.
      if (isObject(payload)) for (const child of Object.values(payload)) this.visit(child);
      else this.visit(payload);
    }
  }

  result(): PolicyReads {
    const set = (root: Root): ReadSet => (this.whole[root] ? 'all' : new Set(this.names[root]));
    const contextComparedOnly = new Map<string, ReadonlySet<string>>();
    if (!this.whole.context) {
      for (const [field, literals] of this.comparedWith) if (!this.readOtherwise.has(field)) contextComparedOnly.set(field, literals);
    }
    return {
      context: set('context'),
      principal: set('principal'),
      resource: set('resource'),
      principalTags: this.tags.principal,
      resourceTags: this.tags.resource,
      contextComparedOnly,
    };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `context`, `principal` or `resource` when `node` is exactly that variable. */
function rootOf(node: unknown): Root | undefined {
  if (!isObject(node)) return undefined;
  const keys = Object.keys(node);
  if (keys.length !== 1 || keys[0] !== 'Var') return undefined;
  const name = node.Var;
  return (ROOTS as readonly unknown[]).includes(name) ? (name as Root) : undefined;
}

/** `{ field, literal }` when `attr` is `context.<field>` and `literal` a string literal. */
function contextLiteralComparison(attr: unknown, literal: unknown): { field: string; literal: string } | undefined {
  if (!isObject(attr) || !isObject(literal)) return undefined;
  if (Object.keys(attr).length !== 1 || Object.keys(literal).length !== 1) return undefined;
  const access = attr['.'];
  const value = literal.Value;
  if (!isObject(access) || typeof value !== 'string') return undefined;
  if (rootOf(access.left) !== 'context' || typeof access.attr !== 'string') return undefined;
  return { field: access.attr, literal: value };
}

/**
 * The reads of every policy's `conditions` (the JSON policy format's array of `{kind, body}`).
 * The scope (`principal in ...`, `action == ...`) reads no attributes.
 */
export function policyReads(conditions: readonly unknown[]): PolicyReads {
  const collector = new ReadCollector();
  for (const list of conditions) {
    if (!Array.isArray(list)) return READS_EVERYTHING;
    for (const condition of list) {
      if (!isObject(condition) || !('body' in condition)) return READS_EVERYTHING;
      collector.visit(condition.body);
    }
  }
  return collector.result();
}

/** `record` with only the keys in `reads`. */
export function keepRead<T>(record: Record<string, T>, reads: ReadSet): Record<string, T> {
  if (reads === 'all') return record;
  // No prototype: a key named `__proto__` stays an ordinary key.
  const kept = Object.create(null) as Record<string, T>;
  for (const key of Object.keys(record)) if (reads.has(key)) kept[key] = record[key]!;
  return kept;
}
