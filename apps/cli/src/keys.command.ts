import { SIGNING_ALGS, generateJwk, loadJwks } from '@cloakroom/authorization-server/directory-files';
import type { PrivateJwks, SigningAlg } from '@cloakroom/authorization-server/directory-files';
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

/** A new key in front signs from now on; the old ones stay published until tokens they signed expire. */
async function rotate(args: string[], io: CliIo): Promise<void> {
  const { values } = parseExactly(args, { file: 'string', alg: 'string' }, 0);
  const path = fileOf(values.file, io);
  const jwks = loadJwks(path);
  const key = await generateJwk(algOf(values.alg ?? jwks.keys[0].alg));
  await writeJwks(path, { keys: [key, ...jwks.keys] });
  io.stdout(`new signing key ${key.kid} (${key.alg}); ${jwks.keys.length} older key(s) still published\n`);
}

async function remove(args: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parseRemove(args);
  const path = fileOf(values.file, io);
  const jwks = loadJwks(path);
  const kid = positionals[0];
  const keys = jwks.keys.filter((key) => key.kid !== kid);
  if (keys.length === jwks.keys.length) throw new CommandFailed(`no key ${kid} in ${path}`);
  if (keys.length === 0) throw new CommandFailed(`${kid} is the only key: generate or rotate first`);
  await writeJwks(path, { keys });
  const signer = jwks.keys[0].kid === kid ? `; ${keys[0].kid} signs from now on` : '';
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
  jwks.keys.forEach((key, index) =>
    io.stdout(`${key.kid}\t${key.alg}\t${index === 0 ? 'signing' : 'published'}\n`),
  );
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
