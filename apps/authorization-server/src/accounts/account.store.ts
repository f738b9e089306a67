import type { SealedStore } from '@cloakroom/sealed-store';
import { LoginRefused } from './accounts.errors.js';
import { LoginThrottle } from './login.throttle.js';
import type { LoginThrottleSettings } from './login.throttle.js';
import { PASSWORD_HASH_DEFAULTS, hashOptionsOf, hashPassword, verifyPassword } from './password.hasher.js';
import type { PasswordHashOptions } from './password.hasher.js';
import { PROFILE_CLAIMS, loadUsers } from './users.file.js';
import type { UserEntry } from './users.file.js';

/** A user as oidc-provider's findAccount wants it. */
export interface Account {
  accountId: string;
  /** The user's claims released by these scopes (`openid` → sub, `profile`, `email`, `groups`). */
  claims(scopes: string[]): Record<string, unknown>;
}

export interface AccountStoreOptions {
  /** Where the sign-in counters live. */
  store: SealedStore;
  throttle?: Partial<LoginThrottleSettings>;
  /**
   * Cost of the stand-in hash checked for unknown usernames. Default: the parameters of the users' own
   * hashes, so that an unknown user costs what a wrong password costs.
   */
  dummyHashOptions?: PasswordHashOptions;
}

// Longer input is refused before any work: no user has such a name, no password needs to be longer.
const MAX_USERNAME_LENGTH = 128;
const MAX_PASSWORD_LENGTH = 1024;

/** The users of the users file: claims by subject, and password sign-in with throttling. */
export class AccountStore {
  private readonly byUsername = new Map<string, UserEntry>();
  private readonly bySub = new Map<string, UserEntry>();
  private readonly throttle: LoginThrottle;
  private readonly dummyHash: Promise<string>;

  private constructor(users: UserEntry[], options: AccountStoreOptions) {
    this.replaceUsers(users);
    this.throttle = new LoginThrottle(options.store, options.throttle);
    const params =
      options.dummyHashOptions ?? (users[0] ? hashOptionsOf(users[0].record.passwordHash) : undefined);
    // Computed now, in the background, so that the first unknown username is not slower than the rest.
    this.dummyHash = hashPassword(
      'not a password: checked for unknown users',
      params ?? PASSWORD_HASH_DEFAULTS,
    );
    this.dummyHash.catch(() => undefined);
  }

  /** Reads and validates a users file (YAML or JSON); throws UsersFileInvalid listing every problem. */
  static async load(path: string, options: AccountStoreOptions): Promise<AccountStore> {
    return AccountStore.create(loadUsers(path), options);
  }

  /** The store of users already read and validated. */
  static async create(users: UserEntry[], options: AccountStoreOptions): Promise<AccountStore> {
    const accounts = new AccountStore(users, options);
    await accounts.dummyHash;
    return accounts;
  }

  /** Same as {@link load} with the file's content already parsed (`{ users: { <username>: … } }`). */
  static fromObject(raw: unknown, options: AccountStoreOptions): AccountStore {
    return new AccountStore(loadUsers({ path: 'users', parsed: raw }), options);
  }

  /**
   * Serves these users from now on (the users file changed). Sign-ins already past the look-up finish with
   * the user they found; tokens already issued live out their lifetime.
   */
  replaceUsers(users: UserEntry[]): void {
    this.byUsername.clear();
    this.bySub.clear();
    for (const user of users) {
      this.byUsername.set(user.username, user);
      this.bySub.set(user.sub, user);
    }
  }

  /** Number of users. */
  get size(): number {
    return this.byUsername.size;
  }

  /** The account with this subject, or undefined (also for a disabled user: no new tokens for them). */
  findAccount(sub: string): Account | undefined {
    const user = this.bySub.get(sub);
    if (!user || user.record.disabled) return undefined;
    return { accountId: user.sub, claims: (scopes) => claimsOf(user, scopes) };
  }

  /**
   * Checks a username and password and returns the account id. Throws LoginThrottled when this address has
   * too many recent attempts, or too many failures for this username (before any hashing); a username with
   * many failures from anywhere waits first. LoginRefused otherwise.
   */
  async authenticate(username: string, password: string, ip: string): Promise<string> {
    const name = typeof username === 'string' ? username.normalize('NFKC').trim().toLowerCase() : '';
    const fits =
      name.length > 0 &&
      name.length <= MAX_USERNAME_LENGTH &&
      typeof password === 'string' &&
      password.length > 0 &&
      password.length <= MAX_PASSWORD_LENGTH;
    await this.throttle.admit(fits ? name : '(invalid)', typeof ip === 'string' ? ip : '');
    if (!fits) throw new LoginRefused();

    const user = this.byUsername.get(name);
    // Unknown users are checked against a stand-in hash: the same work, the same answer.
    const matches = await verifyPassword(user?.record.passwordHash ?? (await this.dummyHash), password);
    if (!user || !matches || user.record.disabled) throw new LoginRefused();
    await this.throttle.succeeded(name, ip);
    return user.sub;
  }
}

function claimsOf(user: UserEntry, scopes: string[]): Record<string, unknown> {
  const granted = new Set(scopes);
  const { record } = user;
  const claims: Record<string, unknown> = { sub: user.sub };
  if (granted.has('profile')) {
    for (const claim of PROFILE_CLAIMS) if (record[claim] !== undefined) claims[claim] = record[claim];
    claims.preferred_username ??= user.username;
  }
  if (granted.has('email') && record.email !== undefined) {
    claims.email = record.email;
    claims.email_verified = record.email_verified ?? false;
  }
  if (granted.has('groups')) claims.groups = [...record.groups];
  return claims;
}
