import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { REDACTED_PATHS, accessLog } from './logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: pino({ redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, stream) };
}

describe('authorization server logs', () => {
  it('redacts credentials wherever they appear in a log object', () => {
    const { lines, logger } = capture();
    logger.info({
      req: { headers: { authorization: 'Bearer eyJsecret', cookie: '_session=abc' } },
      body: { password: 'wonderland', client_secret: 's3cret', refresh_token: 'rt-value', code: 'the-code' },
    });
    const line = lines.join('');
    for (const secret of ['eyJsecret', '_session=abc', 'wonderland', 's3cret', 'rt-value', 'the-code']) {
      expect(line).not.toContain(secret);
    }
    expect(line).toContain('[redacted]');
  });

  it('logs requests without query strings or ids in the path', () => {
    const { lines, logger } = capture();
    const listeners: Array<() => void> = [];
    accessLog(logger)(
      { method: 'GET', path: '/interaction/Zk3q2V6d9xYbLmN0pQr7sT' },
      { statusCode: 200, on: (_event, listener) => listeners.push(listener) },
      () => undefined,
    );
    listeners.forEach((listener) => listener());
    const entry = JSON.parse(lines[0]) as { path: string; status: number };
    expect(entry).toMatchObject({ path: '/interaction/:id', status: 200 });
  });
});
