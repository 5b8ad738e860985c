/** Which `stint.yaml` the CLI uses when `--config` is not given. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: this file is `src/cli/` in a checkout and `dist/cli/` when built, two levels down either way. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The example configuration shipped with the package. */
export const EXAMPLE_CONFIG_PATH = join(PACKAGE_ROOT, 'examples', 'stint.yaml');

/** `--config` if given, else `./stint.yaml` if it exists, else the packaged example. Absolute. */
export function resolveConfigPath(explicit: string | undefined, cwd: string = process.cwd()): string {
  if (explicit !== undefined) return resolve(cwd, explicit);
  const local = resolve(cwd, 'stint.yaml');
  return existsSync(local) ? local : EXAMPLE_CONFIG_PATH;
}
