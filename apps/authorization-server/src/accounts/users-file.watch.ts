import { ConfigFileInvalid, unreadable } from '@cloakroom/config';
import { watchFileContent } from '../file-content.watch.js';
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
 * password works without a restart. A file that does not validate is logged with its problems and the users
 * already loaded stay in service.
 */
export function watchUsersFile(
  path: string,
  accounts: AccountStore,
  options: UsersFileWatchOptions,
): { close(): void; reloaded: Promise<void> } {
  const refuse = (problems: string[]) =>
    options.logger.warn(
      { file: path, problems },
      'users file changed but is not valid: the users loaded before stay in service',
    );
  const watch = watchFileContent(
    path,
    {
      onUnreadable: (error) => refuse([unreadable(error)]),
      async onContent(text) {
        // Checked as at startup.
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
      },
      onFailure: (error) =>
        options.logger.warn(
          { file: path, err: { message: error.message } },
          'users file could not be reloaded',
        ),
    },
    options.intervalMs,
  );
  return {
    close: () => watch.close(),
    get reloaded() {
      return watch.handled;
    },
  };
}
