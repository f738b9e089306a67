import { hash, parseOptions, verify } from '@node-rs/argon2';

/** argon2id cost parameters (memory in KiB). */
export interface PasswordHashOptions {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/**
 * The parameters written into new hashes: RFC 9106 / OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane),
 * spelled out so that a library upgrade cannot silently change them.
 */
export const PASSWORD_HASH_DEFAULTS: PasswordHashOptions = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

/** A PHC string of argon2id version 19, as `hash-password` writes it. */
export const ARGON2ID_PHC =
  /^\$argon2id\$v=19\$m=\d{1,10},t=\d{1,10},p=\d{1,3}\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}$/;

/** Hashes a password with argon2id into a PHC string. */
export async function hashPassword(
  password: string,
  options: PasswordHashOptions = PASSWORD_HASH_DEFAULTS,
): Promise<string> {
  // The library's default algorithm is argon2id; checked rather than assumed.
  const phc = await hash(password, { ...options, outputLen: 32 });
  if (!ARGON2ID_PHC.test(phc)) throw new Error('the argon2 library did not produce an argon2id hash');
  return phc;
}

/** True when the password matches the PHC string; false for a mismatch or an unreadable hash. */
export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  try {
    return await verify(phc, password);
  } catch {
    return false;
  }
}

/** The cost parameters a PHC string was made with. */
export function hashOptionsOf(phc: string): PasswordHashOptions {
  const { memoryCost, timeCost, parallelism } = parseOptions(phc);
  return { memoryCost, timeCost, parallelism };
}
