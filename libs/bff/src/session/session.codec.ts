import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** Who is logged in, as the demo page and `/auth/session` show it. Never a token. */
export interface SessionUser {
  sub: string;
  name?: string;
  email?: string;
  /** Absent when the groups are not in the access token (distributed claims). */
  groupsCount?: number;
}

/** Everything a gateway session holds. Times are epoch seconds. */
export interface SessionRecord {
  accessToken: string;
  accessExpiresAt: number;
  refreshToken?: string;
  idToken?: string;
  sid?: string;
  scope?: string;
  user: SessionUser;
  createdAt: number;
  /** Creation time in milliseconds, when known more precisely than createdAt. */
  createdAtMs?: number;
  /** The absolute session limit: no refresh or activity extends a session past it. */
  absoluteExpiresAt: number;
  /** The session's public id (not a secret: it names the session in the user's list of sessions). */
  id?: string;
  /** Where the session was opened, as the user would recognise it (`Firefox on Linux`). */
  device?: string;
  refreshExpiresAt?: number;
  /**
   * Access tokens for other resources than the login's (RFC 8707), by resource indicator: obtained from the
   * refresh token when a route for that resource is first used, each refreshed on its own.
   */
  resourceTokens?: Record<string, ResourceToken>;
}

/** An access token for one resource. Times are epoch seconds. */
export interface ResourceToken {
  accessToken: string;
  accessExpiresAt: number;
}

/** Keys (hashes) of the session's OIDC `sid` and `sub`, for cache invalidation by back-channel logout. */
export interface IndexKeys {
  sidKey: string;
  subKey: string;
}

/** What the proxy needs on every request, decoded without touching the rest of the session. */
export interface HotSession extends IndexKeys {
  /** `Bearer <access token>`, ready to forward: visible ASCII only, safe in a header field as it is. */
  authorization: string;
  accessExpiresAt: number;
  absoluteExpiresAt: number;
  /** Epoch milliseconds (back-channel logout compares it with the time a sid or sub was ended). */
  createdAtMs: number;
}

/** The stored bytes are not a session of a known format. Treated like an absent session. */
export class SessionEncodingInvalid extends Error {
  override readonly name = 'SessionEncodingInvalid';
  constructor() {
    super('session bytes are not in a known format');
  }
}

/*
 * The session codec, in one file so it can be tuned. Layout (version 1), all integers big-endian:
 *
 *   u8 version | u32 accessExpiresAt | u32 absoluteExpiresAt | f64 createdAt (ms) | u8 n, sidKey | u8 n, subKey
 *   u32 n, access section | rest section
 *
 * The access section is everything the hot path reads: a compact JWS is kept as its decoded header, its raw
 * signature and its raw-deflated payload JSON (a big token is mostly a list of groups, which deflates well;
 * base64 text would not). Anything else is kept verbatim. The rest section (refresh token, id token, user,
 * sid, times) is one raw-deflate stream whose dictionary is the access payload, so claims repeated in the id
 * token cost almost nothing; only login, refresh, logout and `/auth/session` inflate it.
 */
const VERSION = 1;
const HEAD_BYTES = 1 + 4 + 4 + 8;
const RAW = 0;
const JWS = 1;

interface PackedToken {
  kind: typeof RAW | typeof JWS;
  raw?: Buffer;
  header?: Buffer;
  payload?: Buffer;
  signature?: Buffer;
}

interface RestMeta {
  s?: string;
  sc?: string;
  u: SessionUser;
  c: number;
  x?: number;
  /** Resource tokens: indicator → [token, expiry]. */
  r?: Record<string, [string, number]>;
  i?: string;
  d?: string;
}

