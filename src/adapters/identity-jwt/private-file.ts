import { randomUUID } from 'node:crypto';
import { link, mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes `content` to a new 0600 file and flushes it to disk before it becomes visible. */
async function writeTempFile(file: string, content: string): Promise<string> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${randomUUID()}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return temp;
}

/**
 * Creates `file` (mode 0600, missing directories 0700) with `content` unless it exists.
 * Returns false when another process created it first. The content is complete before the
 * name appears (write to a temporary file, then `link`, which fails on an existing name),
 * so replicas starting together never read half a key file and never overwrite each other.
 */
export async function createPrivateFile(file: string, content: string): Promise<boolean> {
  const temp = await writeTempFile(file, content);
  try {
    await link(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp);
  }
}

/** Atomically replaces `file` (mode 0600): readers see the old or the new content, never a mix. */
export async function replacePrivateFile(file: string, content: string): Promise<void> {
  const temp = await writeTempFile(file, content);
  try {
    await rename(temp, file);
  } catch (error) {
    await unlink(temp);
    throw error;
  }
}
