import { unwatchFile, watchFile } from 'node:fs';
import type { Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ConfigFileInvalid, unreadable } from '@cloakroom/config';
import type { AccountStore } from './account.store.js';
import { loadUsers } from './users.file.js';
import type { UserEntry } from './users.file.js';

export interface UsersFileWatchOptions {
  logger: { info(message: string): void; warn(object: object, message: string): void };
  /** More checks of a new set of users (production refuses the demo's); problems keep the old set. */
  refusals?: (users: UserEntry[]) => Promise<string[]>;
  /** How often the file is looked at, in milliseconds. */
  intervalMs?: number;
}

/**
 * Reloads the users file when it changes (`users set`, an editor, a mounted secret being updated), so a new
 * password works without a restart. The file is polled by path rather than watched by inode: the CLI
 * replaces it with a rename, and mounted volumes do not always deliver change events. A file that does not
 * validate is logged with its problems and the users already loaded stay in service.
 */
export function watchUsersFile(
  path: string,
  accounts: AccountStore,
  options: UsersFileWatchOptions,
): { close(): void; reloaded: Promise<void> } {
  let reloading = Promise.resolve();
  // What the last reload read (null: no file): one write can show as two changes (truncated, then written), and
  // the same content is neither loaded nor refused twice.
  let lastSeen: string | null | undefined;
  const refuse = (problems: string[]) =>
    options.logger.warn(
      { file: path, problems },
      'users file changed but is not valid: the users loaded before stay in service',
    );
  const reload = async () => {
    // Read without blocking the requests being served, then checked as at startup.
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (!(error as NodeJS.ErrnoException).code) throw error;
      if (lastSeen === null) return;
      lastSeen = null;
      return refuse([unreadable(error)]);
    }
    if (text === lastSeen) return;
    lastSeen = text;
    let users: UserEntry[];
    try {
      users = loadUsers({ path, text });
    } catch (error) {
      if (error instanceof ConfigFileInvalid) return refuse(error.problems);
      throw error;
    }
    const refused = options.refusals ? await options.refusals(users) : [];
    if (refused.length > 0) return refuse(refused);
    accounts.replaceUsers(users);
    options.logger.info(`users file ${path} reloaded: ${users.length} user(s)`);
  };
  const listener = (current: Stats, previous: Stats) => {
    if (
      current.mtimeMs === previous.mtimeMs &&
      current.ino === previous.ino &&
      current.size === previous.size
    )
      return;
    // One reload at a time, in order: the last change wins.
    reloading = reloading
      .then(reload)
      .catch((error: Error) =>
        options.logger.warn(
          { file: path, err: { message: error.message } },
          'users file could not be reloaded',
        ),
      );
  };
  watchFile(path, { interval: options.intervalMs ?? 1000, persistent: false }, listener);
  return {
    close: () => unwatchFile(path, listener),
    get reloaded() {
      return reloading;
    },
  };
}
