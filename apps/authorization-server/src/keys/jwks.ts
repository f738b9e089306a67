import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { statSync } from 'node:fs';
import { ArrayNotEmpty } from 'class-validator';
import { ConfigFileInvalid, isMapping, loadConfigFile } from '@cloakroom/config';
import type { ConfigFile, ConfigFileSource } from '@cloakroom/config';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { activationOf, signingKeyProblem } from './key-schedule.js';

/** Signing algorithms accepted for the provider's keys (all of them supported by oidc-provider). */
export const SIGNING_ALGS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

const CURVES: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521', EdDSA: 'Ed25519' };
const PUBLIC_PARTS: Record<string, string[]> = { RSA: ['n', 'e'], EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'] };
const PRIVATE_PARTS: Record<string, string[]> = {
  RSA: ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'],
  EC: ['crv', 'x', 'y', 'd'],
  OKP: ['crv', 'x', 'd'],
};

/** A private signing key as JWK, with its `kid` and `alg`. */
export interface PrivateJwk {
  kty: string;
  kid: string;
  alg: SigningAlg;
  use?: 'sig';
  /**
   * When the key may start signing: an ISO 8601 date and time with its zone (`2030-01-31T12:00:00Z`) or epoch
   * seconds. Until then it is only published, so that whoever verifies tokens has it before the first token it
   * signs. None: active from the start. A member of this private file only, never published.
   */
  activatesAt?: string | number;
  [member: string]: unknown;
}

/**
 * A private JWKS: every key is published; the one that signs is the key whose activation time is the latest one
 * passed (keys without one count as the oldest, and between equals the first in the file wins: without any
 * activation time, the first key signs). Older keys stay published so tokens they signed still verify.
 */
export interface PrivateJwks {
  keys: PrivateJwk[];
}

/** The JWKS file does not validate; lists every problem (never key material). */
export class JwksFileInvalid extends ConfigFileInvalid {
  override readonly name = 'JwksFileInvalid';
  constructor(path: string, problems: string[]) {
    super('JWKS', path, problems);
  }
}

/** A JWKS file: `keys`, each checked by the rules below (JWKs carry members no schema lists, so none is refused). */
class JwksFile {
  @ArrayNotEmpty({ message: 'must be a non-empty list of private JWKs' })
  keys!: unknown[];
}

const JWKS_FILE: ConfigFile<JwksFile> = {
  invalid: JwksFileInvalid,
  schema: JwksFile,
  // Private keys are JSON (RFC 7517), whatever the file is called.
  format: 'json',
  checks: (file) => {
    if (!Array.isArray(file.keys)) return [];
    const problems: string[] = [];
    const kids = new Set<string>();
    file.keys.forEach((key: unknown, index) => {
      const at = `keys[${index}]`;
      if (!isMapping(key)) {
        problems.push(`${at}: must be a JWK object`);
        return;
      }
      if (typeof key.kid !== 'string' || key.kid.length === 0) problems.push(`${at}.kid: required`);
      else if (kids.has(key.kid)) problems.push(`${at}.kid: ${key.kid} is used twice`);
      else kids.add(key.kid);
      problems.push(...keyProblems(key).map((problem) => `${at}${problem}`));
      if (key.activatesAt !== undefined && activationOf(key as PrivateJwk) === undefined) {
        const named = typeof key.kid === 'string' && key.kid ? ` (key ${key.kid})` : '';
        problems.push(`${at}.activatesAt${named}: ${ACTIVATES_AT_EXPECTED}`);
      }
    });
    return problems;
  },
};

const ACTIVATES_AT_EXPECTED =
  'must be an ISO 8601 date and time with its zone (2030-01-31T12:00:00Z) or epoch seconds';
/** No signing keys in production: keys made up at boot would not survive a restart or be shared. */
export class SigningKeysMissing extends Error {
  override readonly name = 'SigningKeysMissing';
  constructor(reason: string) {
    super(`${reason}: production needs a JWKS file (JWKS_FILE); create one with \`keys generate\``);
  }
}

/** Generates a private signing key; its `kid` is its RFC 7638 thumbprint. */
export async function generateJwk(alg: SigningAlg = 'RS256'): Promise<PrivateJwk> {
  if (!SIGNING_ALGS.includes(alg)) throw new TypeError(`unsupported signing algorithm ${alg}`);
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
    ...(alg.startsWith('RS') || alg.startsWith('PS') ? { modulusLength: 2048 } : {}),
  });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { ...jwk, kid, alg, use: 'sig' } as PrivateJwk;
}

/**
 * Loads a private JWKS (a path, or its content already parsed) and checks every key: kid (unique), supported alg
 * matching the key, private parts that fit the public ones. Throws JwksFileInvalid listing every problem.
 */
export function loadJwks(source: ConfigFileSource): PrivateJwks {
  return { keys: loadConfigFile(JWKS_FILE, source).keys as PrivateJwk[] };
}

