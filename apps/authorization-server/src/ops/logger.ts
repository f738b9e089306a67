import { pino } from 'pino';
import type { Logger } from 'pino';
import type { LoggerService } from '@nestjs/common';

/** Anything that could carry a credential is redacted, wherever it appears in a log object. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.authorization',
  '*.cookie',
  '*.password',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.id_token_hint',
  '*.client_secret',
  '*.code',
  '*.code_verifier',
  '*.logout_token',
];

export function createLogger(name: string, level: string): Logger {
  return pino({ name, level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } });
}

/**
 * One line per request: method, route-like path (ids and query strings never logged: they carry codes,
 * states and token hints), status, duration.
 */
export function accessLog(logger: Logger) {
  return (
    req: { method: string; path: string },
    res: { statusCode: number; on(event: 'finish', listener: () => void): unknown },
    next: () => void,
  ): void => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      logger.info(
        {
          method: req.method,
          path: req.path.replace(/\/[A-Za-z0-9_-]{16,}/g, '/:id'),
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'request',
      );
    });
    next();
  };
}

/** Nest's own messages through the same JSON logger. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}
