import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';

/** The levels `LOG_LEVEL` accepts in every app: pino's own. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Field names that can carry a credential: HTTP headers (authorization, cookies, DPoP proofs), form and
 * token-endpoint parameters, and our own secrets. `state` and `nonce` are not secrets and stay readable.
 */
export const REDACTED_FIELDS = [
  'authorization',
  'Authorization',
  'proxy-authorization',
  'cookie',
  'Cookie',
  'set-cookie',
  'Set-Cookie',
  'dpop',
  'DPoP',
  'password',
  'passwordHash',
  'secret',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'id_token_hint',
  'logout_token',
  'client_secret',
  'client_assertion',
  'code',
  'code_verifier',
  'device_code',
  'user_code',
  'ticket',
  'pepper',
];

/**
 * Each field redacted at the top of a log object and up to two levels down (`req.headers.cookie`,
 * `body.password`). Redaction is paid on every log call, so the list is kept to names that can hold a credential.
 */
export const REDACTED_PATHS = REDACTED_FIELDS.flatMap((field) => {
  const step = /^[A-Za-z_$][\w$]*$/.test(field) ? `.${field}` : `["${field}"]`;
  return [step.startsWith('.') ? field : step, `*${step}`, `*.*${step}`];
});

export const REDACTED = '[redacted]';

/** JSON lines on stdout (or `destination`), named after the service, with credentials redacted. */
export function createLogger(service: string, level: string, destination?: DestinationStream): Logger {
  const options = { name: service, level, redact: { paths: REDACTED_PATHS, censor: REDACTED } };
  return destination ? pino(options, destination) : pino(options);
}
