import { open, unlink } from 'node:fs/promises';

import { StintError } from '../../core/errors.js';

/**
 * Runs `work` while holding `${file}.lock` (created exclusively, removed afterwards), so two
 * rotations of a shared key file never overwrite each other's keys. A second rotation while
 * one runs fails with `conflict` rather than waiting; a lock left by a crashed process must be
 * removed by hand, which the error says.
 */
export async function withFileLock<T>(file: string, work: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  await open(lock, 'wx', 0o600).then(
    (handle) => handle.close(),
    (error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new StintError('conflict', `another key rotation holds ${lock}; if none is running, remove that file`);
      }
      throw error;
    },
  );
  try {
    return await work();
  } finally {
    await unlink(lock);
  }
}
