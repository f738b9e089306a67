import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A file could not be written; the message names the file asked for, never the temporary one. */
export class FileWriteFailed extends Error {
  override readonly name = 'FileWriteFailed';
  constructor(
    readonly path: string,
    readonly code: string,
  ) {
    super(`${path}: cannot be written (${code})`);
  }
}

/**
 * Replaces a file's content all at once: written to a temporary file next to it, flushed, then renamed
 * over it, so a reader (or a crash) sees the old content or the new one, never half of it. A new file gets
 * `newFileMode`; an existing one keeps its mode unless `forceMode`. A missing parent directory is created
 * with mode 0700 (it is about to hold a secret file: users or keys).
 */
export async function writeFileAtomically(
  path: string,
  content: string,
  newFileMode = 0o600,
  forceMode = false,
): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const existing = forceMode ? undefined : (await stat(path).catch(() => undefined))?.mode;
    const mode = existing ?? newFileMode;
    const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await open(temporary, 'wx', mode & 0o777);
    try {
      await handle.writeFile(content, 'utf8');
      await handle.chmod(mode & 0o777);
      await handle.sync();
      await handle.close();
      await rename(temporary, path);
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(temporary, { force: true });
      throw error;
    }
  } catch (error) {
    throw new FileWriteFailed(path, (error as NodeJS.ErrnoException).code ?? 'error');
  }
}
