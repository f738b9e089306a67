import { USERNAME, hashPassword } from '@cloakroom/authorization-server/directory-files';
import { CommandFailed, UsageError } from './cli.io.js';
import type { CliIo } from './cli.io.js';
import { parseExactly } from './cli.options.js';
import { UsersDocument } from './users.document.js';

const DEFAULT_USERS_FILE = 'config/demo/users.yaml';
const MIN_PASSWORD_LENGTH = 8;
const RELOAD_NOTE =
  'an authorization server running on this file reloads it within seconds (no restart); if the file were invalid it would keep the users it has and log why\n';

/** Claims settable from the command line: option name → field of the users file. */
const CLAIM_OPTIONS = {
  name: 'name',
  'given-name': 'given_name',
  'family-name': 'family_name',
  'preferred-username': 'preferred_username',
  email: 'email',
  locale: 'locale',
  sub: 'sub',
} as const;

/** `users set|remove|list`. */
export async function usersCommand(args: string[], io: CliIo): Promise<void> {
  const [action, ...rest] = args;
  if (action === 'set') return setUser(rest, io);
  if (action === 'remove') return removeUser(rest, io);
  if (action === 'list') return listUsers(rest, io);
  throw new UsageError(`unknown users command ${action ?? '(none)'}: use set, remove or list`);
}

/** `hash-password`: prints the argon2id PHC string of the password read from stdin (or --password). */
export async function hashPasswordCommand(args: string[], io: CliIo): Promise<void> {
  const { values } = parseExactly(args, { password: 'string', 'password-stdin': 'boolean' }, 0);
  const password = await readPassword(
    { ...values, 'password-stdin': values.password === undefined },
    io,
    true,
  );
  io.stdout(`${await hashPassword(password!)}\n`);
}

async function setUser(args: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parseExactly(
    args,
    {
      ...Object.fromEntries(Object.keys(CLAIM_OPTIONS).map((option) => [option, 'string' as const])),
      password: 'string',
      'password-stdin': 'boolean',
      'email-verified': 'string',
      groups: 'string',
      disabled: 'boolean',
      enabled: 'boolean',
      file: 'string',
    },
    1,
  );
  const username = usernameOf(positionals[0]);
  const path = fileOf(values.file, io);
  const users = await UsersDocument.read(path);
  const exists = users.has(username);
  const password = await readPassword(values, io, !exists);

  if (password !== undefined) users.set(username, 'passwordHash', await hashPassword(password));
  for (const [option, field] of Object.entries(CLAIM_OPTIONS)) {
    const value = values[option];
    if (typeof value === 'string') users.set(username, field, value === '' ? undefined : value);
  }
  if (typeof values['email-verified'] === 'string') {
    const verified = values['email-verified'];
    if (verified !== 'true' && verified !== 'false')
      throw new UsageError('--email-verified takes true or false');
    users.set(username, 'email_verified', verified === 'true');
  }
  if (typeof values.groups === 'string') {
    const groups = values.groups
      .split(',')
      .map((group) => group.trim())
      .filter(Boolean);
    users.set(username, 'groups', [...new Set(groups)]);
  } else if (!exists) {
    users.set(username, 'groups', []);
  }
  if (values.disabled && values.enabled) throw new UsageError('--disabled and --enabled exclude each other');
  if (values.disabled) users.set(username, 'disabled', true);
  if (values.enabled) users.set(username, 'disabled', undefined);

  await users.write();
  io.stdout(`${exists ? 'updated' : 'added'} user ${username} in ${path}\n${RELOAD_NOTE}`);
}

async function removeUser(args: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parseExactly(args, { file: 'string' }, 1);
  const username = usernameOf(positionals[0]);
  const path = fileOf(values.file, io);
  const users = await UsersDocument.read(path);
  if (!users.has(username)) throw new CommandFailed(`no user ${username} in ${path}`);
  users.remove(username);
  await users.write();
  io.stdout(`removed user ${username} from ${path}\n${RELOAD_NOTE}`);
}

async function listUsers(args: string[], io: CliIo): Promise<void> {
  const { values } = parseExactly(args, { file: 'string' }, 0);
  for (const user of (await UsersDocument.read(fileOf(values.file, io))).users()) {
    const flags = user.record.disabled ? ' (disabled)' : '';
    io.stdout(`${user.username}\tsub=${user.sub}\tgroups=${user.record.groups.length}${flags}\n`);
  }
}

function usernameOf(raw: string | undefined): string {
  const username = (raw ?? '').normalize('NFKC').trim().toLowerCase();
  if (!USERNAME.test(username)) {
    throw new UsageError('give a username: lowercase letters, digits and . _ @ + -, at most 128 characters');
  }
  return username;
}

function fileOf(option: unknown, io: CliIo): string {
  return typeof option === 'string' && option !== '' ? option : (io.env.USERS_FILE ?? DEFAULT_USERS_FILE);
}

async function readPassword(
  values: Record<string, unknown>,
  io: CliIo,
  required: boolean,
): Promise<string | undefined> {
  const fromOption = values.password;
  if (typeof fromOption === 'string' && values['password-stdin']) {
    throw new UsageError('--password and --password-stdin exclude each other');
  }
  let password: string | undefined;
  if (typeof fromOption === 'string') {
    io.stderr('warning: --password leaves the password in the shell history; prefer --password-stdin\n');
    password = fromOption;
  } else if (values['password-stdin']) {
    password = (await io.readStdin()).replace(/\r?\n$/, '');
  } else if (required) {
    throw new UsageError('a new user needs a password: --password-stdin (or --password)');
  }
  if (password === undefined) return undefined;
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new CommandFailed(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > 1024) throw new CommandFailed('the password must have at most 1024 characters');
  return password;
}
