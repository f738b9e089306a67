import {
  SIGNING_ALGS,
  activationOf,
  generateJwk,
  isoSeconds,
  keySchedule,
  loadJwks,
  signingKeyProblem,
} from '@cloakroom/authorization-server/directory-files';
import type { PrivateJwk, PrivateJwks, SigningAlg } from '@cloakroom/authorization-server/directory-files';
import { writeFileAtomically } from './atomic-file.js';
import { CommandFailed, UsageError } from './cli.io.js';
import type { CliIo } from './cli.io.js';
import { parseExactly } from './cli.options.js';

/** `keys generate|rotate|remove|list`: the authorization server's signing keys, a private JWKS file. */
export async function keysCommand(args: string[], io: CliIo): Promise<void> {
  const [action, ...rest] = args;
  if (action === 'generate') return generate(rest, io);
  if (action === 'rotate') return rotate(rest, io);
  if (action === 'remove') return remove(rest, io);
  if (action === 'list') return list(rest, io);
  throw new UsageError(`unknown keys command ${action ?? '(none)'}: use generate, rotate, remove or list`);
}

async function generate(args: string[], io: CliIo): Promise<void> {
  const { values } = parseExactly(args, { file: 'string', alg: 'string', force: 'boolean' }, 0);
  const path = fileOf(values.file, io);
  if (!values.force && holdsKeys(path)) {
    throw new CommandFailed(`${path} already holds keys: use \`keys rotate\`, or --force to replace them`);
  }
  const key = await generateJwk(algOf(values.alg));
  await writeJwks(path, { keys: [key] });
  io.stdout(`wrote ${path} with signing key ${key.kid} (${key.alg})\n`);
}

/**
 * How long a rotated key is only published before it signs, by default. It must outlast the time every verifier
 * takes to hold the new key: each server instance reads the file within seconds (a mounted Kubernetes Secret is
 * updated within a minute or two), and a verifier that meets an unknown key fetches the JWKS again at most once
 * per its own interval (30 s for the resource-server library, JWKS_MIN_REFETCH_SECONDS, as for jose by default;
 * up to 5 minutes for some other libraries). Ten minutes covers these with room to spare; a longer delay only
 * postpones the rotation.
 */
const DEFAULT_ACTIVATION_DELAY = '10m';
const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const LONGEST_DELAY_SECONDS = 365 * 86400;

/**
 * A new key in front, published at once and signing from its activation time on (`--activate-in`, 10 minutes by
 * default); the old ones stay published until tokens they signed expire.
 */
async function rotate(args: string[], io: CliIo): Promise<void> {
  const { values } = parseExactly(args, { file: 'string', alg: 'string', 'activate-in': 'string' }, 0);
  const path = fileOf(values.file, io);
  const delaySeconds = delayOf(values['activate-in'] ?? DEFAULT_ACTIVATION_DELAY);
  const jwks = loadJwks(path);
  const now = Date.now();
  const signing = keySchedule(jwks, now).signing;
  const key = await generateJwk(algOf(values.alg ?? (signing ?? jwks.keys[0]).alg));
  // To the second, never earlier than asked.
  const activatesAt = isoSeconds(
    delaySeconds === 0 ? now : Math.ceil((now + delaySeconds * 1000) / 1000) * 1000,
  );
  await writeJwks(path, { keys: [{ ...key, activatesAt }, ...jwks.keys] });
  const older = `${jwks.keys.length} older key(s) still published`;
  if (delaySeconds === 0) {
    io.stdout(
      `new signing key ${key.kid} (${key.alg}), signing at once; ${older}\n` +
        'note: an API that fetched the JWKS shortly before rejects its tokens until it fetches the JWKS again; --activate-in avoids that\n',
    );
    return;
  }
  const until = signing ? `; until then ${signing.kid} signs` : '';
  io.stdout(
    `new key ${key.kid} (${key.alg}) published, signs from ${activatesAt} (in ${spoken(delaySeconds)})${until}; ${older}\n` +
      'an authorization server running on this file publishes it within seconds and switches at that time (no restart)\n',
  );
}

