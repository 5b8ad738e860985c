/**
 * Schema validation with Ajv (strict mode, every error at once, static defaults applied), and
 * the translation of Ajv's errors into config problems that name the key path and say what is
 * expected, never what was found (a misplaced secret must not be echoed).
 */
import { Ajv, type ErrorObject } from 'ajv';
import { CONFIG_FORMATS } from './formats.js';
import type { ConfigProblem, KeySegment } from './problems.js';
import { ALLOWED_ALGORITHMS, configJsonSchema, NAME_PATTERNS, type RawConfig } from './schema.js';

const ajv = new Ajv({
  strict: true,
  allErrors: true,
  useDefaults: true,
  // Durations are `string | integer`; strict mode forbids union types unless allowed.
  allowUnionTypes: true,
  // `parentSchema` and `data` are needed to word the problems.
  verbose: true,
});
for (const [name, format] of Object.entries(CONFIG_FORMATS)) ajv.addFormat(name, { type: 'string', validate: format.validate });
const validateSchema = ajv.compile(configJsonSchema);

const PATTERN_PROBLEMS: Readonly<Record<string, string>> = {
  [NAME_PATTERNS.target]: "must be 1-63 characters: lowercase letters, digits and '-', starting with a letter or digit",
  [NAME_PATTERNS.role]: "must be 1-63 characters: lowercase letters, digits, '_' and '-', starting with a letter",
  [NAME_PATTERNS.identifier]: "must be 1-63 characters: lowercase letters, digits, '_' and '-', starting with a letter or digit",
  [NAME_PATTERNS.attribute]: "must be an identifier (letters, digits and '_', not starting with a digit)",
  [NAME_PATTERNS.claimPath]: 'must be a claim name or a dotted claim path without spaces',
  [NAME_PATTERNS.origin]: 'must not be empty or contain whitespace',
  [NAME_PATTERNS.secretRef]: 'must be a secret reference: env:NAME or file:path',
};

const TYPE_NAMES: Readonly<Record<string, string>> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  null: 'null',
};

/**
 * Validates `data` in place (Ajv fills in static defaults) and returns it typed, or the
 * problems found.
 */
export function validateRawConfig(data: unknown): { readonly config: RawConfig } | { readonly problems: ConfigProblem[] } {
  if (validateSchema(data)) return { config: data as RawConfig };
  const errors = validateSchema.errors ?? [];
  const problems: ConfigProblem[] = [];
  for (const error of errors) {
    const problem = toProblem(error, data);
    if (problem !== undefined) problems.push(problem);
  }
  return { problems };
}

function toProblem(error: ErrorObject, root: unknown): ConfigProblem | undefined {
  // Failures inside a oneOf branch are summarised by the oneOf error itself.
  if (/\/oneOf\/\d+\//.test(error.schemaPath)) return undefined;
  // A bad key under propertyNames is reported by the inner keyword, which carries the key.
  if (error.keyword === 'propertyNames') return undefined;
  const path = pointerToPath(error.instancePath, root);
  if (error.propertyName !== undefined) {
    return { path: [...path, error.propertyName], problem: `invalid key: ${describe(error)}` };
  }
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const hint = known.length > 0 ? ` (expected one of: ${known.join(', ')})` : '';
      return { path: [...path, String(params.additionalProperty)], problem: `unknown key${hint}` };
    }
    case 'required':
      return { path: [...path, String(params.missingProperty)], problem: 'is required' };
    case 'uniqueItems': {
      const [first, duplicate] = [Number(params.i), Number(params.j)].sort((a, b) => a - b);
      return { path: [...path, duplicate ?? 0], problem: `repeats item [${String(first)}]` };
    }
    default:
      return { path, problem: describe(error) };
  }
}

/** The problem text for an error about a value (or, under propertyNames, about a key). */
function describe(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'type': {
      const expected = [params.type].flat().map((t) => TYPE_NAMES[String(t)] ?? String(t));
      const found = typeName(error.data);
      const quoteHint = expected.includes('a string') && (found === 'a number' || found === 'true or false') ? ' (quote it)' : '';
      return `must be ${expected.join(' or ')}, not ${found}${quoteHint}`;
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      // Symmetric (HS*) keys would let any holder of the shared secret mint identity tokens; `none` is unsigned.
      const why = allowed.join() === ALLOWED_ALGORITHMS.join() ? ' (asymmetric algorithms only; HS* and none are never accepted)' : '';
      return `must be one of: ${allowed.join(', ')}${why}`;
    }
    case 'pattern':
      return PATTERN_PROBLEMS[String(params.pattern)] ?? `must match ${String(params.pattern)}`;
    case 'format':
      return CONFIG_FORMATS[String(params.format)]?.problem ?? `must be a ${String(params.format)}`;
    case 'minimum':
    case 'maximum':
      return `must be ${String(params.comparison)} ${String(params.limit)}`;
    case 'minLength':
      return 'must not be empty';
    case 'minItems':
      return params.limit === 1 ? 'must not be empty' : `must have at least ${String(params.limit)} items`;
    case 'minProperties':
      return 'must have at least one entry';
    case 'oneOf': {
      const branches = (error.parentSchema as { oneOf?: { required?: string[] }[] } | undefined)?.oneOf ?? [];
      const keys = branches.flatMap((b) => b.required ?? []).join(', ');
      return params.passingSchemas === null ? `needs one of: ${keys}` : `must set only one of: ${keys}`;
    }
    default:
      return error.message ?? `fails ${error.keyword}`;
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return TYPE_NAMES.array!;
  return TYPE_NAMES[typeof value] ?? typeof value;
}

/** Turns a JSON pointer into key segments, using the data to tell list indexes from keys. */
function pointerToPath(pointer: string, root: unknown): KeySegment[] {
  const path: KeySegment[] = [];
  let current: unknown = root;
  for (const raw of pointer === '' ? [] : pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      const index = Number(key);
      path.push(index);
      current = current[index];
    } else {
      path.push(key);
      current = typeof current === 'object' && current !== null ? (current as Record<string, unknown>)[key] : undefined;
    }
  }
  return path;
}
