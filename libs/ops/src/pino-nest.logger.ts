import type { LoggerService } from '@nestjs/common';
import type { Logger } from 'pino';

/**
 * Nest's own messages (startup, route mapping, unhandled exceptions) as JSON lines of the app's logger, with
 * its redaction. Nest's routine `log` messages are debug: at `info` an app logs its requests, not its wiring.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.#write('debug', message, { context });
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.#write('error', message, { context, trace });
  }
  warn(message: unknown, context?: string): void {
    this.#write('warn', message, { context });
  }
  debug(message: unknown, context?: string): void {
    this.#write('debug', message, { context });
  }
  verbose(message: unknown, context?: string): void {
    this.#write('trace', message, { context });
  }
  fatal(message: unknown, context?: string): void {
    this.#write('fatal', message, { context });
  }

  #write(level: 'fatal' | 'error' | 'warn' | 'debug' | 'trace', message: unknown, fields: object): void {
    if (message instanceof Error) this.logger[level]({ ...fields, err: message }, message.message);
    else this.logger[level](fields, String(message));
  }
}