async function remove(args: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parseRemove(args);
  const path = fileOf(values.file, io);
  const jwks = loadJwks(path);
  const kid = positionals[0];
  const keys = jwks.keys.filter((key) => key.kid !== kid);
  if (keys.length === jwks.keys.length) throw new CommandFailed(`no key ${kid} in ${path}`);
  if (keys.length === 0) throw new CommandFailed(`${kid} is the only key: generate or rotate first`);
  const now = Date.now();
  const before = keySchedule(jwks, now).signing;
  if (before?.kid === kid && signingKeyProblem({ keys }, now)) {
    throw new CommandFailed(
      `${kid} is the only active key: nothing would sign until another key is active (keys list)`,
    );
  }
  await writeJwks(path, { keys });
  const after = keySchedule({ keys }, now).signing;
  const signer = before?.kid === kid && after ? `; ${after.kid} signs from now on` : '';
  io.stdout(`removed key ${kid} from ${path}${signer}\n`);
}

/** A kid is a thumbprint in base64url: one in 64 starts with `-`, and is read as options unless it follows `--`. */
function parseRemove(args: string[]) {
  try {
    return parseExactly(args, { file: 'string' }, 1);
  } catch (error) {
    if (error instanceof UsageError && /^unknown option -[^-]/.test(error.message)) {
      throw new UsageError(`${error.message}; a kid that starts with - goes after --: keys remove -- <kid>`);
    }
    throw error;
  }
}

async function list(args: string[], io: CliIo): Promise<void> {
  const { values } = parseExactly(args, { file: 'string' }, 0);
  const jwks = loadJwks(fileOf(values.file, io));
  const now = Date.now();
  const signing = keySchedule(jwks, now).signing;
  for (const key of jwks.keys) io.stdout(`${key.kid}\t${key.alg}\t${stateOf(key, signing, now)}\n`);
  const cannotSign = signingKeyProblem(jwks, now);
  if (cannotSign) io.stderr(`warning: ${cannotSign}; the authorization server refuses such a file\n`);
}

/** `signing`, `published` (an older key) or `published, activates at …` (a key that does not sign yet). */
function stateOf(key: PrivateJwk, signing: PrivateJwk | undefined, now: number): string {
  if (key === signing) return 'signing';
  const activation = activationOf(key);
  if (activation === undefined || activation <= now) return 'published';
  const seconds = Math.ceil((activation - now) / 1000);
  return `published, activates at ${isoSeconds(activation)} (in ${spoken(seconds)})`;
}

/** `--activate-in`: `0` (now), or a whole number of seconds, minutes, hours or days (`30s`, `10m`, `1h`, `2d`). */
function delayOf(option: unknown): number {
  const match = /^(\d{1,9})([smhd])$/.exec(String(option));
  const seconds = option === '0' ? 0 : match ? Number(match[1]) * DURATION_UNITS[match[2]!]! : undefined;
  if (seconds === undefined || seconds > LONGEST_DELAY_SECONDS) {
    throw new UsageError('--activate-in takes 0 (now) or a duration up to 365d: 30s, 10m, 1h, 2d');
  }
  return seconds;
}

/** A duration for people, in its two largest units: `10m`, `9m 58s`, `1h 30m`, `2d`. */
function spoken(seconds: number): string {
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of Object.entries(DURATION_UNITS).reverse()) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.slice(0, 2).join(' ') || '0s';
}

/** A file that loads as a JWKS; one that does not (missing, invalid) may be replaced by `generate`. */
function holdsKeys(path: string): boolean {
  try {
    loadJwks(path);
    return true;
  } catch {
    return false;
  }
}

function writeJwks(path: string, jwks: PrivateJwks): Promise<void> {
  // Private keys: readable by the owner only, whatever the umask.
  return writeFileAtomically(path, `${JSON.stringify(jwks, null, 2)}\n`, 0o600, true);
}

function fileOf(option: unknown, io: CliIo): string {
  const path = typeof option === 'string' && option !== '' ? option : io.env.JWKS_FILE;
  if (!path) throw new UsageError('give --file <path> or set JWKS_FILE');
  return path;
}

function algOf(option: unknown): SigningAlg {
  const alg = (option ?? 'RS256') as SigningAlg;
  if (!SIGNING_ALGS.includes(alg)) throw new UsageError(`--alg must be one of ${SIGNING_ALGS.join(', ')}`);
  return alg;
}