/** Same as {@link loadJwks} with the file's content already parsed. */
export function validateJwks(raw: unknown, source = 'jwks'): PrivateJwks {
  return loadJwks({ path: source, parsed: raw });
}

function keyProblems(jwk: Record<string, unknown>): string[] {
  const alg = jwk.alg as SigningAlg;
  if (!SIGNING_ALGS.includes(alg)) return [`.alg: must be one of ${SIGNING_ALGS.join(', ')}`];
  if (jwk.use !== undefined && jwk.use !== 'sig') return ['.use: must be sig'];
  const kty = alg.startsWith('ES') ? 'EC' : alg === 'EdDSA' ? 'OKP' : 'RSA';
  if (jwk.kty !== kty) return [`.kty: ${alg} needs a ${kty} key`];
  if (CURVES[alg] && jwk.crv !== CURVES[alg]) return [`.crv: ${alg} needs curve ${CURVES[alg]}`];
  const missing = PRIVATE_PARTS[kty].filter((part) => typeof jwk[part] !== 'string');
  if (missing.length > 0) return [`: not a private key (missing ${missing.join(', ')})`];
  if (kty === 'RSA' && Buffer.from(jwk.n as string, 'base64url').length < 256) {
    return [': RSA keys must have at least 2048 bits'];
  }
  const publicParts = Object.fromEntries(PUBLIC_PARTS[kty].map((part) => [part, jwk[part]]));
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: { kty, ...publicParts } as never, format: 'jwk' });
  } catch {
    return [': the key material cannot be read'];
  }
  const mismatch = ': the private key does not match its public parts';
  try {
    // What the private key signs must verify with the published public parts: catches mixed-up keys.
    // Newer OpenSSL builds refuse such a key on import already; older ones only fail the verification.
    const privateKey = createPrivateKey({ key: jwk as never, format: 'jwk' });
    const probe = Buffer.from('cloakroom key check');
    const digest = kty === 'OKP' ? null : 'sha256';
    if (!verify(digest, probe, publicKey, sign(digest, probe, privateKey))) return [mismatch];
  } catch {
    return [mismatch];
  }
  return [];
}

/** The public half of a JWKS, as published at jwks_uri. */
export function publicJwks(jwks: PrivateJwks): { keys: Record<string, unknown>[] } {
  return {
    keys: jwks.keys.map((jwk) => {
      const derived = createPublicKey(createPrivateKey({ key: jwk as never, format: 'jwk' })).export({
        format: 'jwk',
      });
      return { ...derived, kid: jwk.kid, alg: jwk.alg, use: 'sig' };
    }),
  };
}

export interface SigningKeys {
  jwks: PrivateJwks;
  /** True when the keys were made up in memory (development without a file): log a loud warning. */
  generated: boolean;
  /** Things an operator should fix, e.g. a key file other users can read. */
  warnings: string[];
}

/**
 * The provider's signing keys: the JWKS file when there is one (with a key active now: JwksFileInvalid otherwise); in development without one, a key
 * generated in memory (tokens stop verifying at the next restart); in production, SigningKeysMissing.
 */
export async function resolveSigningKeys(options: {
  path?: string;
  production: boolean;
}): Promise<SigningKeys> {
  const { path, production } = options;
  const exists = path !== undefined && path !== '' && statOrUndefined(path) !== undefined;
  if (!exists) {
    if (production)
      throw new SigningKeysMissing(path ? `JWKS file ${path} does not exist` : 'JWKS_FILE is not set');
    const warnings = path ? [`JWKS file ${path} does not exist`] : [];
    return { jwks: { keys: [await generateJwk('RS256')] }, generated: true, warnings };
  }
  const jwks = loadJwks(path);
  const cannotSign = signingKeyProblem(jwks, Date.now());
  if (cannotSign) throw new JwksFileInvalid(path, [cannotSign]);
  const warnings: string[] = [];
  const exposure =
    process.platform === 'win32'
      ? undefined
      : keyFileExposure(statOrUndefined(path)!, { gid: process.getgid!() });
  if (exposure) {
    warnings.push(
      `JWKS file ${path} is ${exposure}: chmod 600 it (in Kubernetes, mount its Secret with defaultMode 0440 and fsGroup set to this process's group)`,
    );
  }
  return { jwks, generated: false, warnings };
}

/**
 * Who besides its owner can read a key file, or undefined when no one. Its group may read it when that group is
 * this process's own: a Kubernetes Secret volume is root-owned, so a non-root process reads it through the
 * pod's fsGroup (defaultMode 0440); any other group, or other users, is an exposure.
 */
export function keyFileExposure(
  file: { mode: number; gid: number },
  reader: { gid: number },
): string | undefined {
  const mode = file.mode & 0o777;
  const octal = `0${mode.toString(8)}`;
  if ((mode & 0o007) !== 0) return `readable by other users (mode ${octal})`;
  if ((mode & 0o070) !== 0 && file.gid !== reader.gid) {
    return `readable by group ${file.gid} (mode ${octal}), not only by this process (group ${reader.gid})`;
  }
  return undefined;
}

function statOrUndefined(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
