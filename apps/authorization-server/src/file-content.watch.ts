import { unwatchFile, watchFile } from 'node:fs';
import type { Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';

export interface FileContentWatch {
  close(): void;
  /** Settles when the changes seen so far have been handled. */
  readonly handled: Promise<void>;
}

/**
 * Calls `onContent` with a file's new content each time it changes, or `onUnreadable` when it can no longer be read,
 * one call at a time and in order (the last change wins). The file is polled by path rather than watched by inode:
 * the command line replaces files with a rename, and mounted volumes (a Kubernetes Secret) do not always deliver
 * change events. Content equal to the last seen is not handled twice: one write can show as two changes
 * (truncated, then written). The first change is compared with nothing: the caller has read the file at start.
 */
export function watchFileContent(
  path: string,
  handlers: {
    onContent(text: string): void | Promise<void>;
    onUnreadable(error: NodeJS.ErrnoException): void | Promise<void>;
    /** A handler threw: the watch goes on. */
    onFailure(error: Error): void;
  },
  intervalMs = 1000,
): FileContentWatch {
  let handling = Promise.resolve();
  // What the last change read (null: the file could not be read).
  let lastSeen: string | null | undefined;
  const handle = async () => {
    // Read without blocking the requests being served.
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (!(error as NodeJS.ErrnoException).code) throw error;
      if (lastSeen === null) return;
      lastSeen = null;
      return handlers.onUnreadable(error as NodeJS.ErrnoException);
    }
    if (text === lastSeen) return;
    lastSeen = text;
    return handlers.onContent(text);
  };
  const listener = (current: Stats, previous: Stats) => {
    if (
      current.mtimeMs === previous.mtimeMs &&
      current.ino === previous.ino &&
      current.size === previous.size
    )
      return;
    handling = handling.then(handle).catch((error: Error) => handlers.onFailure(error));
  };
  watchFile(path, { interval: intervalMs, persistent: false }, listener);
  return {
    close: () => unwatchFile(path, listener),
    get handled() {
      return handling;
    },
  };
}
