/**
 * Loading `stint.yaml`: parse (YAML), validate (one JSON schema), check across keys, resolve
 * (paths, secrets, durations, environment overrides), freeze. Each stage reports every problem
 * it finds; the first stage with problems stops the load with one `config_invalid` error whose
 * lines read `<file>:<line>: <key.path>: <problem>`.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { StintError } from '../core/errors.js';
import { buildConfig } from './build.js';
import { checkCrossField } from './checks.js';
import { deepFreeze } from './plain-data.js';
import { configInvalid, type ConfigProblem } from './problems.js';
import type { StintConfig } from './types.js';
import { validateRawConfig } from './validate.js';
import { parseYamlSource, type YamlSource } from './yaml-source.js';

/**
 * Reads and loads the config file at `path` (absolute, or relative to the working directory).
 * `env` supplies secret references and the `DATABASE_URL` / `STINT_PORT` overrides.
 */
export async function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<StintConfig> {
  let text: string;
  try {
    text = await readFile(resolve(path), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? 'error'})`;
    throw new StintError('config_invalid', `${path}: ${why}`);
  }
  return parseConfig(text, path, env);
}

/**
 * Loads config `text` as if read from `source` (named in errors; relative paths in the file
 * resolve against its folder). Synchronous, for tests and tools.
 */
export function parseConfig(text: string, source: string, env: NodeJS.ProcessEnv = process.env): StintConfig {
  const parsed = parseYamlSource(text);
  if ('problems' in parsed) throw configInvalid(source, parsed.problems);
  const validated = validateRawConfig(parsed.source.data);
  if ('problems' in validated) throw configInvalid(source, located(validated.problems, parsed.source));
  const crossField = checkCrossField(validated.config);
  const built = buildConfig(validated.config, resolve(source), env);
  const problems = [...crossField, ...built.problems];
  if (problems.length > 0) throw configInvalid(source, located(problems, parsed.source));
  return deepFreeze(built.config);
}

function located(problems: readonly ConfigProblem[], source: YamlSource): ConfigProblem[] {
  return problems.map((p) => (p.line !== undefined || p.path === undefined ? p : { ...p, line: source.lineOf(p.path) }));
}
