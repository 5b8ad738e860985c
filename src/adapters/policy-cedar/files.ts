/** Reads the `*.cedar` files of a policy directory (not recursive), sorted by name. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StintError } from '../../core/errors.js';
import type { PolicyFile } from './parse.js';

// Fatal: a file that is not UTF-8 must not be half-read. A leading BOM is dropped.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The policy files of `dir` in code-unit order of their names (deterministic across
 * locales). Unreadable directories and files are `policy_invalid`.
 */
export async function readPolicyFiles(dir: string): Promise<PolicyFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new StintError('policy_invalid', `${dir}: cannot read the policy directory (${errorCode(e)})`, { cause: e });
  }
  const files: PolicyFile[] = [];
  for (const name of names.filter((n) => n.endsWith('.cedar')).sort()) {
    const path = join(dir, name);
    try {
      if (!(await stat(path)).isFile()) continue;
      files.push({ path, name, text: utf8.decode(await readFile(path)) });
    } catch (e) {
      const reason = e instanceof TypeError ? 'not valid UTF-8' : errorCode(e);
      throw new StintError('policy_invalid', `${path}: cannot read the policy file (${reason})`, { cause: e });
    }
  }
  return files;
}

function errorCode(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : String(e);
}
