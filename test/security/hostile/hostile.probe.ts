import type { SeededGenerator } from './seeded.generator.js';
import type { Material } from './hostile.material.js';

/** One hostile request, and what its answer may be. */
export interface Probe {
  target: string;
  origin: 'gateway' | 'as' | 'demo';
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** Statuses that are acceptable beyond "not 5xx" (e.g. a forged session must get 401, never 200). */
  expect?: number[];
  /** No 2xx may answer this probe (a forged credential must not get in, whatever else happens). */
  deny?: boolean;
  /** A short description for the failure report (never a whole secret). */
  note: string;
}

/** Makes one probe of a target from a generator's stream. */
export type ProbeGenerator = (g: SeededGenerator, m: Material) => Probe;

export const FORM = 'application/x-www-form-urlencoded';
export const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;
export const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
/** base64url of a value's JSON: a JWT header or payload, as given. */
export const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