/** Serialises a session; the result is sealed by the store as bytes. */
export function encodeSession(record: SessionRecord, keys: IndexKeys): Buffer {
  const access = pack(record.accessToken);
  const dictionary = access.kind === JWS ? access.payload : undefined;
  const accessSection =
    access.kind === JWS
      ? Buffer.concat([
          Buffer.of(JWS),
          u16(access.header!.length),
          access.header!,
          u16(access.signature!.length),
          access.signature!,
          deflateRawSync(access.payload!),
        ])
      : Buffer.concat([Buffer.of(RAW), access.raw!]);
  const meta: RestMeta = {
    s: record.sid,
    sc: record.scope,
    u: record.user,
    c: record.createdAt,
    x: record.refreshExpiresAt,
    ...(record.id ? { i: record.id } : {}),
    ...(record.device ? { d: record.device } : {}),
    ...(record.resourceTokens && Object.keys(record.resourceTokens).length > 0
      ? {
          r: Object.fromEntries(
            Object.entries(record.resourceTokens).map(([resource, t]) => [
              resource,
              [t.accessToken, clampSeconds(t.accessExpiresAt)],
            ]),
          ),
        }
      : {}),
  };
  const restPlain = Buffer.concat([
    chunk(Buffer.from(JSON.stringify(meta))),
    chunk(packPlain(record.refreshToken)),
    chunk(packPlain(record.idToken)),
  ]);
  const rest = deflateRawSync(restPlain, dictionary ? { dictionary } : {});
  const sidKey = Buffer.from(keys.sidKey, 'latin1');
  const subKey = Buffer.from(keys.subKey, 'latin1');
  if (sidKey.length > 255 || subKey.length > 255) throw new TypeError('index keys must be short');
  const head = Buffer.alloc(HEAD_BYTES);
  head[0] = VERSION;
  head.writeUInt32BE(clampSeconds(record.accessExpiresAt), 1);
  head.writeUInt32BE(clampSeconds(record.absoluteExpiresAt), 5);
  head.writeDoubleBE(record.createdAtMs ?? record.createdAt * 1000, 9);
  return Buffer.concat([
    head,
    Buffer.of(sidKey.length),
    sidKey,
    Buffer.of(subKey.length),
    subKey,
    u32(accessSection.length),
    accessSection,
    rest,
  ]);
}

/** The hot part only: one inflate of the access payload, no JSON parsing. */
export function decodeHotSession(bytes: Buffer): HotSession {
  return readHot(bytes).hot;
}

/** The whole session (login, refresh, logout and session info only). */
export function decodeSession(bytes: Buffer): SessionRecord {
  const { hot, accessPayload, restOffset } = readHot(bytes);
  try {
    const restPlain = inflateRawSync(
      bytes.subarray(restOffset),
      accessPayload ? { dictionary: accessPayload } : {},
    );
    const [metaBytes, refreshBytes, idBytes] = readChunks(restPlain, 3);
    const meta = JSON.parse(metaBytes.toString('utf8')) as RestMeta;
    return {
      accessToken: hot.authorization.slice(BEARER.length),
      accessExpiresAt: hot.accessExpiresAt,
      absoluteExpiresAt: hot.absoluteExpiresAt,
      refreshToken: unpackPlain(refreshBytes),
      idToken: unpackPlain(idBytes),
      sid: meta.s,
      scope: meta.sc,
      user: meta.u,
      createdAt: meta.c,
      createdAtMs: hot.createdAtMs,
      refreshExpiresAt: meta.x,
      ...(typeof meta.i === 'string' ? { id: meta.i } : {}),
      ...(typeof meta.d === 'string' ? { device: meta.d } : {}),
      ...(meta.r ? { resourceTokens: resourceTokensOf(meta.r) } : {}),
    };
  } catch (error) {
    if (error instanceof SessionEncodingInvalid) throw error;
    throw new SessionEncodingInvalid();
  }
}

const BEARER = 'Bearer ';
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

function resourceTokensOf(stored: Record<string, [string, number]>): Record<string, ResourceToken> {
  const out: Record<string, ResourceToken> = {};
  for (const [resource, entry] of Object.entries(stored)) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') {
      throw new SessionEncodingInvalid();
    }
    out[resource] = { accessToken: entry[0], accessExpiresAt: entry[1] };
  }
  return out;
}

/**
 * The hot session for another resource's token: the session's own fields with that token to forward.
 * Undefined when the session holds no token for it, or one that is not visible ASCII.
 */
export function hotSessionFor(
  hot: HotSession,
  record: SessionRecord,
  resource: string,
): HotSession | undefined {
  const token = record.resourceTokens?.[resource];
  if (!token || !VISIBLE_ASCII.test(token.accessToken)) return undefined;
  return { ...hot, authorization: BEARER + token.accessToken, accessExpiresAt: token.accessExpiresAt };
}

