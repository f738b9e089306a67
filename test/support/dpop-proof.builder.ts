import { createHash, randomUUID } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWK } from 'jose';

export interface DpopKey {
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** RFC 7638 thumbprint: the `cnf.jkt` of tokens bound to this key. */
  jkt: string;
}

export async function dpopKey(alg = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { alg, privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk) };
}

export interface ProofOptions {
  htm: string;
  htu: string;
  /** The access token the proof goes with (its hash becomes `ath`); omit for no `ath`. */
  token?: string;
  iat?: number;
  jti?: string;
  typ?: string;
  /** Header `jwk` to put instead of the key's public one (a private key, someone else's key). */
  jwk?: JWK;
  claims?: Record<string, unknown>;
}

/** A DPoP proof (RFC 9449 §4.2) signed by `key`, every field overridable to build bad ones. */
export function dpopProof(key: DpopKey, options: ProofOptions): Promise<string> {
  const ath = options.token && createHash('sha256').update(options.token).digest('base64url');
  return new SignJWT({
    htm: options.htm,
    htu: options.htu,
    jti: options.jti ?? randomUUID(),
    iat: options.iat ?? Math.floor(Date.now() / 1000),
    ...(ath ? { ath } : {}),
    ...options.claims,
  })
    .setProtectedHeader({ alg: key.alg, typ: options.typ ?? 'dpop+jwt', jwk: options.jwk ?? key.publicJwk })
    .sign(key.privateKey);
}
