import { Writable } from 'node:stream';
import { createLogger } from '@cloakroom/ops';

/** A logger of `createLogger`'s making whose JSON lines are kept in memory, for tests. */
export function capturedLogger(level = 'info') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger('test-service', level, stream);
  return { lines, logger, entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}
