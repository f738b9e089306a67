import { readFile } from 'node:fs/promises';
import { JwksFileInvalid, SIGNING_ALGS, generateJwk, validateJwks } from '../keys/jwks.js';
import type { PrivateJwks, SigningAlg } from '../keys/jwks.js';
import { writeFileAtomically } from './atomic-file.js';
import { CommandFailed, UsageError } from './cli.io.js';
import type { CliIo } from './cli.io.js';
import { parse } from './users.command.js';

export async function keysCommand(args: string[], io: CliIo): Promise<void> {
  const [action, ...rest] = args;
  if (action === 'generate') return generate(rest, io);
  if (action === 'rotate') return rotate(rest, io);
  if (action === 'remove') return remove(rest, io);
  if (action === 'list') return list(rest, io);
  throw new UsageError(`unknown keys command ${action ?? '(none)'}: use generate, rotate, remove or list`);
}

async function generate(args: string[], io: CliIo): Promise<void> {
  const { values } = parse(
    args,
    { file: { type: 'string' }, alg: { type: 'string' }, force: { type: 'boolean' } },
    0,
  );
  const path = fileOf(values.file, io);
  if (!values.force && (await readJwks(path).catch(() => undefined)) !== undefined) {
    throw new CommandFailed(`${path} already holds keys: use \`keys rotate\`, or --force to replace them`);
  }
  const key = await generateJwk(algOf(values.alg));
  await writeJwks(path, { keys: [key] });
  io.stdout(`wrote ${path} with signing key ${key.kid} (${key.alg})\n`);
}

/** A new key in front signs from now on; the old ones stay published until tokens they signed expire. */
async function rotate(args: string[], io: CliIo): Promise<void> {
  const { values } = parse(args, { file: { type: 'string' }, alg: { type: 'string' } }, 0);
  const path = fileOf(values.file, io);
  const jwks = await readJwks(path);
  const key = await generateJwk(algOf(values.alg ?? jwks.keys[0].alg));
  await writeJwks(path, { keys: [key, ...jwks.keys] });
  io.stdout(`new signing key ${key.kid} (${key.alg}); ${jwks.keys.length} older key(s) still published\n`);
}

async function remove(args: string[], io: CliIo): Promise<void> {
  const { values, positionals } = parse(args, { file: { type: 'string' } }, 1);
  const path = fileOf(values.file, io);
  const jwks = await readJwks(path);
  const kid = positionals[0];
  const keys = jwks.keys.filter((key) => key.kid !== kid);
  if (keys.length === jwks.keys.length) throw new CommandFailed(`no key ${kid} in ${path}`);
  if (keys.length === 0) throw new CommandFailed(`${kid} is the only key: generate or rotate first`);
  await writeJwks(path, { keys });
  const signer = jwks.keys[0].kid === kid ? `; ${keys[0].kid} signs from now on` : '';
  io.stdout(`removed key ${kid} from ${path}${signer}\n`);
}

async function list(args: string[], io: CliIo): Promise<void> {
  const { values } = parse(args, { file: { type: 'string' } }, 0);
  const jwks = await readJwks(fileOf(values.file, io));
  jwks.keys.forEach((key, index) =>
    io.stdout(`${key.kid}\t${key.alg}\t${index === 0 ? 'signing' : 'published'}\n`),
  );
}

async function readJwks(path: string): Promise<PrivateJwks> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new CommandFailed(
      `${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'not JSON'})`,
    );
  }
  try {
    return validateJwks(raw, path);
  } catch (error) {
    if (error instanceof JwksFileInvalid) throw new CommandFailed(error.message);
    throw error;
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
