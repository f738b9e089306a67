import { randomBytes } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces a file's content all at once: written to a temporary file next to it, flushed, then renamed
 * over it, so a reader (or a crash) sees the old content or the new one, never half of it. A new file gets
 * `newFileMode`; an existing one keeps its mode unless `forceMode`.
 */
export async function writeFileAtomically(
  path: string,
  content: string,
  newFileMode = 0o600,
  forceMode = false,
): Promise<void> {
  const existing = forceMode ? undefined : (await stat(path).catch(() => undefined))?.mode;
  const mode = existing ?? newFileMode;
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', mode & 0o777);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.chmod(mode & 0o777);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
