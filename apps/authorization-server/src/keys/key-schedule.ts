import type { PrivateJwk, PrivateJwks } from './jwks.js';

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * When a key may start signing, in milliseconds since the epoch: undefined for a key without `activatesAt` and for
 * one whose `activatesAt` is not a date (a problem of the file). A date without a zone is refused rather than
 * read in whatever zone the server runs in, and so is one that does not exist (February 30th).
 */
export function activationOf(jwk: PrivateJwk): number | undefined {
  const value = jwk.activatesAt;
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 && value < 253402300800 ? value * 1000 : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const match = ISO_DATE_TIME.exec(value);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((part) => Number(part ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const exists =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  const milliseconds = Date.parse(value);
  return exists && Number.isFinite(milliseconds) ? milliseconds : undefined;
}

/** Which key of a JWKS signs at a given moment, and which are only published. */
export interface KeySchedule {
  /** The key that signs: the active one with the latest activation time. None when no key is active yet. */
  signing?: PrivateJwk;
  /** Keys whose activation time has passed (or that have none), newest first: the signing key, then older ones. */
  active: PrivateJwk[];
  /** Keys published but not active yet, soonest first: they never sign before their time. */
  pending: PrivateJwk[];
  /** The earliest activation still ahead, in milliseconds since the epoch: when this schedule changes by itself. */
  nextActivationMs?: number;
}

/**
 * The keys in service at `nowMs`. A key without an activation time counts as the oldest, and between keys activated
 * at the same moment the first in the file wins, so a file without activation times signs with its first key.
 */
export function keySchedule(jwks: PrivateJwks, nowMs: number): KeySchedule {
  const timed = jwks.keys.map((key, position) => ({
    key,
    position,
    at: activationOf(key) ?? Number.NEGATIVE_INFINITY,
  }));
  const active = timed
    .filter((entry) => entry.at <= nowMs)
    .sort((a, b) => b.at - a.at || a.position - b.position)
    .map((entry) => entry.key);
  const pending = timed
    .filter((entry) => entry.at > nowMs)
    .sort((a, b) => a.at - b.at || a.position - b.position);
  return {
    signing: active[0],
    active,
    pending: pending.map((entry) => entry.key),
    nextActivationMs: pending[0]?.at,
  };
}

/** Why a JWKS cannot sign at `nowMs` (no key active yet), or undefined when it can. */
export function signingKeyProblem(jwks: PrivateJwks, nowMs: number): string | undefined {
  const schedule = keySchedule(jwks, nowMs);
  if (schedule.signing) return undefined;
  const first = schedule.pending[0];
  const when = first ? `: the first, ${first.kid}, activates at ${isoSeconds(activationOf(first)!)}` : '';
  return `no key is active yet, so nothing can sign${when}`;
}

/** A moment as ISO 8601 in UTC, to the second (`2030-01-31T12:00:00Z`): how the file and the logs write it. */
export function isoSeconds(milliseconds: number): string {
  return new Date(milliseconds).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
