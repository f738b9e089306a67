import { Catch } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { respond } from './error-answers.js';

/** Typed errors of the gateway's own endpoints become HTTP answers through the one table the proxy uses too. */
@Catch()
export class BffExceptionFilter implements ExceptionFilter {
  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    respond(http.getRequest<IncomingMessage>(), http.getResponse<ServerResponse>(), error);
  }
}