function readHot(bytes: Buffer): { hot: HotSession; accessPayload?: Buffer; restOffset: number } {
  try {
    if (bytes.length < HEAD_BYTES + 6 || bytes[0] !== VERSION) throw new SessionEncodingInvalid();
    const accessExpiresAt = bytes.readUInt32BE(1);
    const absoluteExpiresAt = bytes.readUInt32BE(5);
    const createdAtMs = bytes.readDoubleBE(9);
    let offset = HEAD_BYTES;
    const sidLength = bytes[offset++];
    const sidKey = bytes.toString('latin1', offset, offset + sidLength);
    offset += sidLength;
    const subLength = bytes[offset++];
    const subKey = bytes.toString('latin1', offset, offset + subLength);
    offset += subLength;
    const accessLength = bytes.readUInt32BE(offset);
    offset += 4;
    const section = bytes.subarray(offset, offset + accessLength);
    if (section.length !== accessLength || accessLength === 0) throw new SessionEncodingInvalid();
    let token: string;
    let accessPayload: Buffer | undefined;
    if (section[0] === JWS) {
      let at = 1;
      const headerLength = section.readUInt16BE(at);
      const header = section.subarray((at += 2), (at += headerLength));
      const signatureLength = section.readUInt16BE(at);
      const signature = section.subarray((at += 2), (at += signatureLength));
      accessPayload = inflateRawSync(section.subarray(at));
      token = `${header.toString('base64url')}.${accessPayload.toString('base64url')}.${signature.toString('base64url')}`;
    } else if (section[0] === RAW) {
      token = section.toString('utf8', 1);
      // Forwarded as a header field as it is: only visible ASCII (RFC 6750 b64token is narrower still).
      if (!VISIBLE_ASCII.test(token)) throw new SessionEncodingInvalid();
    } else {
      throw new SessionEncodingInvalid();
    }
    return {
      hot: { authorization: BEARER + token, accessExpiresAt, absoluteExpiresAt, createdAtMs, sidKey, subKey },
      accessPayload,
      restOffset: offset + accessLength,
    };
  } catch (error) {
    if (error instanceof SessionEncodingInvalid) throw error;
    throw new SessionEncodingInvalid();
  }
}

/** Splits a compact JWS whose segments are canonical base64url; anything else stays verbatim. */
function pack(token: string): PackedToken {
  const parts = token.split('.');
  if (parts.length === 3 && parts.every((part) => part.length > 0)) {
    const [header, payload, signature] = parts.map((part) => Buffer.from(part, 'base64url'));
    const canonical =
      header.toString('base64url') === parts[0] &&
      payload.toString('base64url') === parts[1] &&
      signature.toString('base64url') === parts[2];
    if (canonical && header.length <= 0xffff && signature.length <= 0xffff) {
      return { kind: JWS, header, payload, signature };
    }
  }
  return { kind: RAW, raw: Buffer.from(token, 'utf8') };
}

/** A token inside the rest section (which is deflated as a whole), or an empty chunk when absent. */
function packPlain(token: string | undefined): Buffer {
  if (token === undefined) return Buffer.alloc(0);
  const packed = pack(token);
  if (packed.kind === RAW) return Buffer.concat([Buffer.of(RAW), packed.raw!]);
  return Buffer.concat([
    Buffer.of(JWS),
    u16(packed.header!.length),
    packed.header!,
    u16(packed.signature!.length),
    packed.signature!,
    packed.payload!,
  ]);
}

function unpackPlain(bytes: Buffer): string | undefined {
  if (bytes.length === 0) return undefined;
  if (bytes[0] === RAW) return bytes.toString('utf8', 1);
  if (bytes[0] !== JWS) throw new SessionEncodingInvalid();
  let at = 1;
  const headerLength = bytes.readUInt16BE(at);
  const header = bytes.subarray((at += 2), (at += headerLength));
  const signatureLength = bytes.readUInt16BE(at);
  const signature = bytes.subarray((at += 2), (at += signatureLength));
  const payload = bytes.subarray(at);
  return `${header.toString('base64url')}.${payload.toString('base64url')}.${signature.toString('base64url')}`;
}

function chunk(bytes: Buffer): Buffer {
  return Buffer.concat([u32(bytes.length), bytes]);
}

function readChunks(bytes: Buffer, count: number): Buffer[] {
  const out: Buffer[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const length = bytes.readUInt32BE(offset);
    offset += 4;
    if (offset + length > bytes.length) throw new SessionEncodingInvalid();
    out.push(bytes.subarray(offset, offset + length));
    offset += length;
  }
  return out;
}

function u16(n: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16BE(n);
  return out;
}

function u32(n: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(n);
  return out;
}

function clampSeconds(seconds: number): number {
  return Math.max(0, Math.min(0xffffffff, Math.floor(seconds)));
}
