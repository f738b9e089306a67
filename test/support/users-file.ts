import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { hashPassword } from '../../apps/authorization-server/src/accounts/password.hasher.js';

/**
 * Writes `<dir>/users.yaml` with one user per group count, `user-<n>`, all signing in with `password`; the groups
 * come from `groupsOf(n)`. Returns the file's path.
 */
export async function writeUsersWithGroups(
  dir: string,
  sizes: number[],
  groupsOf: (n: number) => string[],
  password: string,
): Promise<string> {
  const passwordHash = await hashPassword(password);
  const users = Object.fromEntries(sizes.map((n) => [`user-${n}`, { passwordHash, groups: groupsOf(n) }]));
  const path = join(dir, 'users.yaml');
  writeFileSync(path, stringify({ users }));
  return path;
}
