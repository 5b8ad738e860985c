/**
 * Secret references in the configuration: `env:NAME` (an environment variable) or `file:path`
 * (a file, relative paths resolved against the config file's folder). The resolved value is
 * wrapped in a {@link Secret} that prints only where it came from, so a config object can be
 * logged, inspected or serialised without leaking it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { inspect } from 'node:util';
import { StintError } from '../core/errors.js';
import type { Secret } from './types.js';

/** What a secret reference looks like: `env:NAME` (POSIX variable name) or `file:<path>`. */
export const SECRET_REF_PATTERN = '^(?:env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$';
const SECRET_REF = new RegExp(SECRET_REF_PATTERN, 'u');

/** Every Secret made here; lets {@link isSecret} recognise them without a public marker field. */
const madeSecrets = new WeakSet<object>();

/** True when `value` is a string written as a secret reference. */
export function isSecretRef(value: unknown): value is string {
  return typeof value === 'string' && SECRET_REF.test(value);
}

/** True when `value` is a Secret produced by {@link makeSecret}. */
export function isSecret(value: unknown): value is Secret {
  return typeof value === 'object' && value !== null && madeSecrets.has(value);
}

/**
 * Wraps `value` so that `String()`, template literals, `JSON.stringify` and `util.inspect`
 * all print `[secret <source>]`. The value lives only in a closure (not a property), so even
 * `inspect(x, { showHidden: true })` cannot reach it; `reveal()` is the one way to read it.
 */
export function makeSecret(value: string, source: string): Secret {
  const label = `[secret ${source}]`;
  const secret = Object.freeze({
    source,
    reveal: (): string => value,
    toString: (): string => label,
    toJSON: (): string => label,
    [Symbol.toPrimitive]: (): string => label,
    [inspect.custom]: (): string => label,
  });
  madeSecrets.add(secret);
  return secret;
}

/**
 * Resolves `env:NAME` from `env` or `file:path` (relative to `baseDir`; one trailing newline
 * is dropped, as files written by `echo` or secret mounts usually end with one).
 * Throws `config_invalid` naming the variable or the file, never the value.
 */
export function resolveSecretRef(ref: string, baseDir: string, env: NodeJS.ProcessEnv): Secret {
  if (!isSecretRef(ref)) {
    throw new StintError('config_invalid', 'is not a secret reference (expected env:NAME or file:path)');
  }
  if (ref.startsWith('env:')) {
    const name = ref.slice('env:'.length);
    const value = env[name];
    if (value === undefined) throw new StintError('config_invalid', `environment variable ${name} is not set`);
    if (value === '') throw new StintError('config_invalid', `environment variable ${name} is empty`);
    return makeSecret(value, ref);
  }
  const path = resolve(baseDir, ref.slice('file:'.length));
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`;
    throw new StintError('config_invalid', `secret file ${path} ${why}`);
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new StintError('config_invalid', `secret file ${path} is empty`);
  return makeSecret(value, `file:${path}`);
}
