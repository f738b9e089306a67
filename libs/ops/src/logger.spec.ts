import { describe, expect, it } from '@jest/globals';
import { LOG_LEVELS, REDACTED, createLogger } from './logger.js';
import { PinoNestLogger } from './pino-nest.logger.js';
import { capturedLogger } from '../../../test/support/captured-logger.fixture.js';

describe(createLogger.name, () => {
  it('writes JSON lines named after the service, at the level asked', () => {
    const { logger, entries } = capturedLogger('warn');
    logger.info('not written');
    logger.warn({ user: 'alice' }, 'written');
    expect(entries()).toEqual([
      expect.objectContaining({ level: 40, name: 'test-service', user: 'alice', msg: 'written' }),
    ]);
  });

  it.each(LOG_LEVELS)('accepts LOG_LEVEL=%s', (level) => {
    expect(createLogger('test-service', level).level).toBe(level);
  });

  it('prints [redacted] for tokens, cookies, passwords and secrets, at the top and nested', () => {
    const { lines, logger, entries } = capturedLogger();
    logger.info(
      {
        token: 'tok-top',
        password: 'pw-top',
        cookie: 'cloakroom=ticket-top',
        req: {
          headers: {
            authorization: 'Bearer eyJ-header',
            cookie: 'cloakroom=ticket-header',
            dpop: 'eyJ-proof',
          },
        },
        res: { headers: { 'set-cookie': ['cloakroom=ticket-set; HttpOnly'] } },
        body: {
          password: 'wonderland',
          client_secret: 's3cret',
          refresh_token: 'rt-value',
          code: 'the-code',
          code_verifier: 'the-verifier',
          id_token_hint: 'eyJ-hint',
          logout_token: 'eyJ-logout',
          state: 'state-is-fine',
        },
        headers: { Authorization: 'Basic dXNlcjpwYXNz' },
      },
      'something happened',
    );
    const line = lines.join('\n');
    for (const secret of [
      'tok-top',
      'pw-top',
      'ticket-top',
      'eyJ-header',
      'ticket-header',
      'eyJ-proof',
      'ticket-set',
      'wonderland',
      's3cret',
      'rt-value',
      'the-code',
      'the-verifier',
      'eyJ-hint',
      'eyJ-logout',
      'dXNlcjpwYXNz',
    ]) {
      expect(line).not.toContain(secret);
    }
    expect(entries()[0]).toMatchObject({
      token: REDACTED,
      password: REDACTED,
      req: { headers: { authorization: REDACTED, cookie: REDACTED } },
      res: { headers: { 'set-cookie': REDACTED } },
      body: { password: REDACTED, code: REDACTED, state: 'state-is-fine' },
      msg: 'something happened',
    });
  });
});

describe(PinoNestLogger.name, () => {
  it("writes Nest's messages as JSON lines: log as debug, errors with their context and trace", () => {
    const { logger, entries } = capturedLogger('debug');
    const nest = new PinoNestLogger(logger);
    nest.log('Mapped {/healthz, GET} route', 'RouterExplorer');
    nest.error('boom', 'Error: boom\n    at here', 'ExceptionsHandler');
    nest.warn(new Error('careful'), 'Context');
    expect(entries()).toEqual([
      expect.objectContaining({ level: 20, context: 'RouterExplorer', msg: 'Mapped {/healthz, GET} route' }),
      expect.objectContaining({
        level: 50,
        context: 'ExceptionsHandler',
        trace: 'Error: boom\n    at here',
        msg: 'boom',
      }),
      expect.objectContaining({
        level: 40,
        context: 'Context',
        msg: 'careful',
        err: expect.objectContaining({ message: 'careful' }),
      }),
    ]);
  });
});
